import { randomUUID } from "node:crypto";
import type { Cluster } from "./cluster.ts";
import { finalizersOf, isDeleting } from "./cluster.ts";
import { crdErrors } from "./crd-schema.ts";
import { pruneUnknown, validateCustom } from "./crd-validation.ts";
import { applyDefaults, initialStatus, tracksGeneration, zeroObject } from "./defaults.ts";
import { alreadyExists, invalid } from "./errors.ts";
import { FieldSet } from "./field-set.ts";
import type { Managers } from "./managed-fields.ts";
import { decodeManagedFields, encodeManagedFields } from "./managed-fields.ts";
import type { ResourceType } from "./resources.ts";
import { groupVersion } from "./resources.ts";
import type { FieldOwnership } from "./ssa.ts";
import { recordUpdate } from "./ssa.ts";
import { metadataOf } from "./store.ts";
import { deducedType } from "./type-model.ts";
import { canonicalizeQuantities } from "./typed-walk.ts";
import { validateBuiltin } from "./validation.ts";
import type { JsonObject } from "./values.ts";
import { clone, deepEqual, isObject } from "./values.ts";

/** Who the write is recorded for in managedFields. */
export type Ownership =
  /**
   * An Update operation by `manager`; `managers` replaces the live entries when the client sent
   * some, and `reset` (the client sent `managedFields: [{}]`) clears them without recording one.
   */
  | { readonly op: "update"; readonly manager: string; readonly managers?: Managers; readonly reset?: boolean }
  /** A server-side apply whose entries were already computed. */
  | { readonly op: "apply"; readonly managers: Managers };

/** One write: the object as the request wants it, before the server's own changes. */
export interface WriteSpec {
  readonly r: ResourceType;
  readonly namespace: string;
  readonly name: string;
  /** "" for the main resource; "scale" for a write of spec.replicas through the scale subresource. */
  readonly subresource: "" | "status" | "scale";
  /** The stored object; undefined for a create. */
  readonly live: JsonObject | undefined;
  readonly next: JsonObject;
  readonly ownership: Ownership;
  readonly dryRun: boolean;
  /** A create that must fail with AlreadyExists (after validation) when the name is taken. */
  readonly mustNotExist?: boolean;
}

/** What a write produced. */
export interface WriteResult {
  readonly created: boolean;
  /** The object as stored (or as it would have been, for a dry run). */
  readonly object: JsonObject;
  /** False when the request changed nothing and nothing was written. */
  readonly written: boolean;
}

/** Which fields a writer may own at an endpoint: status is the status subresource's alone. */
export function ownershipScope(r: ResourceType, subresource: string): (set: FieldSet) => FieldSet {
  if (subresource === "status") {
    const reset = r.crd === undefined ? FieldSet.ofFields("spec") : FieldSet.ofFields("spec", "metadata");
    return (set) => set.recursiveDifference(reset);
  }
  if (r.subresources.has("status")) return (set) => set.recursiveDifference(FieldSet.ofFields("status"));
  return (set) => set;
}

/** The field ownership context of a write to `r` by `manager`. */
export function fieldOwnership(cluster: Cluster, r: ResourceType, subresource: string, manager: string): FieldOwnership {
  return {
    types: cluster.types,
    root: cluster.rootType(r) ?? deducedType,
    manager,
    apiVersion: groupVersion(r),
    subresource,
    // The server's scale handler moves the writer's entry onto the parent without its time (08-normalization/33).
    time: subresource === "scale" ? undefined : cluster.timestamp(),
    scope: ownershipScope(r, subresource),
  };
}

/** The object a create is compared against (Go's zero value of the kind). */
export function emptyObject(cluster: Cluster, r: ResourceType): JsonObject {
  return zeroObject(r, cluster.hasField(r, "spec"), cluster.hasField(r, "status"));
}

/**
 * Runs the API server's side of a write: system metadata, status reset by endpoint, defaults,
 * validation (422), generation, managedFields, the no-op check, then storage (unless dry run).
 */
export function commit(cluster: Cluster, w: WriteSpec): WriteResult {
  const { r, live } = w;
  const next = prepare(cluster, w);
  const errors = r.crd !== undefined ? validateCustomResource(cluster, r, next) : validateBuiltin(r, next, live);
  if (r.group === "apiextensions.k8s.io" && r.kind === "CustomResourceDefinition") errors.push(...crdErrors(next));
  if (errors.length > 0) throw invalid(r, w.name, errors);
  if (w.mustNotExist === true && cluster.get(r, w.namespace, w.name) !== undefined) throw alreadyExists(r, w.name);
  const meta = metadataOf(next);
  if (live !== undefined && tracksGeneration(r) && contentChanged(r, live, next)) {
    meta["generation"] = (typeof metadataOf(live)["generation"] === "number" ? (metadataOf(live)["generation"] as number) : 0) + 1;
  }
  const managers = w.ownership.op === "apply" ? w.ownership.managers : updateManagers(cluster, w, next);
  const encoded = encodeManagedFields(managers);
  if (encoded === undefined) delete meta["managedFields"];
  else meta["managedFields"] = encoded;
  if (live !== undefined && deepEqual(next, live)) return { created: false, object: live, written: false };
  if (w.dryRun) {
    if (live === undefined) delete meta["resourceVersion"];
    return { created: live === undefined, object: next, written: false };
  }
  // An object being deleted goes once its last finalizer is removed (namespaces finalize through spec).
  if (live !== undefined && isDeleting(next) && finalizersOf(next).length === 0 && !(r.group === "" && r.kind === "Namespace")) {
    cluster.store.remove(r.storage, r.namespaced ? w.namespace : "", w.name);
    return { created: false, object: next, written: true };
  }
  return { created: live === undefined, object: cluster.store.put(r.storage, next), written: true };
}

function prepare(cluster: Cluster, w: WriteSpec): JsonObject {
  const { r, live } = w;
  let next = clone(w.next);
  delete next["apiVersion"];
  delete next["kind"];
  if (live !== undefined && w.subresource === "status") next = statusWrite(r, live, next);
  const meta = metadataOf(next);
  meta["name"] = w.name;
  if (r.namespaced) meta["namespace"] = w.namespace;
  else delete meta["namespace"];
  delete meta["managedFields"];
  const system = ["uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"];
  for (const key of system) delete meta[key];
  if (live === undefined) {
    meta["uid"] = randomUUID();
    meta["creationTimestamp"] = cluster.timestamp();
    if (tracksGeneration(r)) meta["generation"] = 1;
    if (r.subresources.has("status")) setOrDelete(next, "status", initialStatus(r));
  } else {
    const liveMeta = metadataOf(live);
    for (const key of system) if (liveMeta[key] !== undefined) meta[key] = liveMeta[key];
    if (w.subresource !== "status" && r.subresources.has("status")) setOrDelete(next, "status", clone(live["status"]));
  }
  if (r.crd !== undefined) {
    const schema = cluster.crdVersion(r)?.schema;
    if (schema !== undefined) next = pruneUnknown(schema, next) as JsonObject;
  } else {
    // Decoding into the Go types stores quantities canonical (08-normalization/02, 03).
    const root = cluster.rootType(r);
    if (root !== undefined) next = canonicalizeQuantities(cluster.types, root, next) as JsonObject;
  }
  applyDefaults(r, next, { uid: String(meta["uid"]), allocate: cluster.allocate, live });
  metadataOf(next)["name"] = w.name;
  return next;
}

// A status write changes status (and, for built-ins, labels and annotations) only.
function statusWrite(r: ResourceType, live: JsonObject, next: JsonObject): JsonObject {
  const out: JsonObject = { ...clone(live), status: next["status"] };
  if (next["status"] === undefined) delete out["status"];
  if (r.crd === undefined && isObject(next["metadata"])) {
    const meta = metadataOf(out);
    for (const key of ["labels", "annotations"]) setOrDelete(meta, key, next["metadata"][key]);
  }
  return out;
}

function setOrDelete(obj: JsonObject, key: string, value: unknown): void {
  if (value === undefined) delete obj[key];
  else obj[key] = value;
}

function validateCustomResource(cluster: Cluster, r: ResourceType, next: JsonObject) {
  const schema = cluster.crdVersion(r)?.schema;
  return schema === undefined ? [] : validateCustom(schema, next);
}

// Everything but metadata (and status, when it has its own endpoint) counts for generation.
function contentChanged(r: ResourceType, live: JsonObject, next: JsonObject): boolean {
  const strip = (o: JsonObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return r.subresources.has("status") ? rest : { ...rest, status: _s };
  };
  return !deepEqual(strip(live), strip(next));
}

function updateManagers(cluster: Cluster, w: WriteSpec, next: JsonObject): Managers {
  const own = w.ownership.op === "update" ? w.ownership : undefined;
  if (own?.reset === true) return new Map();
  const liveMeta = w.live === undefined ? undefined : metadataOf(w.live);
  const base = own?.managers ?? decodeManagedFields(liveMeta?.["managedFields"]);
  const before = w.live === undefined ? emptyObject(cluster, w.r) : withoutManagedFields(w.live);
  return recordUpdate(fieldOwnership(cluster, w.r, w.subresource, own?.manager ?? "unknown"), before, next, base);
}

/** A copy of an object without metadata.managedFields. */
export function withoutManagedFields(obj: JsonObject): JsonObject {
  const copy = clone(obj);
  delete metadataOf(copy)["managedFields"];
  return copy;
}
