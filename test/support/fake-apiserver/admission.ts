import type { Cluster } from "./cluster.ts";
import { forbiddenObject, notFound } from "./errors.ts";
import type { ResourceType } from "./resources.ts";

/**
 * The NamespaceLifecycle admission check of a create: the namespace must exist (404 naming the
 * namespace) and must not be terminating (403 NamespaceTerminating).
 */
export function admitCreate(cluster: Cluster, r: ResourceType, namespace: string, name: string): void {
  if (!r.namespaced) return;
  const state = cluster.namespaceState(namespace);
  if (state === "missing") throw notFound({ group: "", resource: "namespaces", kind: "Namespace" }, namespace);
  if (state === "terminating") {
    throw forbiddenObject(r, name, `unable to create new content in namespace ${namespace} because it is being terminated`, [
      { reason: "NamespaceTerminating", message: `namespace ${namespace} is being terminated`, field: "metadata.namespace" },
    ]);
  }
}
