import type https from "node:https";

/** Which kubeconfig and context to use. */
export interface KubeconfigOptions {
  /** An explicit kubeconfig file; otherwise as `loadKubeConfig` finds one. */
  readonly kubeconfigPath?: string;
  /** Default: the kubeconfig's current context. */
  readonly context?: string;
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
