import { writeFile } from "node:fs/promises";

/** What a test kubeconfig holds: one cluster, one token user, one context, made current. */
export interface KubeconfigSpec {
  readonly server: string;
  readonly token: string;
  /** Default `fake`. */
  readonly context?: string;
  /** Base64 PEM of the cluster CA, for https servers with their own CA. */
  readonly caData?: string;
  /** Default: true for plain http servers (client-node refuses http otherwise), false for https. */
  readonly insecureSkipTlsVerify?: boolean;
  readonly tlsServerName?: string;
}

/** Writes a kubeconfig for `spec` to `path` (JSON, which kubeconfig readers take as YAML). */
export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<void> {
  const context = spec.context ?? "fake";
  const insecure = spec.insecureSkipTlsVerify ?? spec.server.startsWith("http:");
  const cluster: Record<string, unknown> = { server: spec.server };
  if (insecure) cluster["insecure-skip-tls-verify"] = true;
  if (spec.caData !== undefined) cluster["certificate-authority-data"] = spec.caData;
  if (spec.tlsServerName !== undefined) cluster["tls-server-name"] = spec.tlsServerName;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: `${context}-cluster`, cluster }],
    users: [{ name: `${context}-user`, user: { token: spec.token } }],
    contexts: [{ name: context, context: { cluster: `${context}-cluster`, user: `${context}-user` } }],
    "current-context": context,
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
