import type { KObject } from "../../core/object.ts";
import { getPath } from "../../core/object.ts";
import type { ObjRef } from "../../core/objref.ts";
import { formatRef } from "../../core/objref.ts";

/**
 * Apply order, kept as data. Objects go in three phases, each split into waves:
 *
 * 1. `crds`: CustomResourceDefinitions, so the kinds they define exist before their objects;
 * 2. `cluster`: Namespaces and the built-in cluster-scoped kinds others depend on (ClusterRoles,
 *    StorageClasses, PriorityClasses, ...);
 * 3. `main`: everything else.
 *
 * Within a phase, the `gitward.dev/wave` annotation (an integer, default 0) splits objects into
 * waves, lower first. Within a wave, objects go by kind (configuration and RBAC, then Services, then
 * workloads, then what points at workloads), then custom kinds, then webhooks and APIServices last,
 * because they route API calls to Services that must be running first. Ties go by namespace and
 * name, and objects the same in all keep their input order. Prune goes the exact reverse way.
 */

/** The annotation naming an object's wave. */
export const waveAnnotation = "gitward.dev/wave";

/** The phases, in apply order. */
export const Phase = { Crds: "crds", Cluster: "cluster", Main: "main" } as const;
/** One of {@link Phase}. */
export type Phase = (typeof Phase)[keyof typeof Phase];

/** What ordering needs of an object: its ref, and the object itself when known (for its wave). */
export interface OrderItem {
  readonly ref: ObjRef;
  readonly object?: KObject;
}

/** The objects of one phase and wave, in order. */
export interface OrderedGroup<T extends OrderItem> {
  readonly phase: Phase;
  readonly wave: number;
  readonly objects: readonly T[];
}

/** An object that could not be placed, with why. */
export interface OrderError {
  readonly ref: ObjRef;
  /** `ConfigMap/demo/app: invalid gitward.dev/wave "1.5": not an integer`. */
  readonly message: string;
}

/** The apply (or prune) order of a batch. Objects with an error are in `errors`, not in `groups`. */
export interface OrderResult<T extends OrderItem> {
  readonly groups: readonly OrderedGroup<T>[];
  readonly errors: readonly OrderError[];
}

const crdKind = "apiextensions.k8s.io/CustomResourceDefinition";

// Keyed by `group/Kind`; the position is the order inside a wave of the `cluster` phase.
const clusterKinds: readonly string[] = [
  "/Namespace",
  "policy/PodSecurityPolicy",
  "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/ClusterRoleBinding",
  "scheduling.k8s.io/PriorityClass",
  "storage.k8s.io/StorageClass",
  "storage.k8s.io/CSIDriver",
  "/PersistentVolume",
  "node.k8s.io/RuntimeClass",
  "networking.k8s.io/IngressClass",
  "flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration",
  "flowcontrol.apiserver.k8s.io/FlowSchema",
];

// The order inside a wave of the `main` phase. Custom kinds go between `customKindsAt` and the rest.
const mainKinds: readonly string[] = [
  "/ResourceQuota",
  "/LimitRange",
  "networking.k8s.io/NetworkPolicy",
  "/ServiceAccount",
  "/Secret",
  "/ConfigMap",
  "rbac.authorization.k8s.io/Role",
  "rbac.authorization.k8s.io/RoleBinding",
  "/PersistentVolumeClaim",
  "/Service",
  "/Endpoints",
  "discovery.k8s.io/EndpointSlice",
  "apps/DaemonSet",
  "/Pod",
  "/ReplicationController",
  "apps/ReplicaSet",
  "apps/Deployment",
  "apps/StatefulSet",
  "batch/Job",
  "batch/CronJob",
  "autoscaling/HorizontalPodAutoscaler",
  "policy/PodDisruptionBudget",
  "networking.k8s.io/Ingress",
  "<custom>",
  "apiregistration.k8s.io/APIService",
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
];
const customKindsAt = mainKinds.indexOf("<custom>");

/** The phase an object belongs to. */
export function phaseOf(ref: ObjRef): Phase {
  const key = `${ref.group}/${ref.kind}`;
  if (key === crdKind) return Phase.Crds;
  return clusterKinds.includes(key) ? Phase.Cluster : Phase.Main;
}

/** The wave of an object from its annotation: 0 when absent, an error message when not an integer. */
export function waveOf(item: OrderItem): { readonly wave: number } | { readonly error: string } {
  const raw = item.object === undefined ? undefined : getPath(item.object, ["metadata", "annotations", waveAnnotation]);
  if (raw === undefined || raw === null) return { wave: 0 };
  const text = typeof raw === "string" ? raw.trim() : JSON.stringify(raw);
  const wave = /^[+-]?\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(wave)) {
    return { error: `${formatRef(item.ref)}: invalid ${waveAnnotation} ${JSON.stringify(text)}: not an integer` };
  }
  return { wave: wave === 0 ? 0 : wave };
}

/** Orders a batch for apply: phases, then waves, then kinds, then namespace and name. */
export function applyOrder<T extends OrderItem>(items: readonly T[]): OrderResult<T> {
  const errors: OrderError[] = [];
  const placed: { item: T; phase: Phase; wave: number; index: number }[] = [];
  items.forEach((item, index) => {
    const w = waveOf(item);
    if ("error" in w) errors.push({ ref: item.ref, message: w.error });
    else placed.push({ item, phase: phaseOf(item.ref), wave: w.wave, index });
  });
  placed.sort(
    (a, b) =>
      phaseRank(a.phase) - phaseRank(b.phase) ||
      a.wave - b.wave ||
      compareByKind(a.item.ref, b.item.ref) ||
      a.index - b.index,
  );
  const groups: { phase: Phase; wave: number; objects: T[] }[] = [];
  for (const p of placed) {
    const last = groups.at(-1);
    if (last !== undefined && last.phase === p.phase && last.wave === p.wave) last.objects.push(p.item);
    else groups.push({ phase: p.phase, wave: p.wave, objects: [p.item] });
  }
  return { groups, errors };
}

/** Orders a batch for prune: the exact reverse of {@link applyOrder}. */
export function pruneOrder<T extends OrderItem>(items: readonly T[]): OrderResult<T> {
  const { groups, errors } = applyOrder(items);
  return { groups: groups.map((g) => ({ ...g, objects: [...g.objects].reverse() })).reverse(), errors };
}

/** Compares two refs by kind rank, then kind name (custom kinds), namespace and name. */
export function compareByKind(a: ObjRef, b: ObjRef): number {
  return (
    kindRank(a) - kindRank(b) ||
    compareText(`${a.group}/${a.kind}`, `${b.group}/${b.kind}`) ||
    compareText(a.namespace ?? "", b.namespace ?? "") ||
    compareText(a.name, b.name)
  );
}

function kindRank(ref: ObjRef): number {
  const key = `${ref.group}/${ref.kind}`;
  const cluster = clusterKinds.indexOf(key);
  if (cluster >= 0) return cluster;
  const main = mainKinds.indexOf(key);
  return main >= 0 ? main : customKindsAt;
}

function phaseRank(phase: Phase): number {
  return phase === Phase.Crds ? 0 : phase === Phase.Cluster ? 1 : 2;
}

// Code-point order, so the result does not depend on the machine's locale.
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
