import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import type { KObject } from "../../../src/core/object.ts";
import { objectHealth } from "../../../src/providers/kubernetes/health.ts";
import type { Health } from "../../../src/providers/provider.ts";
import { recordedItems, recordedObject } from "./recordings.ts";

interface Case {
  readonly name: string;
  readonly object: () => KObject;
  readonly health: Health;
  readonly message?: RegExp;
}

const recordedCases: Case[] = [
  { name: "Deployment just applied (status {})", object: () => recordedObject("07-status/01-apply-deployment-web-201.json"), health: "progressing", message: /observe generation 1/ },
  { name: "Deployment with pods unavailable", object: () => recordedObject("07-status/02-get-deployment-web-after-controller.json"), health: "progressing", message: /available 0 of 2/ },
  { name: "Deployment past its progress deadline", object: () => recordedObject("07-status/03-get-deployment-stuck-progress-deadline-exceeded.json"), health: "degraded", message: /^ProgressDeadlineExceeded: ReplicaSet "stuck-5f4df6c897" has timed out/ },
  { name: "Deployment scaled to zero, no counters", object: () => recordedObject("07-status/04-get-deployment-zero-replicas-available.json"), health: "healthy" },
  { name: "Deployment with generation ahead of observedGeneration", object: () => recordedObject("07-status/07-apply-deployment-web-new-image-generation-2.json"), health: "progressing", message: /generation 2 \(at 1\)/ },
  { name: "Deployment during a rollout", object: () => recordedObject("07-status/08-get-deployment-web-during-rollout.json"), health: "progressing", message: /updated 1 of 2/ },
  { name: "ReplicaSet with no ready pods", object: () => recordedItems("07-status/05-list-replicasets.json")[0]!, health: "progressing", message: /ready 0 of 2/ },
  { name: "Pending Pod (no scheduler)", object: () => recordedItems("07-status/06-list-pods-pending.json")[0]!, health: "progressing", message: /Pending/ },
  { name: "Job whose pod never runs", object: () => recordedObject("07-status/09-get-job-running.json"), health: "progressing", message: /1 active pod$/ },
  { name: "suspended Job", object: () => recordedObject("07-status/09b-get-job-suspended.json"), health: "healthy", message: /suspended/ },
  { name: "LoadBalancer Service just applied", object: () => recordedObject("07-status/10-apply-service-loadbalancer-201.json"), health: "progressing", message: /load balancer/ },
  { name: "LoadBalancer Service without ingress", object: () => recordedObject("07-status/11-get-service-loadbalancer.json"), health: "progressing" },
  { name: "ClusterIP Service", object: () => recordedObject("07-status/12-get-service-clusterip.json"), health: "healthy" },
  { name: "Endpoints", object: () => recordedObject("07-status/13-get-endpoints.json"), health: "healthy" },
  { name: "PVC just applied", object: () => recordedObject("07-status/15-apply-pvc-201.json"), health: "progressing", message: /bound/ },
  { name: "PVC pending", object: () => recordedObject("07-status/16-get-pvc-pending.json"), health: "progressing" },
  { name: "StatefulSet with no ready replica", object: () => recordedObject("07-status/17-get-statefulset.json"), health: "progressing", message: /ready 0 of 1/ },
  { name: "DaemonSet on a cluster with no nodes", object: () => recordedObject("07-status/18-get-daemonset-no-nodes.json"), health: "healthy", message: /no node/ },
  { name: "Ingress without load balancer status", object: () => recordedObject("07-status/19-get-ingress.json"), health: "healthy" },
  { name: "PodDisruptionBudget with disruptions not allowed", object: () => recordedObject("07-status/20-get-poddisruptionbudget.json"), health: "healthy" },
  { name: "Active Namespace", object: () => recordedObject("07-status/22-get-namespace-active.json"), health: "healthy" },
  { name: "Namespace just applied", object: () => recordedObject("03-apply/01-apply-namespace-create-201.json"), health: "healthy" },
  { name: "Terminating Namespace", object: () => recordedObject("04-errors/61-get-namespace-terminating.json"), health: "progressing", message: /being deleted/ },
  { name: "CRD create response (conditions null)", object: () => recordedObject("05-crd/01-apply-crd-create-201.json"), health: "progressing", message: /established/ },
  { name: "CRD established", object: () => recordedObject("05-crd/03-get-crd-established.json"), health: "healthy" },
  { name: "CRD terminating", object: () => recordedObject("05-crd/28-get-crd-terminating.json"), health: "progressing", message: /being deleted/ },
  { name: "Widget whose status observedGeneration is current", object: () => recordedObject("05-crd/18-get-widget.json"), health: "healthy", message: /widget is ready/ },
  { name: "Widget with a spec change not yet observed", object: () => recordedObject("05-crd/15-apply-widget-spec-change-bumps-generation-200.json"), health: "progressing", message: /generation 2 \(at 1\)/ },
];

const fixture = (name: string) => (): KObject =>
  parse(readFileSync(new URL(`fixtures/health/${name}.yaml`, import.meta.url), "utf8")) as KObject;

const fixtureCases: Case[] = [
  { name: "deployment-rolled-out", object: fixture("deployment-rolled-out"), health: "healthy", message: /2 of 2 replicas available/ },
  { name: "deployment-old-replicas-terminating", object: fixture("deployment-old-replicas-terminating"), health: "progressing", message: /1 old replicas/ },
  { name: "deployment-paused", object: fixture("deployment-paused"), health: "healthy", message: /paused/ },
  { name: "deployment-being-deleted", object: fixture("deployment-being-deleted"), health: "progressing", message: /being deleted/ },
  { name: "statefulset-ready", object: fixture("statefulset-ready"), health: "healthy" },
  { name: "statefulset-rolling-revision", object: fixture("statefulset-rolling-revision"), health: "progressing", message: /updated 1 of 2/ },
  { name: "statefulset-partitioned", object: fixture("statefulset-partitioned"), health: "healthy", message: /partition 2/ },
  { name: "daemonset-available", object: fixture("daemonset-available"), health: "healthy" },
  { name: "daemonset-updating", object: fixture("daemonset-updating"), health: "progressing", message: /updated on 1 of 3/ },
  { name: "replicaset-quota-failure", object: fixture("replicaset-quota-failure"), health: "degraded", message: /^FailedCreate: .*exceeded quota/ },
  { name: "replicaset-available", object: fixture("replicaset-available"), health: "healthy" },
  { name: "job-complete", object: fixture("job-complete"), health: "healthy" },
  { name: "job-failed", object: fixture("job-failed"), health: "degraded", message: /^BackoffLimitExceeded: / },
  { name: "job-not-started", object: fixture("job-not-started"), health: "progressing" },
  { name: "pod-running-ready", object: fixture("pod-running-ready"), health: "healthy" },
  { name: "pod-running-not-ready", object: fixture("pod-running-not-ready"), health: "progressing" },
  { name: "pod-crashloop", object: fixture("pod-crashloop"), health: "degraded", message: /^container web: CrashLoopBackOff: back-off/ },
  { name: "pod-image-pull-backoff", object: fixture("pod-image-pull-backoff"), health: "degraded", message: /ImagePullBackOff/ },
  { name: "pod-unschedulable", object: fixture("pod-unschedulable"), health: "progressing", message: /Unschedulable: 0\/3 nodes/ },
  { name: "pod-succeeded", object: fixture("pod-succeeded"), health: "healthy" },
  { name: "pod-failed", object: fixture("pod-failed"), health: "degraded", message: /^Evicted: The node was low/ },
  { name: "pod-unknown", object: fixture("pod-unknown"), health: "unknown" },
  { name: "pvc-bound", object: fixture("pvc-bound"), health: "healthy" },
  { name: "pvc-lost", object: fixture("pvc-lost"), health: "degraded" },
  { name: "service-loadbalancer-ready", object: fixture("service-loadbalancer-ready"), health: "healthy" },
  { name: "crd-names-not-accepted", object: fixture("crd-names-not-accepted"), health: "degraded", message: /MultipleConflicts/ },
  { name: "crd-just-created", object: fixture("crd-just-created"), health: "progressing" },
  { name: "apiservice-available", object: fixture("apiservice-available"), health: "healthy" },
  { name: "apiservice-unavailable", object: fixture("apiservice-unavailable"), health: "progressing", message: /FailedDiscoveryCheck/ },
  { name: "namespace-terminating", object: fixture("namespace-terminating"), health: "progressing" },
  { name: "custom-ready", object: fixture("custom-ready"), health: "healthy", message: /up to date/ },
  { name: "custom-not-ready", object: fixture("custom-not-ready"), health: "progressing", message: /^Issuing: / },
  { name: "custom-ready-stale-generation", object: fixture("custom-ready-stale-generation"), health: "progressing", message: /generation 2, not 3/ },
  { name: "custom-observed-generation-behind", object: fixture("custom-observed-generation-behind"), health: "progressing" },
  { name: "custom-stalled", object: fixture("custom-stalled"), health: "degraded", message: /^BuildFailed: kustomization path not found/ },
  { name: "custom-reconciling", object: fixture("custom-reconciling"), health: "progressing", message: /Reconciliation in progress/ },
  { name: "custom-no-status", object: fixture("custom-no-status"), health: "healthy", message: /exists/ },
  { name: "custom-deployment-kind-other-group", object: fixture("custom-deployment-kind-other-group"), health: "healthy" },
];

describe("objectHealth", () => {
  for (const c of [...recordedCases, ...fixtureCases]) {
    it(c.name, () => {
      const got = objectHealth(c.object());
      assert.equal(got.health, c.health, got.message);
      if (c.message !== undefined) assert.match(got.message, c.message);
    });
  }

  it("is unknown for something that is not an object with a kind", () => {
    assert.equal(objectHealth({ metadata: { name: "x" } }).health, "unknown");
  });

  it("does not modify the object", () => {
    const obj = recordedObject("07-status/02-get-deployment-web-after-controller.json");
    const before = structuredClone(obj);
    objectHealth(obj);
    assert.deepEqual(obj, before);
  });
});
