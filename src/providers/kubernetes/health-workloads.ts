import type { KObject } from "../../core/object.ts";
import { isRecord } from "../../core/object.ts";
import { Health } from "../provider.ts";
import type { HealthResult } from "./health-result.ts";
import { degraded, generationBehind, healthy, progressing } from "./health-result.ts";
import { describeCondition, findCondition, numberAt, stringAt, valueAt } from "./object-status.ts";

/**
 * Health of the built-in workload kinds, after kstatus: the controller must have observed the
 * latest generation, then the replica counters must reach the desired count.
 */

/** Deployment: stuck on `ProgressDeadlineExceeded` is degraded; zero replicas with no counters is healthy. */
export function deploymentHealth(obj: KObject): HealthResult {
  const behind = generationBehind(obj, true);
  if (behind !== undefined) return behind;
  const progress = findCondition(obj, "Progressing");
  if (progress?.status === "False" && progress.reason === "ProgressDeadlineExceeded") return degraded(describeCondition(progress));
  if (valueAt(obj, ["spec", "paused"]) === true) return healthy("rollout paused");
  const want = numberAt(obj, ["spec", "replicas"], 1);
  const updated = numberAt(obj, ["status", "updatedReplicas"], 0);
  const total = numberAt(obj, ["status", "replicas"], 0);
  const available = numberAt(obj, ["status", "availableReplicas"], 0);
  if (updated < want) return progressing(`updated ${updated} of ${want} replicas`);
  if (total > updated) return progressing(`${total - updated} old replicas pending termination`);
  if (available < updated) return progressing(`available ${available} of ${want} replicas`);
  return healthy(`${available} of ${want} replicas available`);
}

/** StatefulSet: all replicas ready and on the update revision (above the partition, if any). */
export function statefulSetHealth(obj: KObject): HealthResult {
  const behind = generationBehind(obj, true);
  if (behind !== undefined) return behind;
  const want = numberAt(obj, ["spec", "replicas"], 1);
  const created = numberAt(obj, ["status", "replicas"], 0);
  const ready = numberAt(obj, ["status", "readyReplicas"], 0);
  if (created < want) return progressing(`created ${created} of ${want} replicas`);
  if (ready < want) return progressing(`ready ${ready} of ${want} replicas`);
  if (stringAt(obj, ["spec", "updateStrategy", "type"]) === "OnDelete") return healthy(`${ready} of ${want} replicas ready`);
  const updated = numberAt(obj, ["status", "updatedReplicas"], 0);
  const partition = numberAt(obj, ["spec", "updateStrategy", "rollingUpdate", "partition"], 0);
  if (partition > 0) {
    const target = Math.max(0, want - partition);
    if (updated < target) return progressing(`updated ${updated} of ${target} replicas above partition ${partition}`);
    return healthy(`partitioned rollout: ${updated} replicas updated above partition ${partition}`);
  }
  if (updated < want) return progressing(`updated ${updated} of ${want} replicas`);
  const current = stringAt(obj, ["status", "currentRevision"]);
  const update = stringAt(obj, ["status", "updateRevision"]);
  if (current !== update) return progressing(`rolling out revision ${update ?? "?"} (current ${current ?? "?"})`);
  return healthy(`${ready} of ${want} replicas ready`);
}

/** DaemonSet: scheduled, updated and available on every node that should run it; none is healthy. */
export function daemonSetHealth(obj: KObject): HealthResult {
  const behind = generationBehind(obj, true);
  if (behind !== undefined) return behind;
  const desired = numberAt(obj, ["status", "desiredNumberScheduled"], 0);
  if (desired === 0) return healthy("no node should run it");
  const scheduled = numberAt(obj, ["status", "currentNumberScheduled"], 0);
  if (scheduled < desired) return progressing(`scheduled on ${scheduled} of ${desired} nodes`);
  if (stringAt(obj, ["spec", "updateStrategy", "type"]) !== "OnDelete") {
    const updated = numberAt(obj, ["status", "updatedNumberScheduled"], 0);
    if (updated < desired) return progressing(`updated on ${updated} of ${desired} nodes`);
  }
  const available = numberAt(obj, ["status", "numberAvailable"], 0);
  if (available < desired) return progressing(`available on ${available} of ${desired} nodes`);
  return healthy(`available on ${available} of ${desired} nodes`);
}

/** ReplicaSet: `ReplicaFailure=True` (e.g. a quota refusing pods) is degraded. */
export function replicaSetHealth(obj: KObject): HealthResult {
  const behind = generationBehind(obj, true);
  if (behind !== undefined) return behind;
  const failure = findCondition(obj, "ReplicaFailure");
  if (failure?.status === "True") return degraded(describeCondition(failure));
  const want = numberAt(obj, ["spec", "replicas"], 1);
  const created = numberAt(obj, ["status", "replicas"], 0);
  const ready = numberAt(obj, ["status", "readyReplicas"], 0);
  const available = numberAt(obj, ["status", "availableReplicas"], 0);
  if (created < want) return progressing(`created ${created} of ${want} replicas`);
  if (ready < want) return progressing(`ready ${ready} of ${want} replicas`);
  if (available < want) return progressing(`available ${available} of ${want} replicas`);
  return healthy(`${available} of ${want} replicas available`);
}

/** Job: `Complete` healthy, `Failed` degraded, suspended healthy, otherwise progressing. */
export function jobHealth(obj: KObject): HealthResult {
  const complete = findCondition(obj, "Complete");
  if (complete?.status === "True") return healthy("completed");
  const failed = findCondition(obj, "Failed");
  if (failed?.status === "True") return degraded(describeCondition(failed));
  const suspended = findCondition(obj, "Suspended");
  if (suspended?.status === "True") return healthy("suspended");
  const active = numberAt(obj, ["status", "active"], 0);
  if (active > 0) return progressing(`${active} active pod${active === 1 ? "" : "s"}`);
  return progressing("waiting to start");
}

// Waiting reasons that do not clear without a change to the spec or the cluster.
const failedWaitingReasons = new Set([
  "CrashLoopBackOff",
  "ImagePullBackOff",
  "ErrImagePull",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
]);

/** Pod: by phase; a container stuck in e.g. `CrashLoopBackOff` or `ImagePullBackOff` is degraded. */
export function podHealth(obj: KObject): HealthResult {
  const phase = stringAt(obj, ["status", "phase"]);
  if (phase === "Succeeded") return healthy("completed");
  if (phase === "Failed") {
    const why = [stringAt(obj, ["status", "reason"]), stringAt(obj, ["status", "message"])].filter((s) => s !== undefined);
    return degraded(why.length > 0 ? why.join(": ") : "failed");
  }
  if (phase === "Unknown") return { health: Health.Unknown, message: "the node stopped reporting" };
  const stuck = stuckContainer(obj);
  if (stuck !== undefined) return degraded(stuck);
  if (phase === "Running") {
    const ready = findCondition(obj, "Ready");
    return ready?.status === "True" ? healthy("running and ready") : progressing("running, not ready");
  }
  const scheduled = findCondition(obj, "PodScheduled");
  if (scheduled?.status === "False") return progressing(`pending: ${describeCondition(scheduled)}`);
  return progressing(`phase ${phase ?? "not reported yet"}`);
}

function stuckContainer(obj: KObject): string | undefined {
  for (const list of ["initContainerStatuses", "containerStatuses"]) {
    const statuses = valueAt(obj, ["status", list]);
    if (!Array.isArray(statuses)) continue;
    for (const s of statuses) {
      if (!isRecord(s)) continue;
      const waiting = isRecord(s["state"]) ? s["state"]["waiting"] : undefined;
      const reason = isRecord(waiting) ? waiting["reason"] : undefined;
      if (typeof reason !== "string" || !failedWaitingReasons.has(reason)) continue;
      const message = isRecord(waiting) && typeof waiting["message"] === "string" ? `: ${waiting["message"]}` : "";
      return `container ${typeof s["name"] === "string" ? s["name"] : "?"}: ${reason}${message}`;
    }
  }
  return undefined;
}
