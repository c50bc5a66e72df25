import type { Finding } from "../check/finding.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import type { InventorySummary } from "../providers/provider.ts";
import type { TargetPool, TargetRef } from "./target-pool.ts";

/** A stack gitward.yaml no longer has for an environment, whose inventory a target still keeps. */
export interface OrphanedStack extends InventorySummary {
  readonly environment: string;
  readonly target: string;
  /** Why it is left in place where it could have been destroyed (a Terraform stack where the environment prunes). */
  readonly reason?: string;
}

/**
 * The stacks each target of an environment still holds an inventory for but gitward.yaml no
 * longer deploys there (removed, renamed, disabled or moved to another target): their objects
 * stay in place, owned by nobody, until someone decides. Targets whose provider cannot list
 * inventories, and targets that cannot be read, report none.
 */
export async function orphanedStacks(
  pool: TargetPool, environment: string, targets: Readonly<Record<string, TargetRef["target"]>>, instances: readonly StackInstance[], signal?: AbortSignal,
): Promise<OrphanedStack[]> {
  const out: OrphanedStack[] = [];
  for (const [targetName, target] of Object.entries(targets)) {
    const deployed = new Set(instances.filter((i) => i.environment === environment && i.targetName === targetName).map((i) => i.stack));
    let held: readonly InventorySummary[];
    try {
      held = await pool.use({ environment, targetName, target }, async (s) => (await s.listInventories?.(environment, { except: deployed, ...(signal === undefined ? {} : { signal }) })) ?? []);
    } catch {
      // An unreachable target is reported by its stacks; its orphans are looked for next time.
      continue;
    }
    for (const inv of held) if (!deployed.has(inv.stack) && inv.objects > 0) out.push({ ...inv, environment, target: targetName });
  }
  return out;
}

/** An orphaned stack as a warning finding for plans and diffs. */
export function orphanFinding(o: OrphanedStack): Finding {
  return {
    severity: "warning", rule: "stack.orphaned", environment: o.environment, stack: o.stack,
    message: `stack ${o.stack} is no longer deployed to ${o.environment}/${o.target} by gitward.yaml, but its inventory there still owns ${o.objects} object(s) (last synced at ${o.revision.slice(0, 12) || "an unknown revision"}); they are left in place`,
    hint: "add the stack back and let a sync with prune remove what it no longer declares, or delete its objects and its inventory by hand",
  };
}
