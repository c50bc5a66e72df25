import { createHash } from "node:crypto";
import type { Cluster } from "./cluster.ts";
import { isDeleting, uidOf } from "./cluster.ts";
import type { Scheduler } from "./controller-kit.ts";
import { controllerUpdate, identity } from "./controller-kit.ts";
import type { StoreEvent } from "./store.ts";
import { metadataOf, storageKey } from "./store.ts";
import type { JsonObject } from "./values.ts";
import { ensureObject, isObject, objectAt } from "./values.ts";

/**
 * How Deployments progress: "pending" as on the recorded cluster, which had no scheduler and
 * no kubelet (pods stay Pending, Available=False); "ready" as if every pod became ready.
 */
export type WorkloadMode = "pending" | "ready";

const deployments = storageKey("apps", "deployments");

/**
 * The deployment controller's status writes (kube-controller-manager, status subresource): for
 * each new generation, the revision annotation and the three status updates of a rollout.
 */
export function deploymentController(cluster: Cluster, scheduler: Scheduler, mode: WorkloadMode): (e: StoreEvent) => void {
  const pending = new Set<string>();
  const revisions = new Map<string, { template: string; revision: number }>();
  return (e) => {
    if (e.storage !== deployments || e.type === "DELETED" || isDeleting(e.object)) return;
    const generation = metadataOf(e.object)["generation"];
    if (generation === objectAt(e.object, "status")?.["observedGeneration"]) return;
    const key = `${e.namespace}/${e.name}`;
    if (pending.has(key)) return;
    pending.add(key);
    scheduler.after(cluster.timing.deploymentStatusDelayMs, () => {
      // Still pending while the rollout writes: its own first write (before observedGeneration is
      // set) must not schedule a second rollout, whose condition timestamps would add MODIFIED events.
      try {
        rollout(cluster, identity(e.object), mode, revisions);
      } finally {
        pending.delete(key);
      }
    });
  };
}

function rollout(
  cluster: Cluster,
  id: { namespace: string; name: string },
  mode: WorkloadMode,
  revisions: Map<string, { template: string; revision: number }>,
): void {
  const r = cluster.builtin("apps", "v1", "deployments");
  const live = cluster.get(r, id.namespace, id.name);
  if (live === undefined) return;
  const spec = objectAt(live, "spec") ?? {};
  const template = JSON.stringify(spec["template"] ?? {});
  const known = revisions.get(uidOf(live));
  const revision = known === undefined ? 1 : known.template === template ? known.revision : known.revision + 1;
  revisions.set(uidOf(live), { template, revision });
  const rs = `${id.name}-${createHash("sha256").update(template).digest("hex").slice(0, 9)}`;
  const replicas = typeof spec["replicas"] === "number" ? spec["replicas"] : 1;
  const generation = metadataOf(live)["generation"];
  const write = (mutate: (status: JsonObject, conditions: Conditions) => void) =>
    controllerUpdate(cluster, r, id, "kube-controller-manager", "status", (next) => {
      ensureObject(next, ["metadata", "annotations"])["deployment.kubernetes.io/revision"] = String(revision);
      const status = ensureObject(next, ["status"]);
      mutate(status, new Conditions(status, cluster.timestamp()));
    });
  if (mode === "ready" || replicas === 0) {
    write((status, c) => {
      Object.assign(status, { observedGeneration: generation });
      if (replicas > 0) Object.assign(status, { replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas });
      delete status["unavailableReplicas"];
      c.set("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.");
      c.set("Progressing", "True", "NewReplicaSetAvailable", `ReplicaSet "${rs}" has successfully progressed.`);
    });
    return;
  }
  write((_status, c) => c.setIfAbsent("Progressing", "True", "NewReplicaSetCreated", `Created new replica set "${rs}"`));
  write((status, c) => {
    Object.assign(status, { observedGeneration: generation, unavailableReplicas: replicas });
    c.set("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.");
  });
  write((status, c) => {
    Object.assign(status, { observedGeneration: generation, replicas, updatedReplicas: replicas, unavailableReplicas: replicas });
    c.order(["Available", "Progressing"]);
    c.set("Progressing", "True", "ReplicaSetUpdated", `ReplicaSet "${rs}" is progressing.`);
  });
}

// Deployment conditions with the controller's bookkeeping of transition times.
class Conditions {
  private readonly status: JsonObject;
  private readonly now: string;
  constructor(status: JsonObject, now: string) {
    this.status = status;
    this.now = now;
    if (!Array.isArray(status["conditions"])) status["conditions"] = [];
  }
  private list(): JsonObject[] {
    return (this.status["conditions"] as unknown[]).filter(isObject);
  }
  set(type: string, status: string, reason: string, message: string): void {
    const list = this.list();
    const old = list.find((c) => c["type"] === type);
    const transition = old !== undefined && old["status"] === status ? old["lastTransitionTime"] : this.now;
    const next = { type, status, lastUpdateTime: this.now, lastTransitionTime: transition, reason, message };
    this.status["conditions"] = old === undefined ? [...list, next] : list.map((c) => (c === old ? next : c));
  }
  setIfAbsent(type: string, status: string, reason: string, message: string): void {
    if (!this.list().some((c) => c["type"] === type)) this.set(type, status, reason, message);
  }
  order(types: readonly string[]): void {
    const list = this.list();
    this.status["conditions"] = [...types.map((t) => list.find((c) => c["type"] === t)).filter(isObject), ...list.filter((c) => !types.includes(String(c["type"])))];
  }
}
