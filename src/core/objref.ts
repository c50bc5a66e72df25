/**
 * The identity of one managed object, whatever system it lives in. The API version is
 * deliberately not part of it: `apps/v1` and `apps/v1beta2` Deployments are the same object.
 */
export interface ObjRef {
  /** API group, "" for the Kubernetes core group. */
  readonly group: string;
  readonly kind: string;
  /** Absent for cluster-scoped objects. */
  readonly namespace?: string;
  readonly name: string;
}

/** Splits `apps/v1` into group `apps` and version `v1`; `v1` into group "" and `v1`. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  if (slash < 0) return { group: "", version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The human form, `Kind/namespace/name` or `Kind/name`, used in messages. */
export function formatRef(ref: ObjRef): string {
  return ref.namespace === undefined || ref.namespace === ""
    ? `${ref.kind}/${ref.name}`
    : `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** The stable machine form, `group_Kind_namespace_name`, used as a map key and in stores. */
export function refKey(ref: ObjRef): string {
  return `${ref.group}_${ref.kind}_${ref.namespace ?? ""}_${ref.name}`;
}

/** Orders refs by group, kind, namespace, name: the order outputs are printed in. */
export function compareRefs(a: ObjRef, b: ObjRef): number {
  return (
    a.group.localeCompare(b.group) ||
    a.kind.localeCompare(b.kind) ||
    (a.namespace ?? "").localeCompare(b.namespace ?? "") ||
    a.name.localeCompare(b.name)
  );
}
