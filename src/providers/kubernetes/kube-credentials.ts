import type https from "node:https";

/** Which kubeconfig and context to use. */
export interface KubeconfigOptions {
  /** An explicit kubeconfig file; otherwise as `loadKubeConfig` finds one. */
  readonly kubeconfigPath?: string;
  /**
   * The context the runner names (`--context`, the agent configuration's `context`); it must
   * exist, and in-cluster it must be the in-cluster one. Default: `repositoryContext`, then the
   * kubeconfig's current context.
   */
  readonly context?: string;
  /**
   * The context gitward.yaml names for the target: used like `context` with a kubeconfig, but
   * ignored in-cluster, where the pod's own cluster is the target (reported through
   * `onRepositoryContextIgnored`).
   */
  readonly repositoryContext?: string;
  /** Prefix of the service-account directory, as client-node's `loadFromCluster(pathPrefix)`; default none (tests point it at a temporary directory). */
  readonly serviceAccountPrefix?: string;
  /** Called when `repositoryContext` is ignored because the in-cluster service account is used. */
  readonly onRepositoryContextIgnored?: (context: string) => void;
}

/**
 * What a client needs from a loaded kubeconfig: the current context and its cluster, and TLS
 * material and credentials for each request. @kubernetes/client-node's `KubeConfig` is one; a
 * kubeconfig without plugins is read without it (`readStaticKubeconfig`).
 */
export interface KubeCredentials {
  getCurrentContext(): string;
  getCurrentCluster(): { readonly server: string; readonly proxyUrl?: string | undefined } | null;
  /** Sets CA, client certificate, `rejectUnauthorized`, `servername`, headers, `auth` and `agent`; fresh on every call. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}
