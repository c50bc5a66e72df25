import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { leftInPlace, orphanPoliciesAt, pruneOrphans, type OrphanedStack } from "../engine/prune-orphans.ts";
import type { Recorder } from "../engine/recorder.ts";
import { revisionInfo } from "../engine/sync-environment.ts";
import type { TargetPool } from "../engine/target-pool.ts";
import type { AgentApprovals } from "./approvals.ts";
import type { RepoWatch } from "./repo-watch.ts";

/** What the orphan pass works with: the agent's parts. */
export interface OrphanPassContext {
  readonly watch: RepoWatch;
  readonly approvals: AgentApprovals;
  readonly pool: TargetPool;
  readonly recorder: Recorder;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Orphaned stacks of every served environment: Terraform ones destroyed where the environment
 * prunes and the gate allows it (pruneOrphans), the rest reported. `known` are those the last
 * pass found, logged again only when new. Returns those left in place.
 */
export async function orphansPass(ctx: OrphanPassContext, known: readonly OrphanedStack[]): Promise<OrphanedStack[]> {
  const [loaded, head] = [await ctx.watch.config(), ctx.watch.head?.commit];
  if (loaded === undefined || head === undefined) return [...known];
  const found: OrphanedStack[] = [];
  for (const env of ctx.watch.served(Object.keys(loaded.config.environments))) {
    try {
      const allowed = (await ctx.watch.evaluate(env).catch(() => undefined))?.gate.allowed === true && ctx.approvals.state(env)?.held !== true;
      const outcomes = await pruneOrphans({
        environment: env, config: loaded, instances: await ctx.watch.instances(env), prune: loaded.config.environments[env]?.sync.prune ?? true, dryRun: false, override: false,
        ...(allowed ? {} : { refused: "the head revision is refused or held at the gate there" }), pool: ctx.pool, recorder: ctx.recorder, clock: ctx.clock,
        policies: async () => orphanPoliciesAt((await ctx.watch.workspace()).source, head, loaded), revision: revisionInfo(head), trigger: { kind: "drift" },
      });
      for (const o of outcomes.filter((x) => x.result === "destroyed")) ctx.logger.warn({ environment: env, target: o.target, stack: o.stack }, "orphaned stack destroyed: no longer in gitward.yaml");
      found.push(...leftInPlace(outcomes));
    } catch (e: unknown) {
      ctx.logger.warn({ environment: env, err: e instanceof Error ? e.message : String(e) }, "could not list the targets' inventories");
    }
  }
  const seen = new Set(known.map((o) => `${o.environment}/${o.target}/${o.stack}/${o.reason ?? ""}`));
  for (const o of found.filter((x) => !seen.has(`${x.environment}/${x.target}/${x.stack}/${x.reason ?? ""}`))) {
    ctx.logger.warn({ environment: o.environment, target: o.target, stack: o.stack, objects: o.objects, reason: o.reason }, "orphaned stack: no longer in gitward.yaml, its objects are left in place");
  }
  return found;
}
