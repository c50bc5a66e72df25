import { admitCreate } from "./admission.ts";
import type { Cluster } from "./cluster.ts";
import { ApiError, applyFailure, badRequest, invalid, staleConflict } from "./errors.ts";
import type { Managers } from "./managed-fields.ts";
import { decodeManagedFields } from "./managed-fields.ts";
import type { ResourceType } from "./resources.ts";
import { groupVersion } from "./resources.ts";
import { applyConfig, conflictStatus, recordUpdate } from "./ssa.ts";
import { metadataOf } from "./store.ts";
import type { TypeRef } from "./type-model.ts";
import { typeErrors } from "./typed-walk.ts";
import type { JsonObject } from "./values.ts";
import { clone, isObject, objectAt, stringAt } from "./values.ts";
import type { WriteResult } from "./write-pipeline.ts";
import { commit, emptyObject, fieldOwnership, ownershipScope, withoutManagedFields } from "./write-pipeline.ts";
import { decodeApplyBody } from "./yaml-body.ts";

/** A server-side apply request: PATCH with `application/apply-patch+yaml`. */
export interface ApplyRequest {
  readonly r: ResourceType;
  readonly namespace: string;
  readonly name: string;
  readonly subresource: "" | "status";
  readonly body: string;
  readonly fieldManager: string | null;
  readonly force: boolean;
  readonly dryRun: boolean;
}

/**
 * Server-side apply as the v1.24 API server does it, including its error codes: 422 without
 * fieldManager, 400 for bad YAML, versions or names, 500 for type errors in the patch, 409
 * for conflicts; it creates the object when missing.
 */
export function serverSideApply(cluster: Cluster, req: ApplyRequest): WriteResult {
  const { r } = req;
  if (req.fieldManager === null || req.fieldManager === "") {
    throw invalid({ group: "meta.k8s.io", resource: "", kind: "PatchOptions" }, "", [
      { type: "FieldValueRequired", field: "fieldManager", message: "Required value: is required for apply patch" },
    ]);
  }
  const patch = decodeApplyBody(req.body);
  const root = checkPatch(cluster, req, patch);
  const live = cluster.get(r, req.namespace, req.name);
  if (live === undefined) admitCreate(cluster, r, req.namespace, req.name);
  // A resourceVersion in the applied configuration is a precondition, as for an update.
  const rv = stringAt(objectAt(patch, "metadata"), "resourceVersion");
  if (live !== undefined && rv !== undefined && rv !== metadataOf(live)["resourceVersion"]) throw staleConflict(r, req.name);
  const typeMeta = { apiVersion: groupVersion(r), kind: r.kind };
  const base = live === undefined ? { ...typeMeta, ...emptyObject(cluster, r), metadata: { name: req.name, namespace: req.namespace } } : { ...typeMeta, ...withoutManagedFields(live) };
  const own = { ...fieldOwnership(cluster, r, req.subresource, req.fieldManager), root };
  let managers: Managers = decodeManagedFields(live === undefined ? undefined : metadataOf(live)["managedFields"]);
  if (live !== undefined && managers.size === 0) {
    // Fields set before anyone applied are owned by "before-first-apply".
    managers = recordUpdate({ ...own, manager: "before-first-apply", subresource: "", scope: ownershipScope(r, "") }, emptyObject(cluster, r), base, managers);
  }
  const result = applyConfig(own, base, configOf(r, req.subresource, patch), managers, req.force);
  if ("conflicts" in result) {
    const { message, causes } = conflictStatus(result.conflicts);
    throw new ApiError({ code: 409, reason: "Conflict", message, details: { causes } });
  }
  return commit(cluster, {
    r,
    namespace: req.namespace,
    name: req.name,
    subresource: req.subresource,
    live,
    next: isObject(result.object) ? result.object : {},
    ownership: { op: "apply", managers: result.managers },
    dryRun: req.dryRun,
  });
}

// The checks the API server makes on the patch before merging, in its order.
function checkPatch(cluster: Cluster, req: ApplyRequest, patch: JsonObject): TypeRef {
  const { r } = req;
  const apiVersion = stringAt(patch, "apiVersion") ?? "";
  if (apiVersion !== groupVersion(r)) {
    throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${apiVersion}, expected: ${groupVersion(r)}`);
  }
  const meta = objectAt(patch, "metadata") ?? {};
  if (meta["managedFields"] !== undefined) throw badRequest("metadata.managedFields must be nil");
  const name = stringAt(meta, "name");
  if (name !== undefined && name !== req.name) {
    throw badRequest(`the name of the object (${name}) does not match the name on the URL (${req.name})`);
  }
  const namespace = stringAt(meta, "namespace");
  if (r.namespaced && namespace !== undefined && namespace !== "" && namespace !== req.namespace) {
    throw badRequest(`the namespace of the object (${namespace}) does not match the namespace on the request (${req.namespace})`);
  }
  const kind = stringAt(patch, "kind") ?? "";
  const gvk = `${r.group}/${r.version}, Kind=${kind}`;
  const subject = `${r.namespaced ? req.namespace : ""}/${req.name}; ${gvk}`;
  const root = cluster.typeForKind(r.group, r.version, kind);
  if (root === undefined) throw applyFailure(`failed to create typed patch object (${subject}): no corresponding type for ${groupVersion(r)}, Kind=${kind}`);
  if (kind !== r.kind) {
    throw applyFailure(
      "failed to merge config: expected objects of the same type, but got {0xc005565a10 {<nil> <nil> <nil>}} and {0xc0055659f0 {<nil> <nil> <nil>}}",
    );
  }
  const errors = typeErrors(cluster.types, root, patch);
  if (errors.length > 0) {
    const detail = errors.length === 1 ? (errors[0] ?? "") : `errors:\n  ${errors.join("\n  ")}`;
    throw applyFailure(`failed to create typed patch object (${subject}): ${detail}`);
  }
  return root;
}

// What the applier configures at this endpoint: status is ignored on the main resource when it
// has a status subresource, and a status apply configures status only.
function configOf(r: ResourceType, subresource: string, patch: JsonObject): JsonObject {
  const config = clone(patch);
  if (subresource === "status") {
    const meta = objectAt(config, "metadata") ?? {};
    const keep = r.crd === undefined ? ["name", "namespace", "labels", "annotations"] : ["name", "namespace"];
    const out: JsonObject = { apiVersion: config["apiVersion"], kind: config["kind"], metadata: Object.fromEntries(keep.filter((k) => k in meta).map((k) => [k, meta[k]])) };
    if (config["status"] !== undefined) out["status"] = config["status"];
    return out;
  }
  if (r.subresources.has("status")) delete config["status"];
  return config;
}
