import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { KObject } from "../../../src/core/object.ts";
import { getsBeforeWideList } from "../../../src/providers/kubernetes/live-objects.ts";
import type { DiffEntry } from "../../../src/providers/provider.ts";
import { widget, widgetCrd } from "./session-crd.ts";
import type { Harness } from "./session-support.ts";
import { applyActions, configMap, desired, namespaceObject, openHarness } from "./session-support.ts";

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

function secret(h: Harness, value: string): KObject {
  return { apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: h.namespace }, type: "Opaque", data: { password: Buffer.from(value).toString("base64") } };
}

describe("KubernetesSession.diff", () => {
  it("reports create, no-op, update with a YAML diff and delete, and writes nothing", async () => {
    await applyActions(h, [desired(h, namespaceObject(h)), desired(h, configMap(h, "same", { a: "1" })), desired(h, configMap(h, "changes", { color: "blue" }))]);
    h.fake?.clearRequests();
    const set = await h.session.diff(
      [desired(h, namespaceObject(h)), desired(h, configMap(h, "same", { a: "1" })), desired(h, configMap(h, "changes", { color: "green" })), desired(h, configMap(h, "new", { a: "1" }))],
      { inventory: { stack: h.stack, revision: "r1", syncs: [], entries: [{ ref: { group: "", kind: "ConfigMap", namespace: h.namespace, name: "old" }, apiVersion: "v1" }] } },
    );
    assert.deepEqual(set.entries.map((e) => `${e.ref.name} ${e.action}`), [`${h.namespace} no-op`, "same no-op", "changes update", "new create", "old delete"]);
    const update = set.entries[2] as DiffEntry;
    assert.match(update.diff ?? "", /^-  color: blue$/m);
    assert.match(update.diff ?? "", /^\+  color: green$/m);
    assert.doesNotMatch(update.diff ?? "", /managedFields|resourceVersion|uid:|creationTimestamp/);
    assert.match(set.entries[3]?.diff ?? "", /^\+kind: ConfigMap$/m);
    if (h.fake !== undefined) {
      const writes = h.fake.requests.filter((r) => r.method !== "GET");
      assert.ok(writes.every((r) => r.method === "PATCH" && r.query["dryRun"] === "All"), "only dry runs");
      assert.equal(writes.length, 1, "a dry run only for the object that changed");
    }
  });

  it("puts many new objects down as creates with a few GETs and one LIST without the selector", async () => {
    await applyActions(h, [desired(h, namespaceObject(h))]);
    h.fake?.clearRequests();
    const set = await h.session.diff(Array.from({ length: 30 }, (_, i) => desired(h, configMap(h, `cm-${i}`, { i: String(i) }))), {});
    assert.deepEqual(new Set(set.entries.map((e) => e.action)), new Set(["create"]));
    if (h.fake !== undefined) {
      const collection = `/api/v1/namespaces/${h.namespace}/configmaps`;
      const reads = h.fake.requests.filter((r) => r.method === "GET" && r.path.startsWith(collection));
      assert.equal(reads.filter((r) => r.path !== collection).length, getsBeforeWideList);
      assert.equal(reads.filter((r) => r.path === collection && r.query["labelSelector"] === undefined).length, 1);
      assert.deepEqual(h.fake.requests.filter((r) => r.method !== "GET"), [], "nothing written, not even a dry run");
    }
  });

  it("shows drift by another manager with the manager and when", async () => {
    const cm = desired(h, configMap(h, "app", { color: "green", size: "2" }));
    await applyActions(h, [desired(h, namespaceObject(h)), cm]);
    await h.raw.request({
      method: "PATCH", path: `/api/v1/namespaces/${h.namespace}/configmaps/app`, query: { fieldManager: "kubectl-edit" },
      body: JSON.stringify({ data: { color: "purple" } }), contentType: "application/merge-patch+json",
    });
    const [entry] = (await h.session.diff([cm], {})).entries;
    assert.equal(entry?.action, "update");
    assert.match(entry?.diff ?? "", /^-  color: purple$/m);
    assert.match(entry?.diff ?? "", /^\+  color: green$/m);
    const drift = entry?.drift?.find((d) => d.manager === "kubectl-edit");
    assert.equal(drift?.field, ".data.color");
    assert.match(drift?.time ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("masks Secret values in the diff, showing only which key changed", async () => {
    await applyActions(h, [desired(h, namespaceObject(h)), desired(h, secret(h, "old-password"))]);
    const created = (await h.session.diff([desired(h, { ...secret(h, "x"), metadata: { name: "other", namespace: h.namespace } })], {})).entries[0];
    assert.match(created?.diff ?? "", /password: "\*\*\*"/);
    const [entry] = (await h.session.diff([desired(h, secret(h, "new-password"))], {})).entries;
    assert.equal(entry?.action, "update");
    assert.match(entry?.diff ?? "", /^-  password: "\*\*\*"$/m);
    assert.match(entry?.diff ?? "", /^\+  password: "\*\*\* \(changed\)"$/m);
    for (const v of ["old-password", "new-password"]) assert.ok(!(entry?.diff ?? "").includes(Buffer.from(v).toString("base64")));
  });

  it("puts custom resources of a CRD in the same batch down as creates", async () => {
    const crd = widgetCrd(`w${h.namespace.slice(-6)}.example.com`);
    const set = await h.session.diff([desired(h, crd.object), desired(h, widget(crd, h.namespace, "one"))], {});
    assert.deepEqual(set.entries.map((e) => e.action), ["create", "create"]);
  });

  it("fails clearly on a kind no CRD of the batch defines", async () => {
    const gizmo = desired(h, { apiVersion: "example.com/v1", kind: "Gizmo", metadata: { name: "g", namespace: h.namespace }, spec: {} });
    await assert.rejects(h.session.diff([gizmo], {}), /Gizmo\/gw-test-.*\/g: unknown kind example\.com\/v1 Gizmo/);
  });
});
