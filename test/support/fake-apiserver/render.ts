import type { ResourceType } from "./resources.ts";
import { groupVersion } from "./resources.ts";
import type { JsonObject } from "./values.ts";
import { isObject, orderKeys, sortKeysDeep } from "./values.ts";

// ObjectMeta's Go field order, so built-in objects read as the API server serializes them.
const metadataOrder = [
  "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
  "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields",
];

/**
 * An object as the API server serializes it at a version: built-ins lead with kind and
 * apiVersion and keep Go's metadata order; custom resources are unstructured, keys sorted.
 */
export function renderObject(r: ResourceType, obj: JsonObject): JsonObject {
  const withType = { ...obj, kind: r.kind, apiVersion: groupVersion(r) };
  if (r.crd !== undefined) return sortKeysDeep(withType) as JsonObject;
  const out = orderKeys(withType, ["kind", "apiVersion", "metadata"]);
  if (isObject(out["metadata"])) out["metadata"] = orderKeys(out["metadata"], metadataOrder);
  return out;
}

/** A list answer: built-in items carry no kind/apiVersion; custom resource lists are unstructured. */
export function renderList(
  r: ResourceType,
  items: readonly JsonObject[],
  meta: { resourceVersion: string; continueToken?: string | undefined; remainingItemCount?: number | undefined },
): JsonObject {
  const listMeta: JsonObject = { resourceVersion: meta.resourceVersion };
  if (meta.continueToken !== undefined) listMeta["continue"] = meta.continueToken;
  if (meta.remainingItemCount !== undefined) listMeta["remainingItemCount"] = meta.remainingItemCount;
  if (r.crd !== undefined) {
    const list = { apiVersion: groupVersion(r), items: items.map((i) => renderObject(r, i)), kind: `${r.kind}List`, metadata: { continue: "", ...listMeta } };
    return sortKeysDeep(list) as JsonObject;
  }
  const rendered = items.map((i) => {
    const { kind: _k, apiVersion: _a, ...rest } = renderObject(r, i);
    return rest;
  });
  return { kind: `${r.kind}List`, apiVersion: groupVersion(r), metadata: listMeta, items: rendered };
}
