import { isRecord } from "../../core/object.ts";
import type { KObject } from "../../core/object.ts";
import { splitApiVersion } from "../../core/objref.ts";
import { Health } from "../provider.ts";
import {
  daemonSetHealth,
  deploymentHealth,
  jobHealth,
  podHealth,
  replicaSetHealth,
  statefulSetHealth,
} from "./health-workloads.ts";
import type { HealthResult } from "./health-result.ts";
import { degraded, generationBehind, healthy, progressing } from "./health-result.ts";
import { describeCondition, findCondition, optionalNumberAt, stringAt, valueAt } from "./object-status.ts";

export type { HealthResult } from "./health-result.ts";

type KindHealth = (obj: KObject) => HealthResult;

// Keyed by `group/Kind`, so a custom `Deployment` kind in another group is read generically.
const byKind: Readonly<Record<string, KindHealth>> = {
  "apps/Deployment": deploymentHealth,
  "apps/StatefulSet": statefulSetHealth,
  "apps/DaemonSet": daemonSetHealth,
  "apps/ReplicaSet": replicaSetHealth,
  "batch/Job": jobHealth,
  "/Pod": podHealth,
  "/PersistentVolumeClaim": pvcHealth,
  "/Service": serviceHealth,
  "/Namespace": namespaceHealth,
  "apiextensions.k8s.io/CustomResourceDefinition": crdHealth,
  "apiregistration.k8s.io/APIService": apiServiceHealth,
};

/**
 * Health in the kstatus style: a pure function of one live object, read from its status as the
 * controllers wrote it. `missing` is never returned here; the caller knows when an object is absent.
 *
 * Decisions beyond kstatus:
 * - an object being deleted is `progressing`;
 * - a suspended Job is `healthy`: it is exactly what `spec.suspend: true` asked for, and waiting
 *   for it to run would only end at the timeout;
 * - a DaemonSet no node matches (`desiredNumberScheduled` 0, as on a cluster without nodes) is
 *   `healthy`: there is nothing to roll out;
 * - a paused Deployment is `healthy` once its generation is observed: the pause is the desired state;
 * - a LoadBalancer Service without an address is `progressing`, but an Ingress is `healthy` once it
 *   exists: many ingress controllers never write an address (07-status/19), and waiting would hang;
 * - `Ready=False` is `progressing`, not `degraded`, as in kstatus: controllers report it while they
 *   work. Only `Stalled=True` (and kind-specific failure reasons) are `degraded`.
 */
export function objectHealth(obj: KObject): HealthResult {
  if (!isRecord(obj) || typeof obj["kind"] !== "string") return { health: Health.Unknown, message: "not a Kubernetes object" };
  if (valueAt(obj, ["metadata", "deletionTimestamp"]) !== undefined) return progressing("being deleted");
  const apiVersion = typeof obj["apiVersion"] === "string" ? obj["apiVersion"] : "";
  const specific = byKind[`${splitApiVersion(apiVersion).group}/${obj["kind"]}`];
  return specific !== undefined ? specific(obj) : genericHealth(obj);
}

/**
 * Health of any object from the conventions: `status.observedGeneration` behind
 * `metadata.generation`, then `Stalled`, `Reconciling` and `Ready` conditions; an object with
 * none of them is healthy because it exists.
 */
export function genericHealth(obj: KObject): HealthResult {
  const behind = generationBehind(obj, false);
  if (behind !== undefined) return behind;
  const stalled = findCondition(obj, "Stalled");
  if (stalled?.status === "True") return degraded(describeCondition(stalled));
  const reconciling = findCondition(obj, "Reconciling");
  if (reconciling?.status === "True") return progressing(describeCondition(reconciling));
  const ready = findCondition(obj, "Ready");
  if (ready !== undefined) {
    const generation = optionalNumberAt(obj, ["metadata", "generation"]);
    if (ready.observedGeneration !== undefined && generation !== undefined && ready.observedGeneration < generation) {
      return progressing(`Ready condition is for generation ${ready.observedGeneration}, not ${generation}`);
    }
    if (ready.status === "True") return healthy(ready.message ?? "ready");
    return progressing(describeCondition(ready));
  }
  return healthy("exists");
}

function pvcHealth(obj: KObject): HealthResult {
  const phase = stringAt(obj, ["status", "phase"]);
  if (phase === "Bound") return healthy("bound");
  if (phase === "Lost") return degraded("the bound volume is lost");
  return progressing(`waiting to be bound (phase ${phase ?? "unknown"})`);
}

function serviceHealth(obj: KObject): HealthResult {
  if (stringAt(obj, ["spec", "type"]) !== "LoadBalancer") return healthy("exists");
  const ingress = valueAt(obj, ["status", "loadBalancer", "ingress"]);
  if (Array.isArray(ingress) && ingress.length > 0) return healthy("load balancer ready");
  return progressing("waiting for a load balancer address");
}

function namespaceHealth(obj: KObject): HealthResult {
  const phase = stringAt(obj, ["status", "phase"]);
  if (phase === "Terminating") return progressing("terminating");
  return phase === "Active" ? healthy("active") : progressing(`phase ${phase ?? "not reported yet"}`);
}

function crdHealth(obj: KObject): HealthResult {
  const names = findCondition(obj, "NamesAccepted");
  if (names?.status === "False") return degraded(describeCondition(names));
  const established = findCondition(obj, "Established");
  if (established?.status === "True") return healthy("established");
  return progressing(established !== undefined ? describeCondition(established) : "waiting to be established");
}

// Available=False is usually a backend still starting; the wait's timeout ends a lasting one.
function apiServiceHealth(obj: KObject): HealthResult {
  const available = findCondition(obj, "Available");
  if (available?.status === "True") return healthy("available");
  return progressing(available !== undefined ? describeCondition(available) : "waiting to be available");
}
