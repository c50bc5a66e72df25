import type { LoadedConfig } from "../config/load-config.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import type { Clock } from "../core/clock.ts";
import { formatRef } from "../core/objref.ts";
import type { ChangeSetEntry, DesiredObject, PlanReview } from "../providers/provider.ts";
import type { PlannedCheck } from "../render/renderer.ts";
import type { Commit, GitSource } from "../source/types.ts";
import type { RevisionInfo, SyncTrigger } from "../store/store.ts";
import { actionSummary } from "./change-set.ts";
import { orphanedStacks, type OrphanedStack } from "./orphans.ts";
import { planReviewer, runPolicies } from "./policy-stage.ts";
import type { Recorder } from "./recorder.ts";
import type { TargetPool, TargetRef } from "./target-pool.ts";

export type { OrphanedStack } from "./orphans.ts";

/** The trigger detail of the history row a destroyed orphan gets. */
export const orphanDestroyedDetail = "orphan destroyed";

/** The audit kind of a destroy of an orphaned stack (made or failed). */
export const orphanDestroyedAudit = "orphan-destroyed";

/**
 * What became of one orphaned stack: `destroyed` (its destroy plan applied, its inventory
 * deleted), `left` (reported only: not a Terraform stack, the environment does not prune, the
 * revision is refused, a dry run), `denied` (the policies refused its destroy plan) or `failed`.
 */
export interface OrphanOutcome extends OrphanedStack {
  readonly result: "destroyed" | "left" | "denied" | "failed";
  /** What the destroy did or planned, per resource address. */
  readonly entries: readonly ChangeSetEntry[];
}

/** The policies over an orphan's planned deletes; undefined where the repository has none. */
export type OrphanPolicies = (orphan: OrphanedStack) => PlannedCheck | undefined;

/** How to handle the orphaned stacks of one environment. */
export interface PruneOrphansOptions {
  readonly environment: string;
  readonly config: LoadedConfig;
  /** Every stack instance gitward.yaml deploys to the environment at the revision (not a selection). */
  readonly instances: readonly StackInstance[];
  /** The environment's prune, as its syncs use it. */
  readonly prune: boolean;
  /** Why the revision may not change the environment now (its gate refused or holds it); then nothing is destroyed. */
  readonly refused?: string;
  readonly dryRun: boolean;
  /** Policy denials let through (a gate override), as for the revision's own syncs. */
  readonly override: boolean;
  /** The policies at the revision; called only when a destroy is to be planned. */
  readonly policies: () => Promise<OrphanPolicies>;
  readonly pool: TargetPool;
  readonly recorder: Recorder;
  readonly clock: Clock;
  readonly revision: RevisionInfo;
  readonly trigger: SyncTrigger;
  /** Who the audit names; default the trigger's `by`, else `gitward (<trigger kind>)`. */
  readonly actor?: string;
  readonly signal?: AbortSignal;
}

/**
 * The orphaned stacks of an environment ({@link orphanedStacks}), and for each Terraform one
 * where the environment prunes: a destroy plan of its last synced module, reviewed by the
 * environment's policies as a sync's plan is, applied only when they allow it; then its
 * inventory is deleted, and a history row (trigger detail `orphan destroyed`) and an audit
 * event record it. Anything else is left in place and reported, with why where it could have
 * been destroyed. Failures are outcomes, not exceptions.
 */
export async function pruneOrphans(opts: PruneOrphansOptions): Promise<OrphanOutcome[]> {
  const targets = opts.config.config.environments[opts.environment]?.targets ?? {};
  const orphans = await orphanedStacks(opts.pool, opts.environment, targets, opts.instances, opts.signal);
  const out: OrphanOutcome[] = [];
  let policies: OrphanPolicies | undefined;
  for (const orphan of orphans) {
    const target = targets[orphan.target];
    const left = (reason?: string): OrphanOutcome => ({ ...orphan, result: "left", entries: [], ...(reason === undefined ? {} : { reason }) });
    // Kubernetes and host orphans are reported only, as they always were.
    if (target?.provider !== "terraform") out.push(left());
    else if (!opts.prune) out.push(left(`environment ${opts.environment} does not prune (sync.prune: false): destroy it by hand, or add the stack back`));
    else if (opts.refused !== undefined) out.push(left(`not destroyed while the revision is not applied to ${opts.environment}: ${opts.refused}`));
    else {
      policies ??= await opts.policies();
      out.push(await destroyOrphan(orphan, { environment: opts.environment, targetName: orphan.target, target }, policies(orphan), opts));
    }
  }
  return out;
}

/** Plans, reviews and (when allowed) applies the destroy of one orphaned Terraform stack, and records it. */
async function destroyOrphan(orphan: OrphanedStack, target: TargetRef, check: PlannedCheck | undefined, opts: PruneOrphansOptions): Promise<OrphanOutcome> {
  const stack = { environment: orphan.environment, stack: orphan.stack };
  const started = opts.clock.now();
  const startedAt = opts.clock.date().toISOString();
  const reviewer = check === undefined ? undefined : planReviewer(check, opts.override);
  let verdict: PlanReview | undefined;
  const review = async (planned: readonly DesiredObject[]): Promise<PlanReview> => {
    verdict = reviewer === undefined ? { allowed: true } : await reviewer(planned);
    return verdict;
  };
  let entries: readonly ChangeSetEntry[] = [];
  let error: string | undefined;
  try {
    entries = await opts.pool.use(target, async (session) => {
      const inventory = await session.readInventory(stack, opts.signal);
      const done = await session.remove(inventory?.entries ?? [], { stack, dryRun: opts.dryRun, review, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
      const failed = done.filter((e) => e.action === "failed");
      if (failed.length > 0) error = failed.slice(0, 5).map((e) => `${formatRef(e.ref)}: ${e.message ?? "failed"}`).join("; ");
      else if (verdict?.allowed === true && !opts.dryRun) await session.deleteInventory?.(stack, opts.signal);
      return done;
    });
  } catch (e: unknown) {
    error = e instanceof Error ? e.message : String(e);
  }
  const base = { ...orphan, entries };
  // Not reviewed: no destroy plan was made (the target never synced a module for it, or planning failed).
  if (verdict === undefined) {
    const why = error ?? entries.find((e) => e.message !== undefined)?.message ?? "no destroy plan was made";
    return { ...base, result: error === undefined ? "left" : "failed", reason: `not destroyed: ${why}` };
  }
  if (!verdict.allowed) return { ...base, result: "denied", reason: `destroy plan refused: ${verdict.message ?? "the policies refused it"}` };
  if (opts.dryRun) return { ...base, result: "left", reason: "dry run: its destroy plan was allowed, nothing was destroyed" };
  const { environment, stack: name } = orphan;
  const id = await opts.recorder.begin({ environment, stack: name, revision: opts.revision, trigger: { ...opts.trigger, detail: orphanDestroyedDetail }, startedAt });
  await opts.recorder.finish(id, {
    outcome: error === undefined ? "succeeded" : "failed", summary: actionSummary(entries), objects: entries,
    durationMs: Math.round(opts.clock.now() - started), ...(error === undefined ? {} : { error }),
  });
  await opts.recorder.audit({
    kind: orphanDestroyedAudit, actor: opts.actor ?? opts.trigger.by ?? `gitward (${opts.trigger.kind})`, environment, stack: name, revision: opts.revision.sha,
    details: { syncId: id, target: orphan.target, outcome: error === undefined ? "succeeded" : "failed", summary: actionSummary(entries), ...(error === undefined ? {} : { error }) },
  });
  return error === undefined ? { ...base, result: "destroyed" } : { ...base, result: "failed", reason: `destroy failed: ${error}` };
}

/**
 * The policies of a revision over an orphan's planned deletes: the repository's policies and
 * built-ins at `commit`, in the context of the stack's environment and former target (the
 * environment's vars: the stack's own are gone with it from gitward.yaml).
 */
export async function orphanPoliciesAt(source: GitSource, commit: Commit, config: LoadedConfig, signal?: AbortSignal): Promise<OrphanPolicies> {
  const snapshot = await source.snapshot(commit, signal);
  const outcome = await runPolicies(snapshot, config, [], signal);
  const check = outcome.plannedCheck;
  if (check === undefined) return () => undefined;
  return (orphan) => {
    const target = config.config.environments[orphan.environment]?.targets[orphan.target];
    if (target === undefined) return undefined;
    return check({
      environment: orphan.environment, stack: orphan.stack, targetName: orphan.target, target, dir: "", dirKeyPath: [], namespace: undefined,
      vars: config.config.environments[orphan.environment]?.vars ?? {}, substitute: false, forceConflicts: false, allowRemoteBases: false, dependsOn: [],
    });
  };
}

/** The orphans still in place, with why, as status shows them. */
export function leftInPlace(outcomes: readonly OrphanOutcome[]): OrphanedStack[] {
  return outcomes.filter((o) => o.result !== "destroyed").map(({ result: _r, entries: _e, ...orphan }) => orphan);
}
