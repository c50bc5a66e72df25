import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { after, before, describe, it } from "node:test";
import { isGitwardError } from "../../../src/core/errors.ts";
import type { ClientSettings } from "../../../src/providers/kubernetes/client.ts";
import { KubeClient } from "../../../src/providers/kubernetes/client.ts";
import { KubeApiError } from "../../../src/providers/kubernetes/errors.ts";
import { defaultApplyPatchOptions } from "../../../src/providers/kubernetes/object-requests.ts";
import type { ObjectLocation } from "../../../src/providers/kubernetes/resource-path.ts";
import { FakeClock } from "../../support/fake-clock.ts";
import { recorded } from "./recordings.ts";
import type { Handler, TestServer } from "./test-server.ts";
import { json, startServer, status, writeTestKubeconfig } from "./test-server.ts";

const token = "gitward-client-test-token-8c1f2a9e";
const configMap: ObjectLocation = { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: "demo", name: "app" };
const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app", namespace: "demo" }, data: { a: "1" } };

let dir: string;
const open: { server: TestServer; client: KubeClient }[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gitward-kube-client-"));
});
after(async () => {
  for (const o of open) {
    o.client.close();
    await o.server.close();
  }
  await rm(dir, { recursive: true, force: true });
});

/** A server with the handler and a client connected to it through a kubeconfig, on a fake clock. */
async function setup(handler: Handler, settings: Partial<ClientSettings> = {}, extra: { onWarning?: (w: string) => void } = {}) {
  const server = await startServer(handler);
  const path = join(dir, `kubeconfig-${open.length}.json`);
  await writeTestKubeconfig(path, [{ name: "test", server: server.url, token }]);
  const clock = new FakeClock();
  const client = await KubeClient.connect({ kubeconfigPath: path, settings, clock, random: () => 0.5, ...(extra.onWarning ? { onWarning: extra.onWarning } : {}) });
  open.push({ server, client });
  return { server, client, clock };
}

/** A handler that answers each request with the next entry of a script. */
function scripted(script: ((res: Parameters<Handler>[1], raw: Parameters<Handler>[2]) => void)[]): Handler {
  let i = 0;
  return (_req, res, raw) => {
    const step = script[Math.min(i++, script.length - 1)]!;
    step(res, raw);
  };
}

const ok = (res: Parameters<Handler>[1]) => json(res, 200, cm);
const rejection = async (p: Promise<unknown>): Promise<KubeApiError> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof KubeApiError, `expected a KubeApiError, got ${inspect(err)}`);
  return err;
};

describe("KubeClient requests", () => {
  it("GETs an object with the kubeconfig's token, JSON accept and the gitward user agent", async () => {
    const { server, client } = await setup(scripted([ok]));
    assert.deepEqual(await client.get(configMap), cm);
    const req = server.requests[0]!;
    assert.equal(req.url, "/api/v1/namespaces/demo/configmaps/app");
    assert.equal(req.headers.authorization, `Bearer ${token}`);
    assert.equal(req.headers.accept, "application/json");
    assert.equal(req.headers["user-agent"], "gitward");
    assert.equal(client.context, "test");
    assert.equal(client.server, server.url);
  });

  it("retries a 429 after its Retry-After", async () => {
    const { server, client, clock } = await setup(scripted([(res) => json(res, 429, status(429, "TooManyRequests", "slow down"), { "Retry-After": "2" }), ok]));
    assert.deepEqual(await client.get(configMap), cm);
    assert.equal(server.requests.length, 2);
    assert.deepEqual(clock.sleeps, [2000]);
  });

  it("retries a 503, then succeeds", async () => {
    const { server, client, clock } = await setup(scripted([(res) => json(res, 503, status(503, "ServiceUnavailable", "down")), ok]));
    assert.deepEqual(await client.get(configMap), cm);
    assert.equal(server.requests.length, 2);
    assert.deepEqual(clock.sleeps, [125]);
  });

  it("retries a connection reset, then succeeds", async () => {
    const { server, client } = await setup(scripted([(_res, raw) => raw.socket.destroy(), ok]));
    assert.deepEqual(await client.get(configMap), cm);
    assert.equal(server.requests.length, 2);
  });

  it("retries a request that timed out", async () => {
    const { server, client } = await setup(scripted([() => undefined, ok]), { requestTimeoutMs: 100 });
    assert.deepEqual(await client.get(configMap), cm);
    assert.equal(server.requests.length, 2);
  });

  it("does not retry a 422, and names the object", async () => {
    const invalid = status(422, "Invalid", "ConfigMap \"app\" is invalid", { name: "app", kind: "ConfigMap", causes: [{ reason: "FieldValueInvalid", message: "Invalid value: \"x\"", field: "data" }] });
    const { server, client } = await setup(scripted([(res) => json(res, 422, invalid), ok]));
    const err = await rejection(client.applyPatch(configMap, cm, defaultApplyPatchOptions()));
    assert.equal(err.kind, "Invalid");
    assert.equal(err.message, 'ConfigMap/demo/app: apply failed (Invalid): data: Invalid value: "x"');
    assert.equal(server.requests.length, 1);
  });

  it("does not retry a create after a 500", async () => {
    const { server, client } = await setup(scripted([(res) => json(res, 500, status(500, "InternalError", "etcd hiccup")), ok]));
    const err = await rejection(client.create(configMap, cm));
    assert.equal(err.kind, "InternalError");
    assert.equal(server.requests.length, 1);
  });

  it("gives up after the policy's attempts", async () => {
    const { server, client } = await setup(scripted([(res) => json(res, 503, status(503, "ServiceUnavailable", "down"))]), {
      retry: { maxAttempts: 3, maxElapsedMs: 60_000, baseDelayMs: 10, maxDelayMs: 100 },
    });
    const err = await rejection(client.get(configMap));
    assert.equal(err.kind, "ServiceUnavailable");
    assert.equal(server.requests.length, 3);
  });

  it("keeps at most `parallelism` requests in flight", async () => {
    const slow: Handler = async (_req, res) => {
      await new Promise((r) => setTimeout(r, 20));
      ok(res);
    };
    const { server, client } = await setup(slow, { parallelism: 3 });
    await Promise.all(Array.from({ length: 12 }, () => client.get(configMap)));
    assert.equal(server.requests.length, 12);
    assert.equal(server.maxInFlight(), 3);
  });

  it("paces requests with the QPS limiter once the burst is spent", async () => {
    const { server, client, clock } = await setup(scripted([ok]), { rateLimit: { qps: 10, burst: 2 } });
    for (let i = 0; i < 5; i++) await client.get(configMap);
    assert.equal(server.requests.length, 5);
    assert.deepEqual(clock.sleeps, [100, 100, 100]);
  });

  it("stops at once when the caller aborts", async () => {
    const { server, client } = await setup(scripted([() => undefined]));
    const controller = new AbortController();
    const pending = client.get(configMap, controller.signal).then(() => undefined, (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error("caller gave up"));
    assert.equal(((await pending) as Error).message, "caller gave up");
    assert.equal(server.requests.length, 1);
  });

  it("reports Warning headers", async () => {
    const warning = recorded("04-errors/38-list-deprecated-api-warning-header.json").response.headers["warning"]!;
    const warnings: string[] = [];
    const { client } = await setup(scripted([(res) => json(res, 200, { kind: "PodDisruptionBudgetList", apiVersion: "policy/v1beta1", metadata: {}, items: [] }, { Warning: warning })]), {}, { onWarning: (w) => warnings.push(w) });
    await client.list({ group: "policy", version: "v1beta1", resource: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespace: "demo" });
    assert.deepEqual(warnings, ["policy/v1beta1 PodDisruptionBudget is deprecated in v1.21+, unavailable in v1.25+; use policy/v1 PodDisruptionBudget"]);
  });
});

describe("KubeClient verbs", () => {
  it("lists every page, following continue, and fills in kind and apiVersion", async () => {
    const pages = ["30-list-configmaps-limit2-page1", "31-list-configmaps-limit2-page2", "32-list-configmaps-limit2-page3-last"].map((f) => recorded(`04-errors/${f}.json`));
    const { server, client } = await setup((req, res) => {
      const page = pages.find((p) => new URL(p.request.url, "http://x").searchParams.get("continue") === req.query.get("continue"));
      json(res, 200, page!.response.body);
    });
    const list = await client.list({ ...configMap, namespace: "gitward-errors" }, { labelSelector: "gitward.dev/stack=list-demo", limit: 2 });
    assert.deepEqual(list.items.map((i) => (i["metadata"] as { name: string }).name), ["item-1", "item-2", "item-3", "item-4", "item-5"]);
    assert.ok(list.items.every((i) => i["kind"] === "ConfigMap" && i["apiVersion"] === "v1"));
    assert.equal(list.resourceVersion, "399");
    assert.deepEqual(server.requests.map((r) => r.url), pages.map((p) => p.request.url));
  });

  it("stops after maxPages and says the list is truncated", async () => {
    const pages = ["30-list-configmaps-limit2-page1", "31-list-configmaps-limit2-page2", "32-list-configmaps-limit2-page3-last"].map((f) => recorded(`04-errors/${f}.json`));
    const { server, client } = await setup((req, res) => {
      const page = pages.find((p) => new URL(p.request.url, "http://x").searchParams.get("continue") === req.query.get("continue"));
      json(res, 200, page!.response.body);
    });
    const list = await client.list({ ...configMap, namespace: "gitward-errors" }, { labelSelector: "gitward.dev/stack=list-demo", limit: 2, maxPages: 1 });
    assert.deepEqual(list.items.map((i) => (i["metadata"] as { name: string }).name), ["item-1", "item-2"]);
    assert.equal(list.truncated, true);
    assert.equal(server.requests.length, 1);
  });

  it("starts a list over once when its continue token expires", async () => {
    let calls = 0;
    const { client } = await setup((req, res) => {
      calls++;
      if (req.query.get("continue") === "t1" && calls === 2) return json(res, 410, status(410, "Expired", "The provided continue parameter is too old"));
      if (req.query.get("continue") === "t1") return json(res, 200, { kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion: "9" }, items: [{ metadata: { name: "b" } }] });
      json(res, 200, { kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion: "9", continue: "t1" }, items: [{ metadata: { name: "a" } }] });
    });
    const list = await client.list({ ...configMap }, { limit: 1 });
    assert.deepEqual(list.items.map((i) => (i["metadata"] as { name: string }).name), ["a", "b"]);
    assert.equal(calls, 4);
  });

  it("applies with the apply-patch content type, field manager, force and dry run", async () => {
    const created = recorded("03-apply/27-apply-configmap-dryrun-create-201.json").response.body;
    const { server, client } = await setup(scripted([(res) => json(res, 201, created)]));
    const result = await client.applyPatch(configMap, cm, { ...defaultApplyPatchOptions(), force: true, dryRun: true });
    assert.equal(result.created, true);
    assert.deepEqual(result.object, created);
    const req = server.requests[0]!;
    assert.equal(req.method, "PATCH");
    assert.equal(req.url, "/api/v1/namespaces/demo/configmaps/app?fieldManager=gitward&force=true&dryRun=All");
    assert.equal(req.headers["content-type"], "application/apply-patch+yaml");
    assert.deepEqual(JSON.parse(req.body), cm);
  });

  it("reports an apply conflict with the manager and field", async () => {
    const conflict = recorded("03-apply/13-apply-configmap-conflict-with-kubectl-edit-409.json").response.body;
    const { server, client } = await setup(scripted([(res) => json(res, 409, conflict)]));
    const err = await rejection(client.applyPatch(configMap, cm, defaultApplyPatchOptions()));
    assert.equal(err.message, 'ConfigMap/demo/app: conflict with "kubectl-edit" (using v1): .data.color');
    assert.equal(server.requests[0]!.url, "/api/v1/namespaces/demo/configmaps/app?fieldManager=gitward");
  });

  it("creates with POST to the collection", async () => {
    const { server, client } = await setup(scripted([(res) => json(res, 201, cm)]));
    assert.deepEqual(await client.create(configMap, cm, { fieldManager: "gitward" }), cm);
    assert.equal(server.requests[0]!.method, "POST");
    assert.equal(server.requests[0]!.url, "/api/v1/namespaces/demo/configmaps?fieldManager=gitward");
  });

  it("deletes with DeleteOptions, and reads the three outcomes", async () => {
    const foreground = recorded("04-errors/43-delete-deployment-foreground-body.json").response.body;
    const success = recorded("04-errors/45-delete-deployment-background-body.json").response.body;
    const missing = recorded("04-errors/42-delete-missing-configmap-404.json").response.body;
    const { server, client } = await setup(scripted([(res) => json(res, 200, success), (res) => json(res, 200, foreground), (res) => json(res, 404, missing)]));
    const deleted = await client.delete(configMap, { propagationPolicy: "Background", preconditions: { uid: "u-1" } });
    assert.deepEqual(deleted, { outcome: "deleted" });
    assert.deepEqual(JSON.parse(server.requests[0]!.body), { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background", preconditions: { uid: "u-1" } });
    const deleting = await client.delete(configMap, { propagationPolicy: "Foreground", dryRun: true });
    assert.equal(deleting.outcome, "deleting");
    assert.deepEqual(JSON.parse(server.requests[1]!.body).dryRun, ["All"]);
    assert.deepEqual(await client.delete(configMap), { outcome: "not-found" });
  });

  it("sends raw requests and returns the answer", async () => {
    const { server, client } = await setup(scripted([(res) => json(res, 200, { gitVersion: "v1.24.0" })]));
    const res = await client.request({ method: "GET", path: "/version", query: { a: "1", b: undefined } });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { gitVersion: "v1.24.0" });
    assert.equal(server.requests[0]!.url, "/version?a=1");
  });
});

describe("KubeClient credentials and kubeconfig", () => {
  const assertNoToken = (err: unknown): void => {
    const shown = [String(err), inspect(err, { depth: 5 }), JSON.stringify(err)].join("\n");
    assert.ok(!shown.includes(token), shown);
    assert.ok(!shown.includes(token.slice(8)), shown);
  };

  it("never shows the token in a refused-credentials error", async () => {
    const { client } = await setup(scripted([(res) => json(res, 401, status(401, "Unauthorized", `Unauthorized ${token}`))]));
    const err = await rejection(client.get(configMap));
    assert.equal(err.kind, "Unauthorized");
    assert.match(err.hint ?? "", /credentials/);
    assertNoToken(err);
  });

  it("never shows the token in a connection error", async () => {
    const { server, client } = await setup(scripted([ok]), { retry: { maxAttempts: 1, maxElapsedMs: 0, baseDelayMs: 0, maxDelayMs: 0 } });
    await server.close();
    const err = await rejection(client.get(configMap));
    assert.equal(err.kind, "ConnectionRefused");
    assert.match(err.message, /^ConfigMap\/demo\/app: get failed \(ConnectionRefused\): connection refused \(ECONNREFUSED\)/);
    assertNoToken(err);
  });

  it("uses the named context", async () => {
    const a = await startServer((_r, res) => json(res, 200, { from: "a" }));
    const b = await startServer((_r, res) => json(res, 200, { from: "b" }));
    const path = join(dir, "two-contexts.json");
    await writeTestKubeconfig(path, [{ name: "a", server: a.url, token }, { name: "b", server: b.url, token: `${token}-b` }]);
    const client = await KubeClient.connect({ kubeconfigPath: path, context: "b" });
    try {
      assert.equal(client.context, "b");
      assert.deepEqual(await client.getJson("/version"), { from: "b" });
      assert.equal(b.requests[0]!.headers.authorization, `Bearer ${token}-b`);
    } finally {
      client.close();
      await a.close();
      await b.close();
    }
  });

  it("fails clearly on a kubeconfig it cannot read", async () => {
    const missing = join(dir, "does-not-exist.yaml");
    const err = await KubeClient.connect({ kubeconfigPath: missing }).then(() => undefined, (e: unknown) => e);
    assert.ok(isGitwardError(err));
    assert.equal(err.message, `cannot load kubeconfig from ${missing} (ENOENT)`);
  });

  it("names the known contexts when the context is unknown", async () => {
    const path = join(dir, "one-context.json");
    await writeTestKubeconfig(path, [{ name: "only", server: "http://127.0.0.1:1", token }]);
    const err = await KubeClient.connect({ kubeconfigPath: path, context: "nope" }).then(() => undefined, (e: unknown) => e);
    assert.ok(isGitwardError(err));
    assert.match(err.message, /context nope not found .*contexts: only/);
  });

  it("reads $KUBECONFIG, and in-cluster settings when KUBERNETES_SERVICE_HOST is set", async () => {
    const saved = { KUBECONFIG: process.env["KUBECONFIG"], HOST: process.env["KUBERNETES_SERVICE_HOST"], PORT: process.env["KUBERNETES_SERVICE_PORT"] };
    const restore = (name: string, value: string | undefined): void => {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    };
    try {
      const path = join(dir, "env.json");
      await writeTestKubeconfig(path, [{ name: "from-env", server: "http://127.0.0.1:1", token }]);
      process.env["KUBECONFIG"] = path;
      process.env["KUBERNETES_SERVICE_HOST"] = "10.0.0.1";
      process.env["KUBERNETES_SERVICE_PORT"] = "443";
      const fromEnv = await KubeClient.connect();
      assert.equal(fromEnv.context, "from-env");
      fromEnv.close();
      delete process.env["KUBECONFIG"];
      // Outside a pod the ServiceAccount token is absent: ~/.kube/config if there is one, else an error naming the token file.
      const result = await KubeClient.connect().then(
        (c) => {
          c.close();
          return c.context;
        },
        (e: unknown) => e,
      );
      if (existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token")) assert.equal(result, "inClusterContext");
      else if (typeof result === "string") assert.notEqual(result, "inClusterContext");
      else {
        assert.ok(isGitwardError(result));
        assert.match(result.message, /^no kubeconfig found: .*in a pod, but no service-account token at \/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token/);
      }
    } finally {
      restore("KUBECONFIG", saved.KUBECONFIG);
      restore("KUBERNETES_SERVICE_HOST", saved.HOST);
      restore("KUBERNETES_SERVICE_PORT", saved.PORT);
    }
  });
});
