import { accessSync } from "node:fs";
import { delimiter, join } from "node:path";
import { GitwardError } from "../../core/errors.ts";
import type { KubeconfigOptions } from "./kube-credentials.ts";

/** Where the service account's files are inside a pod (client-node's loadFromCluster appends it to a prefix). */
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The one context client-node gives the in-cluster configuration. */
export const inClusterContext = "inClusterContext";

/**
 * Where a target's credentials come from, decided once for both readers (the static one and
 * client-node's), so they never disagree. In order, as controller-runtime decides for an
 * operator: an explicit path (`--kubeconfig`, the agent configuration's `kubeconfig`);
 * `$KUBECONFIG`; the in-cluster service account when `KUBERNETES_SERVICE_HOST` is set and its
 * token file exists (a pod); `~/.kube/config`. `none` says what was looked at and why it did not do.
 */
export type KubeconfigSource =
  | { readonly kind: "path"; readonly files: readonly string[]; readonly where: string }
  | { readonly kind: "env"; readonly files: readonly string[]; readonly where: string }
  | { readonly kind: "in-cluster"; readonly prefix: string; readonly where: string }
  | { readonly kind: "home"; readonly files: readonly string[]; readonly where: string }
  | { readonly kind: "none"; readonly looked: readonly string[] };

/** Decides the {@link KubeconfigSource} for these options and this process environment. */
export function findKubeconfigSource(opts: KubeconfigOptions, env: NodeJS.ProcessEnv): KubeconfigSource {
  if (opts.kubeconfigPath !== undefined) return { kind: "path", files: [opts.kubeconfigPath], where: opts.kubeconfigPath };
  const fromEnv = env["KUBECONFIG"] ?? "";
  if (fromEnv !== "") return { kind: "env", files: fromEnv.split(delimiter).filter((f) => f !== ""), where: "$KUBECONFIG" };
  const prefix = opts.serviceAccountPrefix ?? "";
  const tokenFile = `${prefix}${serviceAccountDir}/token`;
  const host = env["KUBERNETES_SERVICE_HOST"] ?? "";
  if (host !== "" && exists(tokenFile)) return { kind: "in-cluster", prefix, where: "the in-cluster service account" };
  const home = env["HOME"] ?? "";
  const homeFile = home === "" ? undefined : join(home, ".kube", "config");
  if (homeFile !== undefined && exists(homeFile)) return { kind: "home", files: [homeFile], where: "~/.kube/config" };
  return {
    kind: "none",
    looked: [
      "no --kubeconfig and no kubeconfig in the agent configuration",
      "$KUBECONFIG is not set",
      host === "" ? "not in a pod ($KUBERNETES_SERVICE_HOST is not set)" : `in a pod, but no service-account token at ${tokenFile} (automountServiceAccountToken: false?)`,
      homeFile === undefined ? "$HOME is not set" : `${homeFile} does not exist`,
    ],
  };
}

/** The error for {@link KubeconfigSource} `none`: what was looked at, and how to give a kubeconfig. */
export function noKubeconfigError(source: { readonly looked: readonly string[] }): GitwardError {
  return new GitwardError("cluster", `no kubeconfig found: ${source.looked.join("; ")}`, {
    hint: "pass --kubeconfig FILE, set KUBECONFIG, give targets.<target>.kubeconfig in the agent configuration, or run the agent in a pod with a service account",
  });
}

function exists(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}
