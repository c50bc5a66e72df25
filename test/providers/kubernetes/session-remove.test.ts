import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { KObject } from "../../../src/core/object.ts";
import type { Harness } from "./session-support.ts";
import { applyActions, configMap, configMapLocation, desired, namespaceObject, openHarness } from "./session-support.ts";

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

const ref = (h: Harness, name: string) => ({ ref: { group: "", kind: "ConfigMap", namespace: h.namespace, name }, apiVersion: "v1" });

describe("KubernetesSession.remove", () => {
  it("deletes what the stack owns, skips what it does not or what opts out, and counts the already gone as deleted", async () => {
    await applyActions(h, [
      desired(h, namespaceObject(h)),
      desired(h, configMap(h, "owned", { a: "1" })),
      desired(h, configMap(h, "keep", { a: "1" }, { annotations: { "gitward.dev/prune": "disabled" } })),
    ]);
    const foreign = configMap(h, "foreign", { a: "1" });
    (foreign["metadata"] as Record<string, KObject[string]>)["labels"] = { "gitward.dev/stack": "other", "gitward.dev/environment": "test" };
    await h.raw.applyPatch(configMapLocation(h, "foreign"), foreign, { fieldManager: "gitward", force: false, dryRun: false });
    await h.raw.applyPatch(configMapLocation(h, "manual"), configMap(h, "manual", { a: "1" }), { fieldManager: "kubectl", force: false, dryRun: false });

    const entries = await h.session.remove(
      [ref(h, "owned"), ref(h, "keep"), ref(h, "foreign"), ref(h, "manual"), ref(h, "gone")],
      { stack: h.stack, dryRun: false },
    );
    const by = Object.fromEntries(entries.map((e) => [e.ref.name, `${e.action}${e.message === undefined ? "" : `: ${e.message}`}`]));
    assert.equal(by["owned"], "deleted");
    assert.match(by["keep"] ?? "", /^skipped: gitward\.dev\/prune: disabled/);
    assert.match(by["foreign"] ?? "", /^skipped: not owned by stack web-.* \(labels gitward\.dev\/stack="other"/);
    assert.match(by["manual"] ?? "", /^skipped: not owned .*gitward\.dev\/stack=absent/);
    assert.match(by["gone"] ?? "", /^deleted: already gone/);
    await assert.rejects(h.raw.get(configMapLocation(h, "owned")), /NotFound/);
    for (const name of ["keep", "foreign", "manual"]) await h.raw.get(configMapLocation(h, name));
    if (h.fake !== undefined) {
      const del = h.fake.requests.filter((r) => r.method === "DELETE");
      assert.deepEqual(del.map((r) => r.path), [`/api/v1/namespaces/${h.namespace}/configmaps/owned`], "only the owned object saw a DELETE");
    }
  });

  it("goes in reverse apply order: objects before their Namespace", async () => {
    await applyActions(h, [desired(h, namespaceObject(h)), desired(h, configMap(h, "a", { a: "1" }))]);
    const entries = await h.session.remove(
      [{ ref: { group: "", kind: "Namespace", name: h.namespace }, apiVersion: "v1" }, ref(h, "a")],
      { stack: h.stack, dryRun: false },
    );
    assert.deepEqual(entries.map((e) => e.action), ["deleted", "deleted"]);
    if (h.fake !== undefined) {
      const del = h.fake.requests.filter((r) => r.method === "DELETE").map((r) => r.path);
      assert.deepEqual(del, [`/api/v1/namespaces/${h.namespace}/configmaps/a`, `/api/v1/namespaces/${h.namespace}`]);
      assert.ok(h.fake.requests.filter((r) => r.method === "DELETE").every((r) => r.query["dryRun"] === undefined));
    }
  });

  it("deletes nothing in a dry run", async () => {
    await applyActions(h, [desired(h, namespaceObject(h)), desired(h, configMap(h, "a", { a: "1" }))]);
    const entries = await h.session.remove([ref(h, "a")], { stack: h.stack, dryRun: true });
    assert.deepEqual(entries.map((e) => e.action), ["deleted"]);
    await h.raw.get(configMapLocation(h, "a"));
  });
});
