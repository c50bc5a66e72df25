import { admitCreate } from "./admission.ts";
import { serverSideApply } from "./apply.ts";
import type { Cluster } from "./cluster.ts";
import { isDeleting } from "./cluster.ts";
import { ApiError, badRequest, methodNotAllowed, notFound, staleConflict } from "./errors.ts";
import { decodeManagedFields, updateManagerName } from "./managed-fields.ts";
import { jsonMergePatch, jsonPatch, strategicMergePatch } from "./patch-types.ts";
import { renderObject } from "./render.ts";
import type { Answer, ResourceRequest } from "./resource-request.ts";
import { decodeJsonBody, isDryRun } from "./resource-request.ts";
import { groupVersion } from "./resources.ts";
import { metadataOf } from "./store.ts";
import { pruneUndeclared, typeErrors } from "./typed-walk.ts";
import type { JsonObject } from "./values.ts";
import { isObject, objectAt, stringAt } from "./values.ts";
import type { Ownership } from "./write-pipeline.ts";
import { commit, withoutManagedFields } from "./write-pipeline.ts";

const builtinPatchTypes = "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml";
const customPatchTypes = "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

function subresourceOf(req: ResourceRequest): "" | "status" {
  if (req.subresource === "" || req.subresource === "status") return req.subresource;
  throw methodNotAllowed();
}

function ownership(req: ResourceRequest, body?: JsonObject): Ownership {
  const manager = updateManagerName(req.query.get("fieldManager"), req.userAgent);
  const sent = objectAt(body, "metadata")?.["managedFields"];
  if (!Array.isArray(sent) || sent.length === 0) return { op: "update", manager };
  const reset = sent.length === 1 && isObject(sent[0]) && Object.keys(sent[0]).length === 0;
  return reset ? { op: "update", manager, reset } : { op: "update", manager, managers: decodeManagedFields(sent) };
}

// Decoding into the Go type: wrong types are a 400, unknown fields are dropped silently.
function decodeTyped(cluster: Cluster, req: ResourceRequest, obj: JsonObject): JsonObject {
  if (req.r.crd !== undefined) return obj;
  const root = cluster.rootType(req.r);
  if (root === undefined) return obj;
  const errors = typeErrors(cluster.types, root, obj).filter((e) => !e.endsWith("field not declared in schema"));
  if (errors.length > 0) {
    throw badRequest(`${req.r.kind} in version "${req.r.version}" cannot be handled as a ${req.r.kind}: ${errors.join("; ")}`);
  }
  return pruneUndeclared(cluster.types, root, obj) as JsonObject;
}

function checkKind(req: ResourceRequest, obj: JsonObject): void {
  const kind = stringAt(obj, "kind");
  const apiVersion = stringAt(obj, "apiVersion");
  if ((kind !== undefined && kind !== req.r.kind) || (apiVersion !== undefined && apiVersion !== groupVersion(req.r))) {
    throw badRequest(`the API version in the data (${apiVersion ?? ""}) does not match the expected API version (${groupVersion(req.r)})`);
  }
}

/** POST to a collection: 201 with the created object. */
export function createObject(cluster: Cluster, req: ResourceRequest): Answer {
  if (req.name !== "") throw methodNotAllowed();
  const body = decodeJsonBody(req);
  checkKind(req, body);
  const meta = objectAt(body, "metadata") ?? {};
  const ns = stringAt(meta, "namespace");
  if (req.r.namespaced && ns !== undefined && ns !== "" && ns !== req.namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  let name = stringAt(meta, "name") ?? "";
  const generateName = stringAt(meta, "generateName");
  if (name === "" && generateName !== undefined) name = `${generateName}${Math.random().toString(36).slice(2, 7)}`;
  if (req.r.crd !== undefined) {
    const crd = cluster.store.get("apiextensions.k8s.io/customresourcedefinitions", "", req.r.crd);
    if (crd !== undefined && isDeleting(crd)) {
      throw methodNotAllowed("create not allowed while custom resource definition is terminating", { group: req.r.group, kind: req.r.resource });
    }
  }
  admitCreate(cluster, req.r, req.namespace, name);
  const next = decodeTyped(cluster, req, body);
  const own = ownership(req, body);
  const result = commit(cluster, { r: req.r, namespace: req.namespace, name, subresource: "", live: undefined, next, ownership: own, dryRun: isDryRun(req), mustNotExist: true });
  return { status: 201, body: renderObject(req.r, result.object) };
}

/** PUT of an object: optimistic concurrency on resourceVersion, no create-on-update. */
export function updateObject(cluster: Cluster, req: ResourceRequest): Answer {
  if (req.name === "") throw methodNotAllowed();
  const subresource = subresourceOf(req);
  const body = decodeJsonBody(req);
  checkKind(req, body);
  const meta = objectAt(body, "metadata") ?? {};
  const name = stringAt(meta, "name");
  if (name !== undefined && name !== req.name) throw badRequest(`the name of the object (${name}) does not match the name on the URL (${req.name})`);
  const ns = stringAt(meta, "namespace");
  if (req.r.namespaced && ns !== undefined && ns !== "" && ns !== req.namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  const live = cluster.get(req.r, req.namespace, req.name);
  if (live === undefined) throw notFound(req.r, req.name);
  const rv = stringAt(meta, "resourceVersion");
  if (rv !== undefined && rv !== "" && rv !== metadataOf(live)["resourceVersion"]) throw staleConflict(req.r, req.name);
  const next = decodeTyped(cluster, req, body);
  const result = commit(cluster, { r: req.r, namespace: req.namespace, name: req.name, subresource, live, next, ownership: ownership(req, body), dryRun: isDryRun(req) });
  return { status: 200, body: renderObject(req.r, result.object) };
}

/** PATCH: server-side apply, JSON merge, strategic merge or JSON patch. */
export function patchObject(cluster: Cluster, req: ResourceRequest): Answer {
  if (req.name === "") throw methodNotAllowed();
  const subresource = subresourceOf(req);
  const type = req.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/apply-patch+yaml") {
    const result = serverSideApply(cluster, {
      r: req.r,
      namespace: req.namespace,
      name: req.name,
      subresource,
      body: req.body,
      fieldManager: req.query.get("fieldManager"),
      force: req.query.get("force") === "true",
      dryRun: isDryRun(req),
    });
    return { status: result.created ? 201 : 200, body: renderObject(req.r, result.object) };
  }
  if (type === "application/json") throw new ApiError({ code: 406, reason: "NotAcceptable", message: "406: Not Acceptable", details: {} });
  const custom = req.r.crd !== undefined;
  const known = ["application/merge-patch+json", "application/json-patch+json", ...(custom ? [] : ["application/strategic-merge-patch+json"])];
  if (!known.includes(type)) {
    const accepted = custom ? customPatchTypes : builtinPatchTypes;
    throw new ApiError({ code: 415, reason: "UnsupportedMediaType", message: `the body of the request was in an unknown format - accepted media types include: ${accepted}` });
  }
  const live = cluster.get(req.r, req.namespace, req.name);
  if (live === undefined) throw notFound(req.r, req.name);
  const next = patched(cluster, req, type, withoutManagedFields(live));
  const rv = stringAt(objectAt(next, "metadata"), "resourceVersion");
  if (rv !== undefined && rv !== metadataOf(live)["resourceVersion"]) throw staleConflict(req.r, req.name);
  const typed = decodeTyped(cluster, req, next);
  const result = commit(cluster, { r: req.r, namespace: req.namespace, name: req.name, subresource, live, next: typed, ownership: ownership(req), dryRun: isDryRun(req) });
  return { status: 200, body: renderObject(req.r, result.object) };
}

function patched(cluster: Cluster, req: ResourceRequest, type: string, base: JsonObject): JsonObject {
  let patch: unknown;
  try {
    patch = JSON.parse(req.body);
  } catch (err: unknown) {
    throw badRequest(`error decoding patch: ${err instanceof Error ? err.message : String(err)}`);
  }
  let out: unknown;
  if (type === "application/json-patch+json") out = jsonPatch(base, patch);
  else if (type === "application/merge-patch+json") out = jsonMergePatch(base, patch);
  else out = strategicMergePatch(cluster.types, cluster.rootType(req.r) ?? { kind: "untyped", atomic: false }, base, patch);
  if (!isObject(out)) throw badRequest("the patch did not produce an object");
  return out;
}
