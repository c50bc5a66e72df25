import { GitwardError } from "../../core/errors.ts";
import type { Provider, ProviderContext, TargetSession } from "../provider.ts";
import type { ClientSettings } from "./client.ts";
import { KubeClient } from "./client.ts";
import { inClusterContext } from "./kubeconfig-source.ts";
import type { Clock } from "../../core/clock.ts";
import { systemClock } from "../../core/clock.ts";
import { Discovery } from "./discovery.ts";
import { KubernetesSession } from "./session.ts";
import type { SessionSettings } from "./session-context.ts";
import { defaultSessionSettings } from "./session-context.ts";

/** Options of {@link kubernetesProvider}; everything has a default. */
export interface KubernetesProviderOptions {
  /** Client tuning (parallelism, rate limit, retries, timeouts). */
  readonly settings?: Partial<ClientSettings>;
  /** Session tuning (concurrency, CRD and poll timing); the inventory namespace comes from the target. */
  readonly session?: Partial<Omit<SessionSettings, "fieldManager" | "inventoryNamespace">>;
  /** Default `gitward`. */
  readonly fieldManager?: string;
  readonly clock?: Clock;
  /** Prefix of the service-account directory (client-node's `loadFromCluster(pathPrefix)`); tests point it at a temporary directory. */
  readonly serviceAccountPrefix?: string;
  /** Where a one-time notice goes (gitward.yaml's context ignored in-cluster); default a process warning on stderr. */
  readonly notice?: (message: string) => void;
}

/**
 * The Kubernetes provider: `open` loads the kubeconfig (the runner's, never Git's), picks the
 * context (the caller's over the target's), and returns a session whose inventories live in the
 * target's `namespace` (default `gitward-system`). Nothing is sent until a verb is called.
 *
 * In a pod with no kubeconfig given, targets reach the pod's own cluster through its service
 * account and gitward.yaml's context is ignored, said once per context. Only one such context may
 * map to the pod's cluster: a second target naming another context is refused, since it surely
 * means another cluster, which needs its own kubeconfig.
 */
export function kubernetesProvider(options: KubernetesProviderOptions = {}): Provider {
  const inClusterAs = new Map<string, string>();
  const notice = options.notice ?? ((message: string) => process.emitWarning(message, { type: "GitwardWarning", code: "GITWARD_IN_CLUSTER_CONTEXT" }));
  return {
    name: "kubernetes",
    async open(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): Promise<TargetSession> {
      const repositoryContext = stringField(targetName, target, "context");
      const namespace = stringField(targetName, target, "namespace");
      const clock = options.clock ?? systemClock();
      let ignored: string | undefined;
      const client = await KubeClient.connect({
        ...(ctx.kubeconfigPath === undefined ? {} : { kubeconfigPath: ctx.kubeconfigPath }),
        ...(ctx.context === undefined ? {} : { context: ctx.context }),
        ...(repositoryContext === undefined ? {} : { repositoryContext }),
        ...(options.serviceAccountPrefix === undefined ? {} : { serviceAccountPrefix: options.serviceAccountPrefix }),
        onRepositoryContextIgnored: (c) => (ignored = c),
        ...(options.settings === undefined ? {} : { settings: options.settings }),
        clock,
      });
      if (ignored !== undefined) {
        try {
          claimInCluster(inClusterAs, targetName, ignored, client.server, notice);
        } catch (err: unknown) {
          client.close();
          throw err;
        }
      }
      const settings: SessionSettings = {
        ...defaultSessionSettings(),
        ...options.session,
        ...(options.fieldManager === undefined ? {} : { fieldManager: options.fieldManager }),
        ...(namespace === undefined ? {} : { inventoryNamespace: namespace }),
      };
      return new KubernetesSession({ client, discovery: new Discovery(client), settings, clock });
    },
  };
}

/** Records that `context` stands for the pod's cluster; refuses a second, different one. */
function claimInCluster(claims: Map<string, string>, targetName: string, context: string, server: string, notice: (message: string) => void): void {
  if (claims.has(context)) return;
  const [other, otherTarget] = [...claims.entries()][0] ?? [];
  if (other !== undefined) {
    throw new GitwardError("cluster", `target ${targetName}: gitward.yaml names context ${context}, but context ${other} (target ${otherTarget ?? "?"}) already maps to this pod's own cluster (${server}), and no kubeconfig is given`, {
      hint: `an agent without a kubeconfig reaches only the cluster it runs in: give targets.${targetName}.kubeconfig in the agent configuration, or context: ${inClusterContext} there if it is the same cluster`,
    });
  }
  claims.set(context, targetName);
  notice(`target ${targetName}: no kubeconfig given, so the in-cluster service account is used (${server}); gitward.yaml's context ${context} is ignored`);
}

function stringField(targetName: string, target: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = target[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new GitwardError("config", `target ${targetName}: ${key} must be a non-empty string`, { subject: { keyPath: `targets.${targetName}.${key}` } });
  }
  return value;
}
