import { GitwardError } from "../../core/errors.ts";
import type { Provider, ProviderContext, TargetSession } from "../provider.ts";
import type { ClientSettings } from "./client.ts";
import { KubeClient } from "./client.ts";
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
}

/**
 * The Kubernetes provider: `open` loads the kubeconfig (the runner's, never Git's), picks the
 * context (the caller's over the target's), and returns a session whose inventories live in the
 * target's `namespace` (default `gitward-system`). Nothing is sent until a verb is called.
 */
export function kubernetesProvider(options: KubernetesProviderOptions = {}): Provider {
  return {
    name: "kubernetes",
    async open(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): Promise<TargetSession> {
      const context = ctx.context ?? stringField(targetName, target, "context");
      const namespace = stringField(targetName, target, "namespace");
      const clock = options.clock ?? systemClock();
      const client = await KubeClient.connect({
        ...(ctx.kubeconfigPath === undefined ? {} : { kubeconfigPath: ctx.kubeconfigPath }),
        ...(context === undefined ? {} : { context }),
        ...(options.settings === undefined ? {} : { settings: options.settings }),
        clock,
      });
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

function stringField(targetName: string, target: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = target[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new GitwardError("config", `target ${targetName}: ${key} must be a non-empty string`, { subject: { keyPath: `targets.${targetName}.${key}` } });
  }
  return value;
}
