import type { Cluster } from "./cluster.ts";
import { finalizersOf, isDeleting, uidOf } from "./cluster.ts";
import { tracksGeneration } from "./defaults.ts";
import { badRequest, notFound, preconditionConflict } from "./errors.ts";
import { listFilter, selectObjects } from "./handlers-read.ts";
import { renderList, renderObject } from "./render.ts";
import type { Answer, ResourceRequest } from "./resource-request.ts";
import { isDryRun } from "./resource-request.ts";
import type { ResourceType } from "./resources.ts";
import { metadataOf } from "./store.ts";
import type { JsonObject } from "./values.ts";
import { clone, ensureObject, isObject, objectAt, stringAt } from "./values.ts";

/** The finalizer the CRD cleanup holds a deleted CRD with. */
export const crdCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

interface DeleteOptions {
  readonly propagationPolicy: string | undefined;
  readonly preconditions: JsonObject | undefined;
  readonly dryRun: boolean;
}

function deleteOptions(req: ResourceRequest): DeleteOptions {
  let body: JsonObject = {};
  if (req.body.trim() !== "") {
    try {
      const parsed: unknown = JSON.parse(req.body);
      if (isObject(parsed)) body = parsed;
    } catch {
      throw badRequest("the body of the request was in an unknown format");
    }
  }
  const orphan = body["orphanDependents"] === true || req.query.get("orphanDependents") === "true";
  const policy = stringAt(body, "propagationPolicy") ?? req.query.get("propagationPolicy") ?? (orphan ? "Orphan" : undefined);
  const dryRun = isDryRun(req) || (Array.isArray(body["dryRun"]) && body["dryRun"].includes("All"));
  return { propagationPolicy: policy, preconditions: objectAt(body, "preconditions"), dryRun };
}

/**
 * DELETE of one object. Background (the default) removes it and answers a Success Status;
 * Foreground and Orphan, or finalizers on the object, keep it with a deletionTimestamp and
 * answer the object, for the garbage collector (or whoever owns the finalizer) to finish.
 */
export function deleteObject(cluster: Cluster, req: ResourceRequest): Answer {
  const live = cluster.get(req.r, req.namespace, req.name);
  if (live === undefined) throw notFound(req.r, req.name);
  const opts = deleteOptions(req);
  checkPreconditions(req.r, req.name, live, opts.preconditions);
  const result = deleteOne(cluster, req.r, live, opts);
  return { status: 200, body: result === "removed" ? successStatus(req.r, live) : renderObject(req.r, result) };
}

function checkPreconditions(r: ResourceType, name: string, live: JsonObject, pre: JsonObject | undefined): void {
  const uid = stringAt(pre, "uid");
  if (uid !== undefined && uid !== uidOf(live)) {
    throw preconditionConflict(r, name, `the UID in the precondition (${uid}) does not match the UID in record (${uidOf(live)}). The object might have been deleted and then recreated`);
  }
  const rv = stringAt(pre, "resourceVersion");
  const liveRv = String(metadataOf(live)["resourceVersion"]);
  if (rv !== undefined && rv !== liveRv) {
    throw preconditionConflict(r, name, `the ResourceVersion in the precondition (${rv}) does not match the ResourceVersion in record (${liveRv}). The object might have been modified`);
  }
}

function deleteOne(cluster: Cluster, r: ResourceType, live: JsonObject, opts: DeleteOptions): JsonObject | "removed" {
  const meta = metadataOf(live);
  const namespace = typeof meta["namespace"] === "string" ? meta["namespace"] : "";
  const name = String(meta["name"]);
  const special = r.group === "" && r.kind === "Namespace" ? "namespace" : r.group === "apiextensions.k8s.io" && r.kind === "CustomResourceDefinition" ? "crd" : undefined;
  const extra = opts.propagationPolicy === "Foreground" ? "foregroundDeletion" : opts.propagationPolicy === "Orphan" ? "orphan" : undefined;
  if (special === undefined && extra === undefined && finalizersOf(live).length === 0) {
    if (!opts.dryRun) cluster.store.remove(r.storage, namespace, name);
    return "removed";
  }
  if (isDeleting(live)) return live;
  const next = clone(live);
  const nextMeta = metadataOf(next);
  nextMeta["deletionTimestamp"] = cluster.timestamp();
  if (special === "namespace") {
    ensureObject(next, ["status"])["phase"] = "Terminating";
  } else if (special === "crd") {
    nextMeta["finalizers"] = [...finalizersOf(live), crdCleanupFinalizer];
    const status = ensureObject(next, ["status"]);
    const conditions = Array.isArray(status["conditions"]) ? status["conditions"] : [];
    status["conditions"] = [
      ...conditions,
      {
        type: "Terminating",
        status: "True",
        lastTransitionTime: cluster.timestamp(),
        reason: "InstanceDeletionPending",
        message: "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
      },
    ];
  } else {
    nextMeta["deletionGracePeriodSeconds"] = 0;
    if (extra !== undefined && !finalizersOf(live).includes(extra)) nextMeta["finalizers"] = [...finalizersOf(live), extra];
    if (tracksGeneration(r) && typeof meta["generation"] === "number") nextMeta["generation"] = meta["generation"] + 1;
  }
  return opts.dryRun ? next : cluster.store.put(r.storage, next);
}

function successStatus(r: ResourceType, live: JsonObject): JsonObject {
  const meta = metadataOf(live);
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: { name: meta["name"], ...(r.group === "" ? {} : { group: r.group }), kind: r.resource, uid: meta["uid"] },
  };
}

/** DELETE of a collection (with selectors): a List of the objects deleted. */
export function deleteCollection(cluster: Cluster, req: ResourceRequest): Answer {
  const opts = deleteOptions(req);
  const objects = selectObjects(cluster, req, listFilter(req.query));
  for (const obj of objects) deleteOne(cluster, req.r, obj, opts);
  return { status: 200, body: renderList(req.r, objects, { resourceVersion: String(cluster.store.currentResourceVersion()) }) };
}
