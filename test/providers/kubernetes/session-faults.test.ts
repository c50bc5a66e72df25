import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { DesiredObject } from "../../../src/providers/provider.ts";
import type { Harness } from "./session-support.ts";
import { widget, widgetCrd } from "./session-crd.ts";
import { configMap, desired, namespaceObject, openHarness } from "./session-support.ts";

// Faults need the fake: a real cluster cannot be taken down on purpose.
const onlyFake = process.env["GITWARD_TEST_KUBECONFIG"] !== undefined && "needs the fake API server";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function batch(h: Harness, n: number): DesiredObject[] {
  return [desired(h, namespaceObject(h)), ...Array.from({ length: n }, (_, i) => desired(h, configMap(h, `cm-${i}`, { i: String(i) })))];
}

describe("KubernetesSession under faults", { skip: onlyFake }, () => {
  it("records objects as failed when the API server goes down mid-apply, and converges once it is back", async () => {
    h = await openHarness({ provider: { session: { concurrency: 1 } } });
    const fake = h.fake!;
    const objects = batch(h, 6);
    let downing: Promise<void> | undefined;
    const first = await h.session.apply(objects, {
      stack: h.stack, dryRun: false, force: false,
      onProgress: (done) => {
        if (done === 3) downing = fake.down();
      },
    });
    await downing;
    assert.deepEqual(first.slice(0, 3).map((e) => e.action), ["created", "created", "created"]);
    assert.ok(first.slice(3).every((e) => e.action === "failed"), `the rest failed: ${JSON.stringify(first.slice(3))}`);
    assert.match(first[3]?.message ?? "", /failed \(Connection(Refused|Failed)\): connection/);
    const inventory = { stack: h.stack, revision: "r1", syncs: [], entries: objects.map((o) => ({ ref: o.ref, apiVersion: o.apiVersion })) };
    await assert.rejects(h.session.writeInventory(inventory), /Connection/);

    await fake.up();
    const second = await h.session.apply(objects, { stack: h.stack, dryRun: false, force: false });
    assert.deepEqual(second.map((e) => e.action), ["unchanged", "unchanged", "unchanged", "created", "created", "created", "created"]);
    await h.session.writeInventory(inventory);
    assert.deepEqual(await h.session.readInventory(h.stack), inventory);
    const listed = await h.raw.list({ group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: h.namespace }, { labelSelector: `gitward.dev/stack=${h.stack.stack}` });
    assert.deepEqual(listed.items.map((i) => (i["metadata"] as { name: string }).name).sort(), ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4", "cm-5"]);
  });

  it("rides out a storm of 429s by retrying, then succeeds", async () => {
    h = await openHarness();
    const fake = h.fake!;
    fake.fault({ status: 429, retryAfterSeconds: 0, count: 3 });
    fake.fault({ status: 429, retryAfterSeconds: 0, count: 3, match: { method: "PATCH" } });
    const entries = await h.session.apply(batch(h, 2), { stack: h.stack, dryRun: false, force: false });
    assert.deepEqual(entries.map((e) => e.action), ["created", "created", "created"]);
    assert.equal(fake.requests.filter((r) => r.status === 429).length, 6);
  });

  it("fails only the object whose writes keep failing", async () => {
    h = await openHarness();
    h.fake!.fault({ status: 500, message: "etcdserver: request timed out", count: 100, match: { method: "PATCH", path: /configmaps\/cm-1$/ } });
    const entries = await h.session.apply(batch(h, 3), { stack: h.stack, dryRun: false, force: false });
    assert.deepEqual(entries.map((e) => e.action), ["created", "created", "failed", "created"]);
    assert.match(entries[2]?.message ?? "", /apply failed \(InternalError\).*etcdserver: request timed out/);
  });

  it("fails the custom resources of a CRD that is not Established in time, saying so", async () => {
    h = await openHarness({ fake: { timing: { crdEstablishDelayMs: 5_000 } }, provider: { session: { crdEstablishTimeoutMs: 300, pollMinMs: 20 } } });
    const crd = widgetCrd("slow.example.com");
    const entries = await h.session.apply([desired(h, namespaceObject(h)), desired(h, crd.object), desired(h, widget(crd, h.namespace, "one"))], { stack: h.stack, dryRun: false, force: false });
    assert.deepEqual(entries.map((e) => e.action), ["created", "created", "failed"]);
    assert.match(entries[2]?.message ?? "", /kind slow\.example\.com\/v1 Widget is not served: CustomResourceDefinition\/widgets\.slow\.example\.com is not Established: .* \(waited 0\.3s\)/);
  });

  it("throws when the target cannot be reached before anything was done", async () => {
    h = await openHarness();
    await h.fake!.down();
    await assert.rejects(h.session.apply(batch(h, 1), { stack: h.stack, dryRun: false, force: false }), /ConnectionRefused/);
    await h.fake!.up();
  });
});
