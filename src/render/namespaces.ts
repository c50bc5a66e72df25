import type { KObject } from "../core/object.ts";
import { getPath, isRecord } from "../core/object.ts";
import { splitApiVersion } from "../core/objref.ts";
import type { ScopeResolver } from "./scopes.ts";

/**
 * Sets `metadata.namespace` on namespaced objects that have none. Scope comes from the
 * resolver (cluster discovery, then built-in knowledge), then from CRDs in the same set;
 * a kind nobody knows is treated as namespaced, as kustomize does. The objects are the
 * render's own, just parsed, so each gets its new metadata in place rather than being copied
 * whole (a copy of every object was garbage the size of the render); the metadata itself is
 * copied, as a YAML alias may share it with an object of another kind.
 */
export function applyDefaultNamespace(objects: KObject[], namespace: string | undefined, scopes: ScopeResolver): KObject[] {
  if (namespace === undefined) return objects;
  const crdScopes = scopesFromCrds(objects);
  return objects.map((obj) => {
    const meta = obj["metadata"];
    if (!isRecord(meta) || (typeof meta["namespace"] === "string" && meta["namespace"] !== "")) return obj;
    const apiVersion = obj["apiVersion"];
    const { group } = splitApiVersion(typeof apiVersion === "string" ? apiVersion : "");
    const kind = typeof obj["kind"] === "string" ? obj["kind"] : "";
    const namespaced = scopes.isNamespaced(group, kind) ?? crdScopes.get(`${group}/${kind}`) ?? true;
    if (!namespaced) return obj;
    obj["metadata"] = { ...meta, namespace };
    return obj;
  });
}

function scopesFromCrds(objects: readonly KObject[]): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const obj of objects) {
    if (obj["kind"] !== "CustomResourceDefinition") continue;
    const group = getPath(obj, ["spec", "group"]);
    const kind = getPath(obj, ["spec", "names", "kind"]);
    const scope = getPath(obj, ["spec", "scope"]);
    if (typeof group === "string" && typeof kind === "string") out.set(`${group}/${kind}`, scope !== "Cluster");
  }
  return out;
}
