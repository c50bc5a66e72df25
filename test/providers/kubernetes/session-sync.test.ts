import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { StackInstance } from "../../../src/config/stack-instances.ts";
import type { KObject, RenderedObject } from "../../../src/core/object.ts";
import { refOf } from "../../../src/core/object.ts";
import type { StackSyncOptions } from "../../../src/engine/sync-stack.ts";
import { syncStack } from "../../../src/engine/sync-stack.ts";
import type { Harness } from "./session-support.ts";
import { configMap, configMapLocation, namespaceObject, openHarness } from "./session-support.ts";

/**
 * The session as the engine drives it (apply, prune stale inventory entries, wait, write the
 * inventory): what one sync leaves in the cluster is what the next one reads.
 */

let h: Harness;
beforeEach(async () => {
  h = await openHarness({ provider: { session: { pollMinMs: 20 } } });
});
afterEach(async () => {
  await h.close();
});

function rendered(objects: readonly KObject[]): RenderedObject[] {
  return objects.map((object) => ({ object, ref: refOf(object)!, apiVersion: object["apiVersion"] as string, source: { file: "apps/web/all.yaml" } }));
}

function instance(h: Harness): StackInstance {
  return {
    environment: h.stack.environment, stack: h.stack.stack, targetName: "cluster", target: { provider: "kubernetes" },
    dir: "apps/web", dirKeyPath: [], namespace: undefined, vars: {}, substitute: false, forceConflicts: false, allowRemoteBases: false, dependsOn: [],
  };
}

const options = (revision: string): StackSyncOptions => ({
  revision, dryRun: false, prune: true, force: false, waitMs: 5_000, gate: { allowed: true, blockers: [], denials: [], overridden: false },
});

describe("a stack synced through the engine", () => {
  it("records what it applied, prunes what a later revision drops, and syncs again without writes", async () => {
    const first = await syncStack(h.session, instance(h), rendered([namespaceObject(h), configMap(h, "a", { v: "1" }), configMap(h, "b", { v: "1" })]), options("rev1"));
    assert.equal(first.ok, true, JSON.stringify(first));
    assert.deepEqual(first.entries.map((e) => e.action), ["created", "created", "created"]);
    assert.equal(first.health?.timedOut, false);
    assert.deepEqual((await h.session.readInventory(h.stack))?.entries.map((e) => e.ref.name), [h.namespace, "a", "b"]);

    const second = await syncStack(h.session, instance(h), rendered([namespaceObject(h), configMap(h, "a", { v: "2" })]), options("rev2"));
    assert.deepEqual(second.entries.map((e) => `${e.ref.name} ${e.action}`), [`${h.namespace} unchanged`, "a configured", "b deleted"]);
    await assert.rejects(h.raw.get(configMapLocation(h, "b")), /NotFound/);
    const inventory = await h.session.readInventory(h.stack);
    assert.equal(inventory?.revision, "rev2");
    assert.deepEqual(inventory?.entries.map((e) => e.ref.name), [h.namespace, "a"]);
    assert.deepEqual(inventory?.syncs.map((s) => s.revision), ["rev2", "rev1"]);

    h.fake?.clearRequests();
    const third = await syncStack(h.session, instance(h), rendered([namespaceObject(h), configMap(h, "a", { v: "2" })]), options("rev2"));
    assert.deepEqual(third.entries.map((e) => e.action), ["unchanged", "unchanged"]);
    if (h.fake !== undefined) assert.deepEqual(h.fake.requests.filter((r) => r.method !== "GET"), [], "nothing written, the inventory included");
  });
});
