import type { Cluster } from "./cluster.ts";
import { finalizersOf, isDeleting, uidOf } from "./cluster.ts";
import type { Scheduler } from "./controller-kit.ts";
import { controllerUpdate, identity } from "./controller-kit.ts";
import type { StoreEvent, StorageKey } from "./store.ts";
import { metadataOf } from "./store.ts";
import type { JsonObject } from "./values.ts";
import { clone, isObject } from "./values.ts";

interface Dependent {
  readonly storage: StorageKey;
  readonly obj: JsonObject;
}

/**
 * The garbage collector: finishes Foreground deletes (dependents first, then the owner) and
 * Orphan deletes (dependents lose their ownerReference), and deletes the dependents of owners
 * that are gone, each after `gcDelayMs`.
 */
export function garbageCollector(cluster: Cluster, scheduler: Scheduler): (e: StoreEvent) => void {
  return (e) => {
    if (e.type === "DELETED") {
      const uid = uidOf(e.object);
      if (uid !== "") scheduler.after(cluster.timing.gcDelayMs, () => collectOrphans(cluster, uid));
      return;
    }
    const finalizers = finalizersOf(e.object);
    if (isDeleting(e.object) && (finalizers.includes("foregroundDeletion") || finalizers.includes("orphan"))) {
      const { namespace, name } = identity(e.object);
      scheduler.after(cluster.timing.gcDelayMs, () => finish(cluster, e.storage, namespace, name));
    }
  };
}

function dependentsOf(cluster: Cluster, uid: string): Dependent[] {
  const out: Dependent[] = [];
  for (const storage of cluster.store.storages()) {
    for (const obj of cluster.store.list(storage)) {
      if (ownerUids(obj).includes(uid)) out.push({ storage, obj });
    }
  }
  return out;
}

function ownerUids(obj: JsonObject): string[] {
  const refs = metadataOf(obj)["ownerReferences"];
  return Array.isArray(refs) ? refs.filter(isObject).map((r) => String(r["uid"])) : [];
}

function finish(cluster: Cluster, storage: StorageKey, namespace: string, name: string): void {
  const owner = cluster.store.get(storage, namespace, name);
  if (owner === undefined) return;
  const finalizers = finalizersOf(owner);
  const uid = uidOf(owner);
  for (const dep of dependentsOf(cluster, uid)) {
    if (finalizers.includes("orphan")) dropOwner(cluster, dep, uid);
    else deleteDependent(cluster, dep);
  }
  const next = clone(owner);
  const rest = finalizers.filter((f) => f !== "foregroundDeletion" && f !== "orphan");
  if (rest.length === 0) {
    cluster.store.remove(storage, namespace, name);
    return;
  }
  metadataOf(next)["finalizers"] = rest;
  cluster.store.put(storage, next);
}

function collectOrphans(cluster: Cluster, uid: string): void {
  for (const dep of dependentsOf(cluster, uid)) {
    const others = ownerUids(dep.obj).filter((u) => u !== uid);
    if (others.length === 0) deleteDependent(cluster, dep);
    else dropOwner(cluster, dep, uid);
  }
}

function deleteDependent(cluster: Cluster, dep: Dependent): void {
  const { namespace, name } = identity(dep.obj);
  if (finalizersOf(dep.obj).length === 0) {
    cluster.store.remove(dep.storage, namespace, name);
    return;
  }
  if (isDeleting(dep.obj)) return;
  const next = clone(dep.obj);
  metadataOf(next)["deletionTimestamp"] = cluster.timestamp();
  metadataOf(next)["deletionGracePeriodSeconds"] = 0;
  cluster.store.put(dep.storage, next);
}

// Through the API server (an Update), so the reference also leaves managedFields.
function dropOwner(cluster: Cluster, dep: Dependent, uid: string): void {
  const type = cluster.typeOfStorage(dep.storage);
  if (type === undefined) return;
  controllerUpdate(cluster, type, identity(dep.obj), "kube-controller-manager", "", (next) => {
    const meta = metadataOf(next);
    const refs = Array.isArray(meta["ownerReferences"]) ? meta["ownerReferences"].filter((r) => !(isObject(r) && r["uid"] === uid)) : [];
    if (refs.length === 0) delete meta["ownerReferences"];
    else meta["ownerReferences"] = refs;
  });
}
