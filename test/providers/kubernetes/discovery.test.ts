import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { isGitwardError } from "../../../src/core/errors.ts";
import { KubeClient } from "../../../src/providers/kubernetes/client.ts";
import { Discovery, objectLocation, UnknownKindError } from "../../../src/providers/kubernetes/discovery.ts";
import { KubeApiError } from "../../../src/providers/kubernetes/errors.ts";
import { recorded, recordedFiles } from "./recordings.ts";
import type { TestServer } from "./test-server.ts";
import { json, startServer, status, writeTestKubeconfig } from "./test-server.ts";

// The recorded discovery answers, by path; /apis and the CRD's group change once the CRD "exists".
const bodies = new Map<string, unknown>();
for (const f of [...recordedFiles("01-discovery"), ...recordedFiles("01-discovery/all-group-versions")]) {
  const ex = recorded(f);
  if (ex.request.method === "GET" && ex.response.status === 200 && !f.includes("aggregated") && !f.includes("anonymous")) bodies.set(ex.request.path, ex.response.body);
}
const apisAfterCrd = recorded("05-crd/25-get-apis-after-crd-established.json").response.body;
const widgetsGroupVersion = recorded("05-crd/04-get-apis-gitward.example.com-v1-discovery.json").response.body;

let server: TestServer;
let client: KubeClient;
let dir: string;
let crdApplied = false;
let metricsDown = false;

before(async () => {
  server = await startServer((req, res) => {
    if (req.path === "/apis" && crdApplied) return json(res, 200, apisAfterCrd);
    if (req.path === "/apis/gitward.example.com/v1" && crdApplied) return json(res, 200, widgetsGroupVersion);
    if (req.path === "/apis/autoscaling/v2" && metricsDown) return json(res, 503, status(503, "ServiceUnavailable", "the server is currently unable to handle the request"));
    const body = bodies.get(req.path);
    if (body !== undefined) return json(res, 200, body);
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("404 page not found\n");
  });
  dir = await mkdtemp(join(tmpdir(), "gitward-discovery-"));
  const path = join(dir, "kubeconfig.json");
  await writeTestKubeconfig(path, [{ name: "test", server: server.url, token: "discovery-test-token" }]);
  client = await KubeClient.connect({ kubeconfigPath: path, settings: { retry: { maxAttempts: 1, maxElapsedMs: 0, baseDelayMs: 0, maxDelayMs: 0 } } });
});
after(async () => {
  client.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  crdApplied = false;
  metricsDown = false;
  server.requests.length = 0;
});

const count = (path: string): number => server.requests.filter((r) => r.path === path).length;

describe("Discovery", () => {
  const cases = [
    { group: "", version: "v1", kind: "ConfigMap", resource: "configmaps", namespaced: true },
    { group: "", version: "v1", kind: "Namespace", resource: "namespaces", namespaced: false },
    { group: "apps", version: "v1", kind: "Deployment", resource: "deployments", namespaced: true },
    { group: "batch", version: "v1", kind: "CronJob", resource: "cronjobs", namespaced: true },
    { group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", resource: "clusterroles", namespaced: false },
    { group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", resource: "customresourcedefinitions", namespaced: false },
    { group: "storage.k8s.io", version: "v1", kind: "StorageClass", resource: "storageclasses", namespaced: false },
    { group: "autoscaling", version: "v2beta2", kind: "HorizontalPodAutoscaler", resource: "horizontalpodautoscalers", namespaced: true },
  ];
  for (const c of cases) {
    it(`resolves ${c.group || "core"}/${c.version} ${c.kind}`, async () => {
      const info = await new Discovery(client).resolve(c.group, c.version, c.kind);
      assert.deepEqual({ group: info.group, version: info.version, kind: info.kind, resource: info.resource, namespaced: info.namespaced }, c);
      assert.ok(info.verbs.includes("get"));
    });
  }

  it("leaves subresources out", async () => {
    const resources = await new Discovery(client).resources("apps", "v1");
    assert.ok(resources.length > 0);
    assert.ok(resources.every((r) => !r.resource.includes("/")));
    assert.equal(resources.filter((r) => r.kind === "Deployment").length, 1);
  });

  it("knows preferred and served versions", async () => {
    const d = new Discovery(client);
    assert.deepEqual(await d.groupVersions("autoscaling"), { group: "autoscaling", preferred: "v2", served: ["v2", "v1", "v2beta1", "v2beta2"] });
    assert.deepEqual(await d.groupVersions(""), { group: "", preferred: "v1", served: ["v1"] });
    assert.equal(await d.groupVersions("gitward.example.com"), undefined);
  });

  it("reads each document once", async () => {
    const d = new Discovery(client);
    await Promise.all([d.resolve("apps", "v1", "Deployment"), d.resolve("apps", "v1", "StatefulSet"), d.resolve("", "v1", "ConfigMap")]);
    await d.resolve("apps", "v1", "DaemonSet");
    assert.equal(count("/apis"), 1);
    assert.equal(count("/api"), 1);
    assert.equal(count("/apis/apps/v1"), 1);
    assert.equal(count("/api/v1"), 1);
  });

  it("reads discovery again once to find a kind whose CRD was just applied", async () => {
    const d = new Discovery(client);
    await d.resolve("apps", "v1", "Deployment");
    crdApplied = true;
    const info = await d.resolve("gitward.example.com", "v1", "Widget");
    assert.deepEqual([info.resource, info.namespaced], ["widgets", true]);
    assert.equal(count("/apis"), 2);
  });

  it("shares one refresh among concurrent misses", async () => {
    const d = new Discovery(client);
    await d.groups();
    crdApplied = true;
    const infos = await Promise.all(Array.from({ length: 5 }, () => d.resolve("gitward.example.com", "v1", "Widget")));
    assert.ok(infos.every((i) => i.resource === "widgets"));
    assert.equal(count("/apis"), 2);
    assert.equal(count("/apis/gitward.example.com/v1"), 1);
  });

  it("fails with unknown kind, naming the object, when the group version is not served", async () => {
    const ref = { group: "gitward.example.com", kind: "Widget", namespace: "demo", name: "alpha" };
    const err = await new Discovery(client).resolve("gitward.example.com", "v1", "Widget", { ref }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof UnknownKindError);
    assert.equal(err.code, "cluster");
    assert.equal(err.message, "Widget/demo/alpha: unknown kind gitward.example.com/v1 Widget: gitward.example.com/v1 is not served");
    assert.match(err.hint ?? "", /CustomResourceDefinition/);
    assert.equal(count("/apis"), 2);
    assert.equal(count("/apis/gitward.example.com/v1"), 0);
  });

  it("fails with unknown kind when a served group version lacks the kind", async () => {
    const err = await new Discovery(client).resolve("apps", "v1", "Widget", { ref: { group: "apps", kind: "Widget", namespace: "demo", name: "w" } }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof UnknownKindError);
    assert.equal(err.message, "Widget/demo/w: unknown kind apps/v1 Widget: apps/v1 serves no kind Widget");
    assert.equal(count("/apis/apps/v1"), 2);
  });

  it("fails with unknown kind for an unserved version of a known group", async () => {
    const err = await new Discovery(client).resolve("apps", "v1beta1", "Deployment").then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof UnknownKindError);
    assert.match(err.message, /^unknown kind apps\/v1beta1 Deployment: apps\/v1beta1 is not served$/);
  });

  it("passes on a group version that is down, instead of calling its kinds unknown", async () => {
    metricsDown = true;
    const err = await new Discovery(client).resolve("autoscaling", "v2", "HorizontalPodAutoscaler").then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof KubeApiError);
    assert.equal(err.kind, "ServiceUnavailable");
  });

  it("reads every group version at once, listing the ones that are down apart", async () => {
    metricsDown = true;
    const all = await new Discovery(client).readAll({ concurrency: 4 });
    assert.deepEqual(all.unavailable, ["autoscaling/v2"]);
    assert.ok(all.resources.some((r) => r.group === "apps" && r.kind === "Deployment" && r.resource === "deployments"));
    assert.ok(all.resources.some((r) => r.group === "autoscaling" && r.version === "v1"));
    assert.equal(count("/apis/autoscaling/v2"), 1);
  });

  it("locates objects by scope", async () => {
    const d = new Discovery(client);
    const cm = await d.resolve("", "v1", "ConfigMap");
    assert.deepEqual(objectLocation(cm, { group: "", kind: "ConfigMap", namespace: "demo", name: "app" }), { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", name: "app", namespace: "demo" });
    const ns = await d.resolve("", "v1", "Namespace");
    assert.deepEqual(objectLocation(ns, { group: "", kind: "Namespace", namespace: "ignored", name: "demo" }), { group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: "demo" });
    const missing = (() => {
      try {
        return objectLocation(cm, { group: "", kind: "ConfigMap", name: "app" });
      } catch (e: unknown) {
        return e;
      }
    })();
    assert.ok(isGitwardError(missing));
    assert.match(missing.message, /^ConfigMap\/app: ConfigMap is namespaced/);
  });
});
