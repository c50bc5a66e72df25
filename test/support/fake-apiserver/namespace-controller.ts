import type { Cluster } from "./cluster.ts";
import { finalizersOf, isDeleting } from "./cluster.ts";
import type { Scheduler } from "./controller-kit.ts";
import { controllerCreate, identity } from "./controller-kit.ts";
import { tracksGeneration } from "./defaults.ts";
import type { StoreEvent } from "./store.ts";
import { metadataOf, storageKey } from "./store.ts";
import type { JsonObject } from "./values.ts";
import { clone, ensureObject } from "./values.ts";

const namespaces = storageKey("", "namespaces");

const caDescription =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal " +
  "service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/**
 * What kube-controller-manager does for namespaces: every new namespace gets a `default`
 * ServiceAccount and a `kube-root-ca.crt` ConfigMap at once; a deleted namespace is emptied
 * (objects with finalizers get a deletionTimestamp and are waited for) and then removed.
 */
export function namespaceController(cluster: Cluster, scheduler: Scheduler): (e: StoreEvent) => void {
  const pending = new Set<string>();
  const schedule = (name: string, delay: number) => {
    if (pending.has(name)) return;
    pending.add(name);
    scheduler.after(delay, () => {
      pending.delete(name);
      finalize(cluster, name);
    });
  };
  const terminating = new Set<string>();
  return (e) => {
    if (e.storage === namespaces) {
      if (e.type === "ADDED") populate(cluster, e.name);
      if (e.type === "DELETED") terminating.delete(e.name);
      if (e.type === "MODIFIED" && isDeleting(e.object) && !terminating.has(e.name)) {
        terminating.add(e.name);
        schedule(e.name, cluster.timing.namespaceCleanupDelayMs);
      }
      return;
    }
    if (e.namespace !== "" && (e.type === "DELETED" || isDeleting(e.object)) && cluster.namespaceState(e.namespace) === "terminating") {
      schedule(e.namespace, 0);
    }
  };
}

/** Creates the objects the controllers put in every namespace. */
export function populate(cluster: Cluster, namespace: string): void {
  const sa = cluster.builtin("", "v1", "serviceaccounts");
  const cm = cluster.builtin("", "v1", "configmaps");
  controllerCreate(cluster, sa, namespace, { metadata: { name: "default", namespace } }, "kube-controller-manager");
  const ca = { metadata: { name: "kube-root-ca.crt", namespace, annotations: { "kubernetes.io/description": caDescription } }, data: { "ca.crt": "<redacted certificate data>" } };
  controllerCreate(cluster, cm, namespace, ca, "kube-controller-manager");
}

function finalize(cluster: Cluster, name: string): void {
  if (cluster.namespaceState(name) !== "terminating") return;
  const remaining = new Map<string, number>();
  const holders = new Map<string, number>();
  for (const type of cluster.registry.storages()) {
    if (!type.namespaced) continue;
    for (const obj of cluster.store.list(type.storage, name)) {
      const finalizers = finalizersOf(obj);
      if (finalizers.length === 0) {
        cluster.store.remove(type.storage, name, identity(obj).name);
        continue;
      }
      const resource = `${type.resource}.${type.group}`;
      remaining.set(resource, (remaining.get(resource) ?? 0) + 1);
      for (const f of finalizers) holders.set(f, (holders.get(f) ?? 0) + 1);
      if (!isDeleting(obj)) cluster.store.put(type.storage, markDeleted(cluster, obj, tracksGeneration(type)));
    }
  }
  const ns = cluster.store.get(namespaces, "", name);
  if (ns === undefined) return;
  if (remaining.size === 0) {
    cluster.store.remove(namespaces, "", name);
    return;
  }
  if (ensureObject(ns, ["status"])["conditions"] !== undefined) return;
  const next = clone(ns);
  ensureObject(next, ["status"])["conditions"] = conditions(cluster.timestamp(), remaining, holders);
  cluster.store.put(namespaces, next);
}

function markDeleted(cluster: Cluster, obj: JsonObject, generation: boolean): JsonObject {
  const next = clone(obj);
  const meta = metadataOf(next);
  meta["deletionTimestamp"] = cluster.timestamp();
  meta["deletionGracePeriodSeconds"] = 0;
  if (generation && typeof meta["generation"] === "number") meta["generation"] = meta["generation"] + 1;
  return next;
}

function conditions(now: string, remaining: ReadonlyMap<string, number>, holders: ReadonlyMap<string, number>): JsonObject[] {
  const resources = [...remaining].map(([r, n]) => `${r} has ${n} resource instances`).join(", ");
  const finalizers = [...holders].map(([f, n]) => `${f} in ${n} resource instances`).join(", ");
  const c = (type: string, status: string, reason: string, message: string) => ({ type, status, lastTransitionTime: now, reason, message });
  return [
    c("NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered", "All resources successfully discovered"),
    c("NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
    c("NamespaceDeletionContentFailure", "False", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
    c("NamespaceContentRemaining", "True", "SomeResourcesRemain", `Some resources are remaining: ${resources}`),
    c("NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain", `Some content in the namespace has finalizers remaining: ${finalizers}`),
  ];
}
