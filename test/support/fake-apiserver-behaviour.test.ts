import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FakeApiServer, FakeApiServerOptions } from "./fake-apiserver.ts";
import { readExchange, startFakeApiServer } from "./fake-apiserver.ts";

// Behaviours of the fake that the recorded sequences do not show on their own: controllers over
// time, cross-namespace lists, and the fault injection and request log tests rely on.

const skip = process.env["GITWARD_TEST_KUBECONFIG"] !== undefined && process.env["GITWARD_TEST_KUBECONFIG"] !== "";

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
}

/** The parts of objects and lists these tests read. */
interface Body {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly uid: string;
    readonly generation?: number;
    readonly finalizers?: string[];
    readonly ownerReferences?: unknown[];
    readonly annotations?: Record<string, string>;
    readonly managedFields?: { readonly manager: string; readonly fieldsV1: Record<string, unknown> }[];
    readonly continue?: string;
    readonly remainingItemCount?: number;
  };
  readonly spec: { readonly replicas?: number; readonly template: { readonly spec: { readonly containers: { readonly name: string }[] } } };
  readonly status: { readonly observedGeneration?: number; readonly availableReplicas?: number; readonly conditions: Condition[] | null };
  readonly items: Body[];
  readonly groups: { readonly name: string }[];
  readonly details: { readonly causes: { readonly field: string }[] };
  readonly message: string;
}

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Body;
}

async function call(fake: FakeApiServer, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Reply> {
  const headers: Record<string, string> = { Authorization: `Bearer ${fake.token}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = contentType;
  const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const res = await fetch(`${fake.url}${path}`, { method, headers, ...(text === undefined ? {} : { body: text }) });
  const raw = await res.text();
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // text answers (404 page not found) stay text
  }
  return { status: res.status, headers: res.headers, body: parsed as Body };
}

const applyYaml = (fake: FakeApiServer, path: string, yaml: string, query = "fieldManager=gitward") =>
  call(fake, "PATCH", `${path}?${query}`, yaml, "application/apply-patch+yaml");
const namespace = (fake: FakeApiServer, name: string) => applyYaml(fake, `/api/v1/namespaces/${name}`, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`);
const configMap = (fake: FakeApiServer, ns: string, name: string, extra = "") =>
  applyYaml(fake, `/api/v1/namespaces/${ns}/configmaps/${name}`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n${extra}`);
const deploymentYaml = (ns: string, name: string, replicas: number, image = "nginx:1.25") =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels:\n      app: ${name}\n` +
  `  template:\n    metadata:\n      labels:\n        app: ${name}\n    spec:\n      containers:\n      - name: main\n        image: ${image}\n`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` passes or a second has gone by. */
async function eventually(check: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 1000;
  for (;;) {
    try {
      return await check();
    } catch (err: unknown) {
      if (Date.now() > deadline) throw err;
      await sleep(20);
    }
  }
}

function withFake(opts: FakeApiServerOptions, body: (fake: () => FakeApiServer) => void): void {
  let fake: FakeApiServer;
  before(async () => {
    fake = await startFakeApiServer(opts);
  });
  after(async () => {
    assert.deepEqual(fake.controllerErrors, []);
    await fake.close();
  });
  body(() => fake);
}

describe("fake API server objects", { skip }, () => {
  withFake({}, (fake) => {
    it("starts with the namespaces of a fresh cluster", async () => {
      const list = await call(fake(), "GET", "/api/v1/namespaces");
      assert.deepEqual(list.body.items.map((n) => n.metadata.name), ["default", "kube-node-lease", "kube-public", "kube-system"]);
    });

    it("puts a default ServiceAccount and the kube-root-ca.crt ConfigMap in every new namespace", async () => {
      assert.equal((await namespace(fake(), "fresh")).status, 201);
      const sa = await call(fake(), "GET", "/api/v1/namespaces/fresh/serviceaccounts");
      assert.deepEqual(sa.body.items.map((i) => i.metadata.name), ["default"]);
      const cm = await call(fake(), "GET", "/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt");
      assert.equal(cm.body.metadata.managedFields![0]!.manager, "kube-controller-manager");
    });

    it("reports a create in a missing namespace as the namespace not found", async () => {
      const res = await configMap(fake(), "nowhere", "x");
      assert.equal(res.status, 404);
      assert.deepEqual(res.body.details, { name: "nowhere", kind: "namespaces" });
    });

    it("lists across namespaces with label selectors, including set-based ones", async () => {
      await namespace(fake(), "team-a");
      await namespace(fake(), "team-b");
      for (const [ns, tier] of [["team-a", "web"], ["team-b", "web"], ["team-b", "db"]] as const) {
        await applyYaml(fake(), `/apis/apps/v1/namespaces/${ns}/deployments/${tier}`, deploymentYaml(ns, tier, 0).replace("metadata:\n  name", `metadata:\n  labels:\n    tier: ${tier}\n  name`));
      }
      const names = async (selector: string) =>
        (await call(fake(), "GET", `/apis/apps/v1/deployments?labelSelector=${encodeURIComponent(selector)}`)).body.items.map((d) => `${d.metadata.namespace ?? ""}/${d.metadata.name}`);
      assert.deepEqual(await names("tier==web"), ["team-a/web", "team-b/web"]);
      assert.deepEqual(await names("tier notin (web)"), ["team-b/db"]);
      assert.deepEqual(await names("tier,tier!=db"), ["team-a/web", "team-b/web"]);
      assert.deepEqual(await names("!tier"), []);
    });

    it("pages a cross-namespace list with continue tokens keyed by namespace/name", async () => {
      const first = await call(fake(), "GET", "/apis/apps/v1/deployments?limit=2");
      assert.equal(first.body.metadata.remainingItemCount, 1);
      const start = (JSON.parse(Buffer.from(first.body.metadata.continue ?? "", "base64url").toString()) as { start: string }).start;
      assert.equal(start, "team-b/db\u0000");
      const second = await call(fake(), "GET", `/apis/apps/v1/deployments?limit=2&continue=${first.body.metadata.continue}`);
      assert.deepEqual(second.body.items.map((d) => d.metadata.name), ["web"]);
      assert.equal(second.body.metadata.continue, undefined);
    });

    it("adds the deprecation Warning header to deprecated group versions", async () => {
      const recorded = await readExchange("04-errors/38-list-deprecated-api-warning-header.json");
      const res = await call(fake(), "GET", "/apis/policy/v1beta1/namespaces/default/poddisruptionbudgets");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("warning"), recorded.response.headers["warning"]);
      assert.equal((await call(fake(), "GET", "/apis/policy/v1/namespaces/default/poddisruptionbudgets")).headers.get("warning"), null);
    });

    it("names every conflicting field when an apply conflicts on several", async () => {
      await namespace(fake(), "conflicts");
      await configMap(fake(), "conflicts", "shared", 'data:\n  a: "1"\n  b: "1"\n');
      const res = await applyYaml(fake(), "/api/v1/namespaces/conflicts/configmaps/shared", 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  a: "2"\n  b: "2"\n', "fieldManager=other");
      assert.equal(res.status, 409);
      assert.equal(res.body.message, 'Apply failed with 2 conflicts: conflicts with "gitward":\n- .data.a\n- .data.b');
      assert.deepEqual(res.body.details.causes.map((c) => c.field), [".data.a", ".data.b"]);
    });

    it("removes a list item the applier alone owned and no longer sends", async () => {
      const path = "/apis/apps/v1/namespaces/conflicts/deployments/two";
      const one = deploymentYaml("conflicts", "two", 1);
      await applyYaml(fake(), path, `${one}      - name: sidecar\n        image: busybox\n`);
      const res = await applyYaml(fake(), path, one);
      assert.deepEqual(res.body.spec.template.spec.containers.map((c) => c.name), ["main"]);
      const apply = res.body.metadata.managedFields!.find((e) => e.manager === "gitward")!;
      const containers = (apply.fieldsV1 as { "f:spec": { "f:template": { "f:spec": { "f:containers": object } } } })["f:spec"]["f:template"]["f:spec"]["f:containers"];
      assert.deepEqual(Object.keys(containers), ['k:{"name":"main"}']);
    });

    it("writes status through the status subresource without bumping generation", async () => {
      const path = "/apis/apps/v1/namespaces/conflicts/deployments/two";
      // The fake's deployment controller writes status too: a PUT carrying the resourceVersion
      // read may meet a newer one (409 Conflict, as a real API server answers); read again, as clients do.
      let live = (await call(fake(), "GET", path)).body;
      let res = await call(fake(), "PUT", `${path}/status`, { ...live, spec: { ...live.spec, replicas: 5 }, status: { observedGeneration: 9 } });
      for (let attempt = 0; res.status === 409 && attempt < 5; attempt++) {
        live = (await call(fake(), "GET", path)).body;
        res = await call(fake(), "PUT", `${path}/status`, { ...live, spec: { ...live.spec, replicas: 5 }, status: { observedGeneration: 9 } });
      }
      assert.equal(res.status, 200);
      assert.equal(res.body.spec.replicas, 1, "spec is not written through /status");
      assert.equal(res.body.status.observedGeneration, 9);
      assert.equal(res.body.metadata.generation, live.metadata.generation);
    });

    it("answers an apply with generation ahead of observedGeneration until the controller catches up", async () => {
      const path = "/apis/apps/v1/namespaces/conflicts/deployments/roll";
      await applyYaml(fake(), path, deploymentYaml("conflicts", "roll", 2));
      await eventually(async () => assert.equal((await call(fake(), "GET", path)).body.status.observedGeneration, 1));
      const res = await applyYaml(fake(), path, deploymentYaml("conflicts", "roll", 2, "nginx:1.26"));
      assert.equal(res.body.metadata.generation, 2);
      assert.equal(res.body.status.observedGeneration, 1);
      await eventually(async () => {
        const d = (await call(fake(), "GET", path)).body;
        assert.equal(d.status.observedGeneration, 2);
        assert.equal(d.metadata.annotations?.["deployment.kubernetes.io/revision"], "2");
        assert.deepEqual((d.status.conditions ?? []).map((c) => `${c.type}=${c.status}`), ["Available=False", "Progressing=True"]);
      });
    });

    it("reports a zero-replica Deployment available, with no replica counters", async () => {
      const path = "/apis/apps/v1/namespaces/conflicts/deployments/zero";
      await applyYaml(fake(), path, deploymentYaml("conflicts", "zero", 0));
      await eventually(async () => {
        const status = (await call(fake(), "GET", path)).body.status;
        assert.deepEqual(Object.keys(status).sort(), ["conditions", "observedGeneration"]);
        assert.equal(status.conditions?.[0]?.reason, "MinimumReplicasAvailable");
      });
    });
  });
});

describe("fake API server garbage collection", { skip }, () => {
  withFake({ timing: { gcDelayMs: 30 } }, (fake) => {
    const owned = async (ns: string, name: string, owner: Body) =>
      call(fake(), "POST", `/api/v1/namespaces/${ns}/configmaps`, {
        metadata: { name, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: owner.metadata.name, uid: owner.metadata.uid }] },
      });
    const setUp = async (name: string) => {
      const owner = (await applyYaml(fake(), `/apis/apps/v1/namespaces/gc/deployments/${name}`, deploymentYaml("gc", name, 0))).body;
      assert.equal((await owned("gc", `${name}-dep`, owner)).status, 201);
      return owner;
    };
    before(async () => {
      await namespace(fake(), "gc");
    });

    it("finishes a Foreground delete: dependents first, then the owner", async () => {
      await setUp("fg");
      const res = await call(fake(), "DELETE", "/apis/apps/v1/namespaces/gc/deployments/fg", { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Foreground" });
      assert.deepEqual(res.body.metadata.finalizers, ["foregroundDeletion"]);
      await eventually(async () => {
        assert.equal((await call(fake(), "GET", "/apis/apps/v1/namespaces/gc/deployments/fg")).status, 404);
        assert.equal((await call(fake(), "GET", "/api/v1/namespaces/gc/configmaps/fg-dep")).status, 404);
      });
    });

    it("finishes an Orphan delete: dependents stay, without their ownerReference", async () => {
      await setUp("orphan");
      await call(fake(), "DELETE", "/apis/apps/v1/namespaces/gc/deployments/orphan?propagationPolicy=Orphan");
      await eventually(async () => {
        assert.equal((await call(fake(), "GET", "/apis/apps/v1/namespaces/gc/deployments/orphan")).status, 404);
        const dep = await call(fake(), "GET", "/api/v1/namespaces/gc/configmaps/orphan-dep");
        assert.equal(dep.status, 200);
        assert.equal(dep.body.metadata.ownerReferences, undefined);
      });
    });

    it("deletes the dependents of a Background delete", async () => {
      await setUp("bg");
      assert.equal((await call(fake(), "DELETE", "/apis/apps/v1/namespaces/gc/deployments/bg")).body.status, "Success");
      await eventually(async () => assert.equal((await call(fake(), "GET", "/api/v1/namespaces/gc/configmaps/bg-dep")).status, 404));
    });
  });
});

describe("fake API server CRD lifecycle", { skip }, () => {
  withFake({ timing: { crdEstablishDelayMs: 80 } }, (fake) => {
    it("serves custom resources and their discovery only once the CRD is Established", async () => {
      const crd = await readExchange("05-crd/01-apply-crd-create-201.json");
      const created = await call(fake(), "PATCH", crd.request.url, crd.request.body, "application/apply-patch+yaml");
      assert.equal(created.status, 201);
      assert.equal(created.body.status.conditions, null);
      assert.equal((await call(fake(), "GET", "/apis/gitward.example.com/v1")).body, "404 page not found\n");
      assert.ok(!(await call(fake(), "GET", "/apis")).body.groups.some((g) => g.name === "gitward.example.com"));
      await eventually(async () => assert.equal((await call(fake(), "GET", "/apis/gitward.example.com/v1/widgets")).status, 200));
      const established = (await call(fake(), "GET", crd.request.path)).body;
      assert.deepEqual((established.status.conditions ?? []).map((c) => `${c.type}=${c.status}`), ["NamesAccepted=True", "Established=True"]);
      assert.equal((await call(fake(), "GET", "/apis")).body.groups.at(-1)?.name, "gitward.example.com");
    });
  });
});

describe("fake API server ready workloads", { skip }, () => {
  withFake({ workloads: "ready" }, (fake) => {
    it("marks Deployments available when asked to", async () => {
      await namespace(fake(), "ready");
      await applyYaml(fake(), "/apis/apps/v1/namespaces/ready/deployments/web", deploymentYaml("ready", "web", 2));
      await eventually(async () => {
        const status = (await call(fake(), "GET", "/apis/apps/v1/namespaces/ready/deployments/web")).body.status;
        assert.equal(status.availableReplicas, 2);
        assert.deepEqual((status.conditions ?? []).map((c) => `${c.type}=${c.status}`), ["Available=True", "Progressing=True"]);
      });
    });
  });
});
