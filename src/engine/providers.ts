import type { Provider, ProviderContext, TargetSession } from "../providers/provider.ts";

/** How hard gitward may push a Kubernetes API server; unset keeps the client's defaults (16 in flight, no client-side rate limit). */
export interface KubernetesTuning {
  readonly qps?: number;
  readonly burst?: number;
  readonly parallelism?: number;
}

function clientSettings(t: KubernetesTuning): { parallelism?: number; rateLimit?: { qps: number; burst: number } } {
  return {
    ...(t.parallelism === undefined ? {} : { parallelism: t.parallelism }),
    ...(t.qps === undefined && t.burst === undefined ? {} : { rateLimit: { qps: t.qps ?? 50, burst: t.burst ?? 2 * (t.qps ?? 50) } }),
  };
}

/**
 * The providers this build ships, loaded on first use so a command that never opens a
 * target does not pay for their code.
 */
export function defaultProviders(tuning: KubernetesTuning = {}): Readonly<Record<string, Provider>> {
  let kubernetes: Promise<Provider> | undefined;
  let host: Promise<Provider> | undefined;
  let terraform: Promise<Provider> | undefined;
  return {
    host: {
      name: "host",
      async open(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): Promise<TargetSession> {
        host ??= import("../providers/host/provider.ts").then((m) => m.hostProvider());
        return (await host).open(targetName, target, ctx);
      },
    },
    terraform: {
      name: "terraform",
      async open(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): Promise<TargetSession> {
        terraform ??= import("../providers/terraform/provider.ts").then((m) => m.terraformProvider());
        return (await terraform).open(targetName, target, ctx);
      },
    },
    kubernetes: {
      name: "kubernetes",
      async open(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): Promise<TargetSession> {
        kubernetes ??= import("../providers/kubernetes/provider.ts").then((m) => m.kubernetesProvider({ settings: clientSettings(tuning) }));
        return (await kubernetes).open(targetName, target, ctx);
      },
    },
  };
}
