import type { Cluster } from "./cluster.ts";
import { finalizersOf, isDeleting } from "./cluster.ts";
import type { Scheduler } from "./controller-kit.ts";
import { controllerUpdate, identity } from "./controller-kit.ts";
import type { CrdInfo } from "./crd-schema.ts";
import { crdInfo, crdResourceTypes } from "./crd-schema.ts";
import { crdCleanupFinalizer } from "./handlers-delete.ts";
import type { StoreEvent } from "./store.ts";
import { metadataOf, storageKey } from "./store.ts";
import type { JsonObject } from "./values.ts";
import { clone, ensureObject, isObject } from "./values.ts";

const crds = storageKey("apiextensions.k8s.io", "customresourcedefinitions");
// The apiextensions controllers run inside the API server and write as this client.
const manager = "Go-http-client";

/**
 * The apiextensions controllers: a new CRD has its names accepted and becomes Established
 * after `crdEstablishDelayMs`, and only then are its resources served and discoverable; a
 * deleted CRD has its instances deleted, then loses its cleanup finalizer and its routes.
 */
export function crdController(cluster: Cluster, scheduler: Scheduler): (e: StoreEvent) => void {
  const cleaning = new Set<string>();
  const cleanupSoon = (name: string, delay: number) => {
    if (cleaning.has(name)) return;
    cleaning.add(name);
    scheduler.after(delay, () => {
      cleaning.delete(name);
      cleanup(cluster, name);
    });
  };
  return (e) => {
    if (e.storage !== crds) {
      for (const info of cluster.establishedCrds().values()) {
        if (e.storage === storageKey(info.group, info.plural) && isTerminating(cluster, info.name)) cleanupSoon(info.name, 0);
      }
      return;
    }
    if (e.type === "ADDED") scheduler.after(cluster.timing.crdEstablishDelayMs, () => establish(cluster, e.name));
    else if (e.type === "DELETED") unregister(cluster, e.name);
    else if (isDeleting(e.object)) cleanupSoon(e.name, cluster.timing.crdCleanupDelayMs);
    else if (cluster.establishedCrds().has(e.name)) register(cluster, crdInfo(e.object));
  };
}

function isTerminating(cluster: Cluster, name: string): boolean {
  const crd = cluster.store.get(crds, "", name);
  return crd !== undefined && isDeleting(crd);
}

function crdType(cluster: Cluster) {
  return cluster.builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions");
}

/** Accepts a CRD's names, marks it Established and serves its resources. */
export function establish(cluster: Cluster, name: string): void {
  const live = cluster.store.get(crds, "", name);
  if (live === undefined || isDeleting(live)) return;
  const info = crdInfo(live);
  if (cluster.establishedCrds().has(name)) return register(cluster, info);
  const now = cluster.timestamp();
  controllerUpdate(cluster, crdType(cluster), { namespace: "", name }, manager, "status", (next) => {
    const status = ensureObject(next, ["status"]);
    status["conditions"] = [
      { type: "NamesAccepted", status: "True", lastTransitionTime: now, reason: "NoConflicts", message: "no conflicts found" },
      { type: "Established", status: "True", lastTransitionTime: now, reason: "InitialNamesAccepted", message: "the initial names have been accepted" },
    ];
    status["acceptedNames"] = acceptedNames(info);
  });
  register(cluster, info);
}

function acceptedNames(info: CrdInfo): JsonObject {
  return {
    plural: info.plural,
    singular: info.singular,
    ...(info.shortNames.length > 0 ? { shortNames: info.shortNames } : {}),
    kind: info.kind,
    listKind: info.listKind,
    ...(info.categories.length > 0 ? { categories: info.categories } : {}),
  };
}

function register(cluster: Cluster, info: CrdInfo): void {
  cluster.setCrd(info.name, info);
  cluster.registry.setCustom(info.name, crdResourceTypes(info));
}

function unregister(cluster: Cluster, name: string): void {
  cluster.setCrd(name, undefined);
  cluster.registry.removeCustom(name);
}

function cleanup(cluster: Cluster, name: string): void {
  const crd = cluster.store.get(crds, "", name);
  if (crd === undefined || !isDeleting(crd)) return;
  const info = crdInfo(crd);
  controllerUpdate(cluster, crdType(cluster), { namespace: "", name }, manager, "status", (next) => {
    const conditions = ensureObject(next, ["status"])["conditions"];
    const terminating = Array.isArray(conditions) ? conditions.find((c) => isObject(c) && c["type"] === "Terminating") : undefined;
    if (isObject(terminating)) {
      terminating["reason"] = "InstanceDeletionInProgress";
      terminating["message"] = "CustomResource deletion is in progress";
    }
  });
  const storage = storageKey(info.group, info.plural);
  const instances = cluster.store.list(storage);
  for (const obj of instances) {
    const { namespace, name: objName } = identity(obj);
    if (finalizersOf(obj).length === 0) cluster.store.remove(storage, namespace, objName);
    else if (!isDeleting(obj)) cluster.store.put(storage, markDeleting(cluster, obj));
  }
  if (cluster.store.list(storage).length > 0) return;
  const latest = cluster.store.get(crds, "", name);
  if (latest === undefined) return;
  const rest = finalizersOf(latest).filter((f) => f !== crdCleanupFinalizer);
  if (rest.length > 0) {
    const next = clone(latest);
    metadataOf(next)["finalizers"] = rest;
    cluster.store.put(crds, next);
    return;
  }
  cluster.store.remove(crds, "", name);
}

function markDeleting(cluster: Cluster, obj: JsonObject): JsonObject {
  const next = clone(obj);
  const meta = metadataOf(next);
  meta["deletionTimestamp"] = cluster.timestamp();
  meta["deletionGracePeriodSeconds"] = 0;
  if (typeof meta["generation"] === "number") meta["generation"] = meta["generation"] + 1;
  return next;
}
