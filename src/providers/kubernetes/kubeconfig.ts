import type { KubeConfig } from "@kubernetes/client-node";
import { GitwardError } from "../../core/errors.ts";
import type { KubeconfigOptions, KubeCredentials } from "./kube-credentials.ts";
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
 * certificates and OIDC work as in kubectl. In order: the explicit path; `$KUBECONFIG` (its files
 * merged); in-cluster (ServiceAccount token and CA) when `KUBERNETES_SERVICE_HOST` is set, as in a
 * pod; `~/.kube/config`. Errors never quote the file, which may hold tokens.
 */
export async function loadKubeConfig(opts: KubeconfigOptions): Promise<KubeConfig> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  const source = kubeconfigSource(opts, process.env);
  const where = source === "path" ? (opts.kubeconfigPath ?? "") : sourceNames[source];
  try {
    if (opts.kubeconfigPath !== undefined) kc.loadFromFile(opts.kubeconfigPath);
    else if (source === "in-cluster") kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err: unknown) {
    // Parser messages quote the offending lines, which may hold a token: report only the code.
    const code = (err as { code?: unknown }).code;
    const reason = typeof code === "string" ? code : err instanceof Error ? err.name : "unreadable";
    throw new GitwardError("cluster", `cannot load kubeconfig from ${where} (${reason})`);
  }
  if (opts.context !== undefined) {
    if (kc.getContextObject(opts.context) === null) {
      const known = kc.getContexts().map((c) => c.name).join(", ") || "none";
      throw new GitwardError("cluster", `context ${opts.context} not found in ${where} (contexts: ${known})`);
    }
    kc.setCurrentContext(opts.context);
  }
  return kc;
}

type Source = "path" | "env" | "in-cluster" | "home";

const sourceNames: Readonly<Record<Source, string>> = {
  path: "the given path",
  env: "$KUBECONFIG",
  "in-cluster": "the in-cluster ServiceAccount",
  home: "~/.kube/config",
};

function kubeconfigSource(opts: KubeconfigOptions, env: NodeJS.ProcessEnv): Source {
  if (opts.kubeconfigPath !== undefined) return "path";
  if ((env["KUBECONFIG"] ?? "") !== "") return "env";
  return (env["KUBERNETES_SERVICE_HOST"] ?? "") !== "" ? "in-cluster" : "home";
}

/** The context and server of a loaded kubeconfig; a `cluster` error when there is none. */
export function clusterEndpoint(kc: KubeCredentials): ClusterEndpoint {
  const context = kc.getCurrentContext() ?? "";
  const cluster = kc.getCurrentCluster();
  if (context === "") throw new GitwardError("cluster", "the kubeconfig has no current context; name one");
  if (cluster === null || cluster.server === "") {
    throw new GitwardError("cluster", `context ${context}: the kubeconfig names no cluster server`);
  }
  // client-node's last resort when it finds no kubeconfig at all.
  if (context === "loaded-context" && cluster.server === "http://localhost:8080") {
    throw new GitwardError("cluster", "no kubeconfig found", { hint: "set KUBECONFIG or pass a kubeconfig path" });
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
