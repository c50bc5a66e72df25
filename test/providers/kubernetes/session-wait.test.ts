import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { getPath } from "../../../src/core/object.ts";
import type { Harness } from "./session-support.ts";
import { applyActions, configMap, deployment, desired, namespaceObject, openHarness } from "./session-support.ts";

let h: Harness;
beforeEach(async () => {
  h = await openHarness({ provider: { session: { pollMinMs: 20, pollMaxMs: 100 } } });
});
afterEach(async () => {
  await h.close();
});

const deploymentRef = (h: Harness, name: string) => ({ group: "apps", kind: "Deployment", namespace: h.namespace, name });
const deploymentPath = (h: Harness, name: string) => `/apis/apps/v1/namespaces/${h.namespace}/deployments/${name}`;

/** Writes a Deployment's status as kube-controller-manager would: a merge patch of the status subresource. */
async function writeStatus(h: Harness, name: string, status: Record<string, unknown>): Promise<void> {
  const live = await h.raw.get({ group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespace: h.namespace, name });
  const generation = getPath(live, ["metadata", "generation"]);
  await h.raw.request({
    method: "PATCH", path: `${deploymentPath(h, name)}/status`, query: { fieldManager: "kube-controller-manager" },
    body: JSON.stringify({ status: { observedGeneration: generation, ...status } }), contentType: "application/merge-patch+json",
  });
}

const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
const condition = (type: string, status: string, reason: string) => ({ type, status, reason, message: reason, lastUpdateTime: now, lastTransitionTime: now });

describe("KubernetesSession.wait", () => {
  it("returns at once for a healthy ConfigMap", async () => {
    await applyActions(h, [desired(h, namespaceObject(h)), desired(h, configMap(h, "app", { a: "1" }))]);
    const started = performance.now();
    const report = await h.session.wait([{ group: "", kind: "ConfigMap", namespace: h.namespace, name: "app" }], { timeoutMs: 5_000 });
    assert.deepEqual(report, { timedOut: false, entries: [{ ref: { group: "", kind: "ConfigMap", namespace: h.namespace, name: "app" }, health: "healthy", message: "exists" }] });
    assert.ok(performance.now() - started < 1_000);
  });

  it("keeps a Deployment progressing until its controller reports it available", { skip: process.env["GITWARD_TEST_KUBECONFIG"] !== undefined && "a real controller owns the status" }, async () => {
    await applyActions(h, [desired(h, namespaceObject(h)), desired(h, deployment(h, "web", 2))]);
    let settled = false;
    const waiting = h.session.wait([deploymentRef(h, "web")], { timeoutMs: 10_000 }).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(settled, false, "still progressing: the controller reports 0 of 2 available");
    await writeStatus(h, "web", {
      replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: null,
      conditions: [condition("Available", "True", "MinimumReplicasAvailable"), condition("Progressing", "True", "NewReplicaSetAvailable")],
    });
    const report = await waiting;
    assert.equal(report.timedOut, false);
    assert.equal(report.entries[0]?.health, "healthy");
  });

  it("times out with the current health when a Deployment never becomes available", async () => {
    await applyActions(h, [desired(h, namespaceObject(h)), desired(h, deployment(h, "web"))]);
    const report = await h.session.wait([deploymentRef(h, "web"), { group: "", kind: "ConfigMap", namespace: h.namespace, name: "missing" }], { timeoutMs: 400 });
    assert.equal(report.timedOut, true);
    assert.deepEqual(report.entries.map((e) => e.health), ["progressing", "missing"]);
  });

  it("stops at the first degraded object", { skip: process.env["GITWARD_TEST_KUBECONFIG"] !== undefined && "a real controller owns the status" }, async () => {
    await applyActions(h, [desired(h, namespaceObject(h)), desired(h, deployment(h, "stuck")), desired(h, deployment(h, "web"))]);
    await new Promise((r) => setTimeout(r, 100));
    await writeStatus(h, "stuck", { conditions: [condition("Progressing", "False", "ProgressDeadlineExceeded")] });
    const report = await h.session.wait([deploymentRef(h, "stuck"), deploymentRef(h, "web")], { timeoutMs: 10_000 });
    assert.equal(report.timedOut, false);
    assert.equal(report.entries[0]?.health, "degraded");
    assert.match(report.entries[0]?.message ?? "", /ProgressDeadlineExceeded/);
  });

  it("ends with the caller's signal", async () => {
    await applyActions(h, [desired(h, namespaceObject(h)), desired(h, deployment(h, "web"))]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stopped by the test")), 200);
    await assert.rejects(h.session.wait([deploymentRef(h, "web")], { timeoutMs: 10_000, signal: controller.signal }), /stopped by the test/);
  });
});
