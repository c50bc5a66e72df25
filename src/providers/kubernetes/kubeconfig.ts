import type { KubeConfig } from "@kubernetes/client-node";
import { GitwardError } from "../../core/errors.ts";
import type { KubeconfigOptions, KubeCredentials } from "./kube-credentials.ts";
import { findKubeconfigSource, inClusterContext, noKubeconfigError } from "./kubeconfig-source.ts";
import { readStaticKubeconfig } from "./kubeconfig-static.ts";

export type { KubeconfigOptions, KubeCredentials } from "./kube-credentials.ts";

/** The cluster a loaded kubeconfig points at, without credentials. */
export interface ClusterEndpoint {
  readonly context: string;
  /** The server URL, user name and password removed. */
  readonly server: string;
  /** The server URL as configured, for requests only; never shown. */
  readonly serverUrl: string;
}

/**
 * Loads a kubeconfig as {@link loadKubeConfig} does, with the same results and errors, but
 * without importing @kubernetes/client-node (about 0.3 s) when the kubeconfig needs no plugin:
 * see {@link readStaticKubeconfig}. Exec plugins, auth-providers, proxies and in-cluster
 * credentials still go through client-node.
 */
export async function loadKubeCredentials(opts: KubeconfigOptions): Promise<KubeCredentials> {
  return readStaticKubeconfig(opts, process.env) ?? (await loadKubeConfig(opts));
}

/**
 * Loads a kubeconfig with @kubernetes/client-node, so exec plugins, token files, client
 * certificates and OIDC work as in kubectl, from the source {@link findKubeconfigSource} decides:
 * the explicit path, `$KUBECONFIG` (its files merged), the in-cluster service account (a pod),
 * `~/.kube/config`. In-cluster, gitward.yaml's context is ignored (the pod's own cluster is the
 * target) while a context the runner names must be the in-cluster one. Errors never quote the
 * file, which may hold tokens.
 */
export async function loadKubeConfig(opts: KubeconfigOptions): Promise<KubeConfig> {
  const source = findKubeconfigSource(opts, process.env);
  if (source.kind === "none") throw noKubeconfigError(source);
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  try {
    if (source.kind === "path" || source.kind === "home") kc.loadFromFile(source.files[0] ?? "");
    else if (source.kind === "in-cluster") kc.loadFromCluster(source.prefix);
    else kc.loadFromDefault();
  } catch (err: unknown) {
    // Parser messages quote the offending lines, which may hold a token: report only the code.
    const code = (err as { code?: unknown }).code;
    const reason = typeof code === "string" ? code : err instanceof Error ? err.name : "unreadable";
    throw new GitwardError("cluster", `cannot load kubeconfig from ${source.where} (${reason})`);
  }
  if (source.kind === "in-cluster") return inCluster(kc, opts);
  const context = opts.context ?? opts.repositoryContext;
  if (context !== undefined) {
    if (kc.getContextObject(context) === null) {
      const known = kc.getContexts().map((c) => c.name).join(", ") || "none";
      throw new GitwardError("cluster", `context ${context} not found in ${source.where} (contexts: ${known})`);
    }
    kc.setCurrentContext(context);
  }
  return kc;
}

/** The in-cluster configuration: a context the runner names must be its own; the repository's is reported and ignored. */
function inCluster(kc: KubeConfig, opts: KubeconfigOptions): KubeConfig {
  if (opts.context !== undefined && opts.context !== inClusterContext) {
    throw new GitwardError("cluster", `context ${opts.context} cannot be used in-cluster: no kubeconfig is given, and the in-cluster service account has the one context ${inClusterContext}`, {
      hint: "give a kubeconfig holding that context (--kubeconfig, KUBECONFIG, or targets.<target>.kubeconfig in the agent configuration), or name no context to use the pod's own cluster",
    });
  }
  // The runner naming the in-cluster context overrides the repository's: nothing is ignored then.
  if (opts.context === undefined && opts.repositoryContext !== undefined && opts.repositoryContext !== inClusterContext) opts.onRepositoryContextIgnored?.(opts.repositoryContext);
  return kc;
}

/** The context and server of a loaded kubeconfig; a `cluster` error when there is none. */
export function clusterEndpoint(kc: KubeCredentials): ClusterEndpoint {
  const context = kc.getCurrentContext() ?? "";
  const cluster = kc.getCurrentCluster();
  if (context === "") throw new GitwardError("cluster", "the kubeconfig has no current context; name one");
  if (cluster === null || cluster.server === "") {
    throw new GitwardError("cluster", `context ${context}: the kubeconfig names no cluster server`);
  }
  // client-node's last resort when it finds no kubeconfig at all (a Windows home it looked at through WSL).
  if (context === "loaded-context" && cluster.server === "http://localhost:8080") {
    throw new GitwardError("cluster", "no kubeconfig found", { hint: "pass --kubeconfig FILE or set KUBECONFIG" });
  }
  return { context, server: displayServer(cluster.server), serverUrl: cluster.server.replace(/\/+$/, "") };
}

function displayServer(server: string): string {
  try {
    const url = new URL(server);
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/$/, "");
  } catch {
    return "(unparsable server URL)";
  }
}
