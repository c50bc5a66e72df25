import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { getPath } from "../../../src/core/object.ts";
import type { KObject } from "../../../src/core/object.ts";
import { inventoryLocation, parseInventory } from "../../../src/providers/kubernetes/inventory.ts";
import { inventoryName } from "../../../src/providers/kubernetes/inventory-name.ts";
import type { Inventory, StackRef } from "../../../src/providers/provider.ts";
import type { Harness } from "./session-support.ts";
import { openHarness } from "./session-support.ts";

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

function inventoryOf(stack: StackRef, revision: string): Inventory {
  return {
    stack,
    revision,
    entries: [
      { ref: { group: "", kind: "Namespace", name: "demo" }, apiVersion: "v1" },
      { ref: { group: "apps", kind: "Deployment", namespace: "demo", name: "web" }, apiVersion: "apps/v1" },
    ],
    syncs: [
      { revision, at: "2026-11-22T05:00:00.000Z", result: "succeeded", summary: { created: 2 } },
      { revision: "0ld", at: "2026-11-21T05:00:00.000Z", result: "failed", summary: { failed: 1, unchanged: 1 }, gateOverride: { by: "ops", denials: 2 } },
    ],
  };
}

function inventoryConfigMap(h: Harness, stack: StackRef) {
  return { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: `gw-inv-${h.namespace.slice(-6)}`, name: inventoryName(stack) };
}

describe("the inventory ConfigMap", () => {
  it("is absent at first, then reads back exactly as written, in a namespace created for it", async () => {
    assert.equal(await h.session.readInventory(h.stack), undefined);
    const inv = inventoryOf(h.stack, "abc123");
    await h.session.writeInventory(inv);
    assert.deepEqual(await h.session.readInventory(h.stack), inv);
    const cm = await h.raw.get(inventoryConfigMap(h, h.stack));
    assert.equal(getPath(cm, ["metadata", "labels", "app.kubernetes.io/managed-by"]), "gitward");
    assert.equal(typeof getPath(cm, ["data", "inventory.json"]), "string");

    const smaller: Inventory = { ...inv, revision: "def456", entries: inv.entries.slice(0, 1) };
    await h.session.writeInventory(smaller);
    assert.deepEqual(await h.session.readInventory(h.stack), smaller);
  });

  it("is a clear error when damaged, never an empty inventory", async () => {
    await h.session.writeInventory(inventoryOf(h.stack, "abc"));
    const loc = inventoryConfigMap(h, h.stack);
    const damage = async (data: Record<string, string>) => {
      await h.raw.request({
        method: "PATCH", path: `/api/v1/namespaces/${loc.namespace}/configmaps/${loc.name}`, query: { fieldManager: "kubectl-edit" },
        body: JSON.stringify({ data }), contentType: "application/merge-patch+json",
      });
    };
    await damage({ "inventory.json": "{not json" });
    await assert.rejects(h.session.readInventory(h.stack), /ConfigMap\/gw-inv-.*: the inventory of stack web-.* in environment test is unreadable: data\.inventory\.json is not JSON/);
    await damage({ "inventory.json": JSON.stringify({ version: 1, stack: h.stack, revision: "x", entries: [{ kind: "ConfigMap" }], syncs: [] }) });
    await assert.rejects(h.session.readInventory(h.stack), /unreadable: data\.inventory\.json: entries\.0\.group/);
  });

  it("reads a large inventory, and names a malformed entry however far down it is", () => {
    const loc = inventoryLocation(`gw-inv-x`, h.stack);
    const entries = Array.from({ length: 1000 }, (_, i) => ({ group: "", kind: "ConfigMap", namespace: "ns", name: `cm-${i}`, apiVersion: "v1" }));
    const cm = (doc: object): KObject => ({ data: { "inventory.json": JSON.stringify({ version: 1, stack: h.stack, revision: "r", syncs: [], ...doc }) } });
    const inv = parseInventory(cm({ entries: [...entries, { group: "apps", kind: "Deployment", name: "web", apiVersion: "apps/v1", extra: true }] }), h.stack, loc);
    assert.equal(inv.entries.length, 1001);
    assert.deepEqual(inv.entries[1000], { ref: { group: "apps", kind: "Deployment", name: "web" }, apiVersion: "apps/v1" });
    assert.deepEqual(inv.entries[7], { ref: { group: "", kind: "ConfigMap", namespace: "ns", name: "cm-7" }, apiVersion: "v1" });
    const bad = (entry: object): string => {
      try {
        parseInventory(cm({ entries: entries.map((e, i) => (i === 700 ? entry : e)) }), h.stack, loc);
        return "no error";
      } catch (err: unknown) {
        return err instanceof Error ? err.message : String(err);
      }
    };
    assert.match(bad({ ...entries[0], name: "" }), /entries\.700\.name/);
    assert.match(bad({ ...entries[0], namespace: null }), /entries\.700\.namespace/);
    assert.match(bad({ ...entries[0], group: 1 }), /entries\.700\.group/);
    assert.throws(() => parseInventory(cm({ entries, revision: 5 }), h.stack, loc), /data\.inventory\.json: revision/);
  });

  it("names two stacks apart even where their names run together", async () => {
    const a = { environment: "a-b", stack: "c" };
    const b = { environment: "a", stack: "b-c" };
    assert.notEqual(inventoryName(a), inventoryName(b));
    await h.session.writeInventory(inventoryOf(a, "1"));
    await h.session.writeInventory(inventoryOf(b, "2"));
    assert.equal((await h.session.readInventory(a))?.revision, "1");
    assert.equal((await h.session.readInventory(b))?.revision, "2");
  });

  it("refuses an inventory that belongs to another stack", async () => {
    const a = { environment: "prod", stack: "api" };
    await h.session.writeInventory(inventoryOf(a, "1"));
    const cm = await h.raw.get(inventoryConfigMap(h, a));
    const loc = inventoryConfigMap(h, h.stack);
    await h.raw.applyPatch(loc, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: loc.name, namespace: loc.namespace }, data: cm["data"] ?? {} }, { fieldManager: "test", force: true, dryRun: false });
    await assert.rejects(h.session.readInventory(h.stack), /it holds the inventory of stack api in environment prod/);
  });
});

describe("inventoryName", () => {
  it("keeps short names readable and hashes long ones into a DNS label", () => {
    assert.equal(inventoryName({ environment: "dev", stack: "web" }), "gitward-dev-web");
    assert.match(inventoryName({ environment: "eu-prod", stack: "web" }), /^gitward-eu-prod-web-[0-9a-f]{10}$/);
    const long = inventoryName({ environment: "e".repeat(40), stack: "s".repeat(40) });
    const other = inventoryName({ environment: "e".repeat(40), stack: `${"s".repeat(39)}t` });
    assert.ok(long.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(long), long);
    assert.notEqual(long, other);
  });
});
