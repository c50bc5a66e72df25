import type { Provider, ProviderContext, TargetSession } from "../providers/provider.ts";

/**
 * The providers this build ships, loaded on first use so a command that never opens a
 * target does not pay for their code.
 */
export function defaultProviders(): Readonly<Record<string, Provider>> {
  let kubernetes: Promise<Provider> | undefined;
  return {
    kubernetes: {
      name: "kubernetes",
      async open(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): Promise<TargetSession> {
        kubernetes ??= import("../providers/kubernetes/provider.ts").then((m) => m.kubernetesProvider());
        return (await kubernetes).open(targetName, target, ctx);
      },
    },
  };
}
