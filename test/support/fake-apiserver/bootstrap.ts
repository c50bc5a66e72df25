import { serverSideApply } from "./apply.ts";
import type { Cluster } from "./cluster.ts";
import { establish } from "./crd-controller.ts";
import { readExchange } from "./recordings.ts";
import { commit } from "./write-pipeline.ts";

/** What the cluster holds before the first request. */
export interface BootstrapOptions {
  /** Create and establish the recorded Widget CRD (05-crd/01). */
  readonly withWidgetCrd: boolean;
}

/**
 * Puts the cluster in the state a fresh one is in: the namespaces the API server creates at
 * start (each with the objects the controllers add), and optionally the recorded Widget CRD.
 */
export async function bootstrap(cluster: Cluster, opts: BootstrapOptions): Promise<void> {
  const namespaces = cluster.builtin("", "v1", "namespaces");
  for (const name of ["default", "kube-node-lease", "kube-public", "kube-system"]) {
    commit(cluster, {
      r: namespaces,
      namespace: "",
      name,
      subresource: "",
      live: undefined,
      next: { metadata: { name } },
      ownership: { op: "update", manager: "kube-apiserver" },
      dryRun: false,
    });
  }
  if (!opts.withWidgetCrd) return;
  const recorded = await readExchange("05-crd/01-apply-crd-create-201.json");
  const crds = cluster.builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  const name = "widgets.gitward.example.com";
  serverSideApply(cluster, { r: crds, namespace: "", name, subresource: "", body: String(recorded.request.body), fieldManager: "gitward", force: false, dryRun: false });
  establish(cluster, name);
}
