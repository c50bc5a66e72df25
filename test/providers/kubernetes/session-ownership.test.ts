import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { KObject } from "../../../src/core/object.ts";
import { getPath } from "../../../src/core/object.ts";
import { managedFieldsOf } from "../../../src/providers/kubernetes/managed-fields.ts";
import type { Harness } from "./session-support.ts";
import { configMap, configMapLocation, deployment, desired, namespaceObject, openHarness, requestsOf } from "./session-support.ts";

// Git wins over hand edits (Update-operation writers), never silently over another applier.

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

const deploymentPath = (name: string): string => `/apis/apps/v1/namespaces/${h.namespace}/deployments/${name}`;
const deploymentLocation = (name: string) => ({ group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespace: h.namespace, name });

/** A Deployment with minReadySeconds 3, as in 08-normalization/25. */
function minReady(): KObject {
  const d = deployment(h, "min-ready");
  return { ...d, spec: { ...(d["spec"] as Record<string, KObject[string]>), minReadySeconds: 3 } };
}

async function apply(objects: readonly KObject[], opts: { dryRun?: boolean; force?: boolean } = {}) {
  return h.session.apply(objects.map((o) => desired(h, o)), { stack: h.stack, dryRun: opts.dryRun ?? false, force: opts.force ?? false });
}

/** A write as another client makes it: a PATCH or PUT with a field manager (or only a User-Agent). */
async function write(method: "PATCH" | "PUT", path: string, contentType: string, body: unknown, manager: string | undefined): Promise<KObject> {
  return h.raw.request({
    method, path, body: JSON.stringify(body), contentType,
    ...(manager === undefined ? {} : { query: { fieldManager: manager } }),
  }).then((r) => JSON.parse(r.body) as KObject);
}

describe("KubernetesSession.apply takes back what hand edits changed", () => {
  it("takes back a field a merge patch (kubectl patch) changed, after diff showed who changed it", async () => {
    await apply([namespaceObject(h), minReady()]);
    await write("PATCH", deploymentPath("min-ready"), "application/merge-patch+json", { spec: { minReadySeconds: 9 } }, "kubectl-patch");
    const [diff] = (await h.session.diff([desired(h, minReady())], {})).entries;
    assert.equal(diff?.action, "update");
    assert.deepEqual(diff?.drift?.map((d) => `${d.field} ${d.manager}`), [".spec.minReadySeconds kubectl-patch"]);

    const [entry] = await apply([minReady()]);
    assert.equal(entry?.action, "configured");
    assert.equal(entry?.message, "took back .spec.minReadySeconds from kubectl-patch (Update)");
    const live = await h.raw.get(deploymentLocation("min-ready"));
    assert.equal(getPath(live, ["spec", "minReadySeconds"]), 3);
    assert.deepEqual(managedFieldsOf(live).filter((e) => e.subresource === undefined).map((e) => `${e.manager}/${e.operation}`), ["gitward/Apply"]);
    assert.deepEqual((await apply([minReady()])).map((e) => e.action), ["unchanged"], "and then it stays");
  });

  it("takes back replicas set through the scale subresource (kubectl scale)", async () => {
    await apply([namespaceObject(h), deployment(h, "scaled", 2)]);
    const scale = await write("PATCH", `${deploymentPath("scaled")}/scale`, "application/merge-patch+json", { spec: { replicas: 5 } }, "kubectl-scale");
    assert.equal(scale["kind"], "Scale");
    const [entry] = await apply([deployment(h, "scaled", 2)]);
    assert.equal(entry?.action, "configured");
    assert.equal(entry?.message, "took back .spec.replicas from kubectl-scale (Update, subresource scale)");
    assert.equal(getPath(await h.raw.get(deploymentLocation("scaled")), ["spec", "replicas"]), 2);
  });

  const writers: { name: string; method: "PATCH" | "PUT"; type: string; body: (live: KObject) => unknown; manager: string | undefined; owner: string }[] = [
    { name: "a JSON patch", method: "PATCH", type: "application/json-patch+json", body: () => [{ op: "replace", path: "/data/color", value: "red" }], manager: "script", owner: "script" },
    { name: "a strategic merge patch", method: "PATCH", type: "application/strategic-merge-patch+json", body: () => ({ data: { color: "red" } }), manager: "kubectl-edit", owner: "kubectl-edit" },
    { name: "a PUT without fieldManager (the User-Agent names it)", method: "PUT", type: "application/json", body: (live) => ({ ...live, data: { color: "red" } }), manager: undefined, owner: "test" },
  ];
  for (const w of writers) {
    it(`takes back a field ${w.name} changed`, async () => {
      await apply([namespaceObject(h), configMap(h, "app", { color: "green" })]);
      const live = await h.raw.get(configMapLocation(h, "app"));
      await write(w.method, `/api/v1/namespaces/${h.namespace}/configmaps/app`, w.type, w.body(live), w.manager);
      const [entry] = await apply([configMap(h, "app", { color: "green" })]);
      assert.equal(entry?.action, "configured");
      assert.equal(entry?.message, `took back .data.color from ${w.owner} (Update)`);
      assert.equal(getPath(await h.raw.get(configMapLocation(h, "app")), ["data", "color"]), "green");
    });
  }

  it("in a dry run, says what it would take back and writes nothing", async () => {
    await apply([namespaceObject(h), configMap(h, "app", { color: "green" })]);
    await write("PATCH", `/api/v1/namespaces/${h.namespace}/configmaps/app`, "application/merge-patch+json", { data: { color: "red" } }, "kubectl-edit");
    const [entry] = await apply([configMap(h, "app", { color: "green" })], { dryRun: true });
    assert.equal(entry?.action, "configured");
    assert.equal(entry?.message, "dry run: would take back .data.color from kubectl-edit (Update)");
    assert.equal(getPath(await h.raw.get(configMapLocation(h, "app")), ["data", "color"]), "red");
  });

  it("takes nothing when one conflicting field belongs to another applier", async () => {
    await apply([namespaceObject(h), configMap(h, "app", { color: "green", size: "2" })]);
    await write("PATCH", `/api/v1/namespaces/${h.namespace}/configmaps/app`, "application/merge-patch+json", { data: { color: "red" } }, "kubectl-edit");
    await h.raw.applyPatch(configMapLocation(h, "app"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app", namespace: h.namespace }, data: { size: "9" } }, { fieldManager: "other-tool", force: true, dryRun: false });
    h.fake?.clearRequests();
    const [entry] = await apply([configMap(h, "app", { color: "green", size: "2" })]);
    assert.equal(entry?.action, "failed");
    assert.match(entry?.message ?? "", /conflict with "kubectl-edit" \(using v1\): \.data\.color; conflict with "other-tool": \.data\.size/);
    assert.deepEqual(getPath(await h.raw.get(configMapLocation(h, "app")), ["data"]), { color: "red", size: "9" }, "nothing was written");
    if (h.fake !== undefined) {
      assert.equal(requestsOf(h.fake, "PATCH").length, 1, "one apply");
      assert.ok(h.fake.requests.every((r) => r.query["force"] === undefined), "never forced");
    }
  });

  it("takes nothing back from gitward's own Update writes", async () => {
    await apply([namespaceObject(h), configMap(h, "app", { color: "green" })]);
    await write("PATCH", `/api/v1/namespaces/${h.namespace}/configmaps/app`, "application/merge-patch+json", { data: { color: "red" } }, "gitward");
    const [entry] = await apply([configMap(h, "app", { color: "green" })]);
    assert.equal(entry?.action, "failed");
    assert.match(entry?.message ?? "", /conflict with "gitward" \(using v1\): \.data\.color/);
  });

  it("leaves a field the manifest omits to the controller that sets it (an HPA's replicas): no drift, no write", async () => {
    const noReplicas = deployment(h, "autoscaled");
    delete (noReplicas["spec"] as Record<string, KObject[string]>)["replicas"];
    await apply([namespaceObject(h), noReplicas]);
    await write("PATCH", `${deploymentPath("autoscaled")}/scale`, "application/merge-patch+json", { spec: { replicas: 3 } }, "horizontal-pod-autoscaler");
    h.fake?.clearRequests();
    const [diff] = (await h.session.diff([desired(h, noReplicas)], {})).entries;
    assert.equal(diff?.action, "no-op");
    assert.deepEqual((await apply([noReplicas])).map((e) => e.action), ["unchanged"]);
    if (h.fake !== undefined) assert.deepEqual(requestsOf(h.fake, "PATCH"), [], "nothing written, not even a dry run");
    assert.equal(getPath(await h.raw.get(deploymentLocation("autoscaled")), ["spec", "replicas"]), 3);
  });
});
