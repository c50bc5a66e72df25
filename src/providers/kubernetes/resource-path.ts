import type { ObjRef } from "../../core/objref.ts";

/** Where a kind's objects live in the API: group, version, plural resource and scope. */
export interface ResourceLocation {
  readonly group: string;
  readonly version: string;
  /** The plural resource name, e.g. `deployments`. */
  readonly resource: string;
  /** The kind, for messages. */
  readonly kind: string;
  /** For namespaced resources; absent for cluster-scoped ones, or to list across all namespaces. */
  readonly namespace?: string;
}

/** Where one object lives in the API. */
export interface ObjectLocation extends ResourceLocation {
  readonly name: string;
  /** E.g. `status` or `scale`. */
  readonly subresource?: string;
}

/** `/api/v1` or `/apis/<group>/<version>`. */
export function groupVersionPath(group: string, version: string): string {
  return group === "" ? `/api/${encodeURIComponent(version)}` : `/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}`;
}

/** The collection path, e.g. `/apis/apps/v1/namespaces/web/deployments`. */
export function collectionPath(loc: ResourceLocation): string {
  const ns = loc.namespace === undefined || loc.namespace === "" ? "" : `/namespaces/${encodeURIComponent(loc.namespace)}`;
  return `${groupVersionPath(loc.group, loc.version)}${ns}/${encodeURIComponent(loc.resource)}`;
}

/** The object path, e.g. `/api/v1/namespaces/web/configmaps/app`, with its subresource if any. */
export function objectPath(loc: ObjectLocation): string {
  const sub = loc.subresource === undefined ? "" : `/${encodeURIComponent(loc.subresource)}`;
  return `${collectionPath(loc)}/${encodeURIComponent(loc.name)}${sub}`;
}

/** The ref an object location names, for messages. */
export function refOfLocation(loc: ObjectLocation): ObjRef {
  const base = { group: loc.group, kind: loc.kind, name: loc.name };
  return loc.namespace === undefined || loc.namespace === "" ? base : { ...base, namespace: loc.namespace };
}
