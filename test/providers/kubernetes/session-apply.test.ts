import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { getPath } from "../../../src/core/object.ts";
import type { KObject } from "../../../src/core/object.ts";
import { getsBeforeWideList, wideListPage } from "../../../src/providers/kubernetes/live-objects.ts";
import { managedFieldsOf } from "../../../src/providers/kubernetes/managed-fields.ts";
import type { Harness } from "./session-support.ts";
import { applyActions, configMap, configMapLocation, deployment, desired, namespaceObject, openHarness, requestsOf } from "./session-support.ts";
import { widget, widgetCrd } from "./session-crd.ts";

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

describe("KubernetesSession.apply", () => {
  it("creates in phase order, then re-applies as unchanged without a single write", async () => {
    const objects = [desired(h, configMap(h, "app", { color: "blue" })), desired(h, deployment(h, "web")), desired(h, namespaceObject(h))];
    const progress: string[] = [];
    const entries = await h.session.apply(objects, { stack: h.stack, dryRun: false, force: false, onProgress: (d, t) => progress.push(`${d}/${t}`) });
    assert.deepEqual(entries.map((e) => `${e.ref.kind} ${e.action}`), ["ConfigMap created", "Deployment created", "Namespace created"]);
    assert.deepEqual(progress, ["1/3", "2/3", "3/3"]);
    if (h.fake !== undefined) {
      const patches = requestsOf(h.fake, "PATCH");
      assert.match(patches[0] ?? "", /\/namespaces\/gw-test-[0-9a-f]+$/, "the Namespace goes first");
      h.fake.clearRequests();
    }
    assert.deepEqual(await applyActions(h, objects), { "ConfigMap/app": "unchanged", "Deployment/web": "unchanged", [`Namespace/${h.namespace}`]: "unchanged" });
    if (h.fake !== undefined) {
      assert.deepEqual(requestsOf(h.fake, "PATCH"), [], "a no-op apply writes nothing");
      const lists = h.fake.requests.filter((r) => r.method === "GET" && r.query["labelSelector"] !== undefined);
      assert.equal(lists.length, 3, "one LIST per kind and namespace");
      assert.ok(lists.every((r) => r.query["labelSelector"] === `gitward.dev/stack=${h.stack.stack},gitward.dev/environment=test`));
    }
  });

  it("configures what changed, and removes a key gitward alone applied and no longer wants", async () => {
    await applyActions(h, [desired(h, namespaceObject(h)), desired(h, configMap(h, "app", { color: "blue", size: "2" }))]);
    assert.deepEqual(await applyActions(h, [desired(h, configMap(h, "app", { color: "green", size: "2" }))]), { "ConfigMap/app": "configured" });
    assert.deepEqual(await applyActions(h, [desired(h, configMap(h, "app", { color: "green" }))]), { "ConfigMap/app": "configured" });
    const live = await h.raw.get(configMapLocation(h, "app"));
    assert.deepEqual(live["data"], { color: "green" });
  });

  it("stores a Secret's stringData as data, and re-applies it without a write", async () => {
    const secret = desired(h, { apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: h.namespace }, type: "Opaque", stringData: { password: "hunter2" } });
    assert.deepEqual(await applyActions(h, [desired(h, namespaceObject(h)), secret]), { [`Namespace/${h.namespace}`]: "created", "Secret/creds": "created" });
    h.fake?.clearRequests();
    assert.deepEqual(await applyActions(h, [secret]), { "Secret/creds": "unchanged" });
    if (h.fake !== undefined) assert.deepEqual(requestsOf(h.fake, "PATCH"), []);
    const live = await h.raw.get({ group: "", version: "v1", resource: "secrets", kind: "Secret", namespace: h.namespace, name: "creds" });
    assert.equal(getPath(live, ["data", "password"]), Buffer.from("hunter2").toString("base64"));
  });

  it("takes back a field a hand edit changed, and says so", async () => {
    const cm = desired(h, configMap(h, "app", { color: "green" }));
    await applyActions(h, [desired(h, namespaceObject(h)), cm]);
    await kubectlEdit(h, "app", { data: { color: "purple" } });
    const [taken] = await h.session.apply([cm], { stack: h.stack, dryRun: false, force: false });
    assert.equal(taken?.action, "configured");
    assert.equal(taken?.message, "took back .data.color from kubectl-edit (Update)");
    const live = await h.raw.get(configMapLocation(h, "app"));
    assert.equal(getPath(live, ["data", "color"]), "green");
    assert.ok(!managedFieldsOf(live).some((e) => e.manager === "kubectl-edit"), "kubectl-edit owns nothing any more");
  });

  it("fails on a field another applier owns, naming it, and takes it over only with force", async () => {
    const cm = desired(h, configMap(h, "app", { color: "green" }));
    await applyActions(h, [desired(h, namespaceObject(h)), cm]);
    await h.raw.applyPatch(configMapLocation(h, "app"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app", namespace: h.namespace }, data: { color: "purple" } }, { fieldManager: "other-tool", force: true, dryRun: false });
    const [failed] = await h.session.apply([cm], { stack: h.stack, dryRun: false, force: false });
    assert.equal(failed?.action, "failed");
    assert.match(failed?.message ?? "", /conflict with "other-tool": \.data\.color/);
    assert.match(failed?.message ?? "", /--force-conflicts/);
    assert.equal(getPath(await h.raw.get(configMapLocation(h, "app")), ["data", "color"]), "purple", "nothing was written");

    assert.deepEqual(await applyActions(h, [cm], { force: true }), { "ConfigMap/app": "configured" });
    const live = await h.raw.get(configMapLocation(h, "app"));
    assert.equal(getPath(live, ["data", "color"]), "green");
    assert.ok(!managedFieldsOf(live).some((e) => e.manager === "other-tool"), "other-tool owns nothing any more");
  });

  it("adopts an unlabelled object, but refuses one another stack owns unless forced", async () => {
    await applyActions(h, [desired(h, namespaceObject(h))]);
    await h.raw.create({ group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: h.namespace }, configMap(h, "old", { a: "1" }), { fieldManager: "kubectl-create" });
    assert.deepEqual(await applyActions(h, [desired(h, configMap(h, "old", { a: "1" }))]), { "ConfigMap/old": "configured" });

    const other = { ...configMap(h, "theirs", { a: "1" }) };
    (other["metadata"] as Record<string, KObject[string]>)["labels"] = { "gitward.dev/stack": "other", "gitward.dev/environment": "test" };
    await h.raw.applyPatch(configMapLocation(h, "theirs"), other, { fieldManager: "gitward", force: false, dryRun: false });
    const [refused] = await h.session.apply([desired(h, configMap(h, "theirs", { a: "2" }))], { stack: h.stack, dryRun: false, force: false });
    assert.equal(refused?.action, "failed");
    assert.match(refused?.message ?? "", /owned by stack other in environment test/);
    assert.deepEqual(await applyActions(h, [desired(h, configMap(h, "theirs", { a: "2" }))], { force: true }), { "ConfigMap/theirs": "configured" });
  });

  it("creates many objects with a few GETs and one LIST without the selector, not a GET each", async () => {
    await applyActions(h, [desired(h, namespaceObject(h))]);
    h.fake?.clearRequests();
    const objects = Array.from({ length: 30 }, (_, i) => desired(h, configMap(h, `cm-${i}`, { i: String(i) })));
    const actions = await applyActions(h, objects);
    assert.deepEqual(new Set(Object.values(actions)), new Set(["created"]));
    if (h.fake !== undefined) {
      const collection = `/api/v1/namespaces/${h.namespace}/configmaps`;
      const reads = h.fake.requests.filter((r) => r.method === "GET" && r.path.startsWith(collection));
      const gets = reads.filter((r) => r.path !== collection);
      const unselected = reads.filter((r) => r.path === collection && r.query["labelSelector"] === undefined);
      assert.equal(gets.length, getsBeforeWideList);
      assert.equal(unselected.length, 1);
    }
  });

  it("still finds objects of other stacks and unlabelled ones among many new objects", async () => {
    await applyActions(h, [desired(h, namespaceObject(h))]);
    const loc = { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: h.namespace };
    // Found by GET (the first misses) and by the LIST without the selector (the later ones).
    for (const i of [0, 1, 27, 28]) {
      const theirs = configMap(h, `cm-${i}`, { i: "theirs" });
      (theirs["metadata"] as Record<string, KObject[string]>)["labels"] = { "gitward.dev/stack": "other", "gitward.dev/environment": "test" };
      await h.raw.applyPatch(configMapLocation(h, `cm-${i}`), theirs, { fieldManager: "gitward", force: false, dryRun: false });
    }
    for (const i of [2, 29]) await h.raw.create(loc, configMap(h, `cm-${i}`, { i: String(i) }), { fieldManager: "kubectl-create" });
    const objects = Array.from({ length: 30 }, (_, i) => desired(h, configMap(h, `cm-${i}`, { i: String(i) })));
    const entries = await h.session.apply(objects, { stack: h.stack, dryRun: false, force: false });
    const byName = Object.fromEntries(entries.map((e) => [e.ref.name, e]));
    for (const i of [0, 1, 27, 28]) {
      assert.equal(byName[`cm-${i}`]?.action, "failed");
      assert.match(byName[`cm-${i}`]?.message ?? "", /owned by stack other in environment test/);
      assert.equal(getPath(await h.raw.get(configMapLocation(h, `cm-${i}`)), ["data", "i"]), "theirs", "nothing was written");
    }
    for (const i of [2, 29]) assert.equal(byName[`cm-${i}`]?.action, "configured");
    assert.equal(entries.filter((e) => e.action === "created").length, 24);
  });

  it("falls back to a GET each when the collection is bigger than one page", { timeout: 60_000 }, async () => {
    if (h.fake === undefined) return;
    await applyActions(h, [desired(h, namespaceObject(h))]);
    const loc = { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: h.namespace };
    for (let i = 0; i < wideListPage; i++) await h.raw.create(loc, configMap(h, `other-${i}`, {}), { fieldManager: "someone" });
    h.fake.clearRequests();
    const objects = Array.from({ length: getsBeforeWideList + 4 }, (_, i) => desired(h, configMap(h, `cm-${i}`, { i: String(i) })));
    const actions = await applyActions(h, objects);
    assert.deepEqual(new Set(Object.values(actions)), new Set(["created"]));
    const gets = h.fake.requests.filter((r) => r.method === "GET" && r.path.includes(`/namespaces/${h.namespace}/configmaps/cm-`));
    assert.equal(gets.length, objects.length);
  });

  it("applies a CRD and its custom resources in one go", async () => {
    const crd = widgetCrd(`w${h.namespace.slice(-6)}.example.com`);
    h.onRealClusterClose(() => h.raw.delete({ group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", kind: "CustomResourceDefinition", name: `${crd.plural}.${crd.group}` }));
    const objects = [desired(h, widget(crd, h.namespace, "one")), desired(h, crd.object), desired(h, namespaceObject(h))];
    const entries = await h.session.apply(objects, { stack: h.stack, dryRun: false, force: false });
    assert.deepEqual(entries.map((e) => `${e.ref.kind} ${e.action}${e.message === undefined ? "" : ` ${e.message}`}`), [`${crd.kind} created`, "CustomResourceDefinition created", "Namespace created"]);
    const live = await h.raw.get({ group: crd.group, version: "v1", resource: crd.plural, kind: crd.kind, namespace: h.namespace, name: "one" });
    assert.equal(getPath(live, ["spec", "size"]), 3);
    assert.deepEqual((await h.session.apply(objects, { stack: h.stack, dryRun: false, force: false })).map((e) => e.action), ["unchanged", "unchanged", "unchanged"]);
  });

  it("fails an object of an unknown kind clearly, an invalid wave and an invalid object with their causes, and applies the rest", async () => {
    const gizmo = desired(h, { apiVersion: "example.com/v1", kind: "Gizmo", metadata: { name: "g", namespace: h.namespace }, spec: {} });
    const badWave = desired(h, configMap(h, "wave", { a: "1" }, { annotations: { "gitward.dev/wave": "soon" } }));
    const invalid = desired(h, configMap(h, "invalid", { "bad key!": "x" }));
    const noSelector = desired(h, { ...deployment(h, "broken"), spec: { template: (deployment(h, "broken")["spec"] as Record<string, KObject[string]>)["template"] ?? {} } });
    const good = desired(h, configMap(h, "good", { a: "1" }));
    const entries = await h.session.apply([gizmo, badWave, invalid, noSelector, good, desired(h, namespaceObject(h))], { stack: h.stack, dryRun: false, force: false });
    const byName = new Map(entries.map((e) => [e.ref.name, e]));
    assert.equal(byName.get("g")?.action, "failed");
    assert.match(byName.get("g")?.message ?? "", /unknown kind example\.com\/v1 Gizmo: example\.com\/v1 is not served/);
    assert.equal(byName.get("wave")?.action, "failed");
    assert.match(byName.get("wave")?.message ?? "", /invalid gitward\.dev\/wave "soon"/);
    assert.equal(byName.get("invalid")?.action, "failed");
    assert.match(byName.get("invalid")?.message ?? "", /\(Invalid\).*data\[bad key!\]/);
    assert.equal(byName.get("broken")?.action, "failed");
    assert.match(byName.get("broken")?.message ?? "", /spec\.selector/);
    assert.equal(byName.get("good")?.action, "created");
  });

  it("writes nothing in a dry run, yet tells created from configured from unchanged", async () => {
    await applyActions(h, [desired(h, namespaceObject(h)), desired(h, configMap(h, "same", { a: "1" })), desired(h, configMap(h, "changes", { a: "1" }))]);
    h.fake?.clearRequests();
    const actions = await applyActions(h, [
      desired(h, configMap(h, "same", { a: "1" })),
      desired(h, configMap(h, "changes", { a: "2" })),
      desired(h, configMap(h, "new", { a: "1" })),
    ], { dryRun: true });
    assert.deepEqual(actions, { "ConfigMap/same": "unchanged", "ConfigMap/changes": "configured", "ConfigMap/new": "created" });
    assert.equal(getPath(await h.raw.get(configMapLocation(h, "changes")), ["data", "a"]), "1");
    await assert.rejects(h.raw.get(configMapLocation(h, "new")), /NotFound/);
    if (h.fake !== undefined) {
      const writes = h.fake.requests.filter((r) => r.method !== "GET");
      assert.ok(writes.length > 0 && writes.every((r) => r.query["dryRun"] === "All"), "every write was a dry run");
    }
  });

  it("in a dry run, puts objects of a new Namespace or a new CRD down as created, unchecked", async () => {
    const crd = widgetCrd(`w${h.namespace.slice(-6)}.example.com`);
    const entries = await h.session.apply(
      [desired(h, namespaceObject(h)), desired(h, configMap(h, "app", { a: "1" })), desired(h, crd.object), desired(h, widget(crd, h.namespace, "one"))],
      { stack: h.stack, dryRun: true, force: false },
    );
    assert.deepEqual(entries.map((e) => e.action), ["created", "created", "created", "created"]);
    assert.match(entries[1]?.message ?? "", /namespace gw-test-.* is created by this apply/);
    assert.match(entries[3]?.message ?? "", /CustomResourceDefinition .* is created by this apply/);
    await assert.rejects(h.raw.get({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: h.namespace }), /NotFound/);
  });
});

/** Changes a ConfigMap as `kubectl edit` would: an update by another field manager. */
async function kubectlEdit(h: Harness, name: string, patch: KObject): Promise<void> {
  await h.raw.request({
    method: "PATCH",
    path: `/api/v1/namespaces/${h.namespace}/configmaps/${name}`,
    query: { fieldManager: "kubectl-edit" },
    body: JSON.stringify(patch),
    contentType: "application/merge-patch+json",
  });
}

describe("KubernetesSession.apply and remove with a fence (beforeWrite)", () => {
  it("stop writing at the first object the fence refuses: an agent whose lease ran out while paused writes no more", async () => {
    await applyActions(h, [desired(h, namespaceObject(h))]);
    const names = ["a", "b", "c", "d", "e"];
    let allowed = 2;
    const beforeWrite = (): void => {
      if (allowed-- <= 0) throw new Error("lease lost");
    };
    await assert.rejects(h.session.apply(names.map((n) => desired(h, configMap(h, n, { n }))), { stack: h.stack, dryRun: false, force: false, beforeWrite }), /lease lost/);
    // The two writes the fence let through were already on their way: let them land.
    await new Promise((r) => setTimeout(r, 500));
    const present: string[] = [];
    for (const n of names) {
      try {
        await h.raw.get(configMapLocation(h, n));
        present.push(n);
      } catch {
        // not written
      }
    }
    assert.equal(present.length, 2, `written: ${present.join(", ")}`);
    await assert.rejects(h.session.remove(present.map((n) => ({ ref: desired(h, configMap(h, n, {})).ref, apiVersion: "v1" })), {
      stack: h.stack, dryRun: false, beforeWrite: () => { throw new Error("lease lost"); },
    }), /lease lost/);
    for (const n of present) assert.ok(await h.raw.get(configMapLocation(h, n)), `${n} is still there`);
  });
});
