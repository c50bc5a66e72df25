import type { Finding } from "../check/finding.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import { systemClock, type Clock } from "../core/clock.ts";
import type { Provider, ProviderContext } from "../providers/provider.ts";
import type { Commit } from "../source/types.ts";
import type { RevisionInfo, SyncTrigger } from "../store/store.ts";
import type { DependencyState } from "./decide.ts";
import { evaluateRevision, type EvaluateOptions, type RevisionEvaluation } from "./evaluate-revision.ts";
import { decideGate, type GateOutcome, type GateOverride } from "./gate.ts";
import { withCurrentOutputs } from "./outputs.ts";
import { reconcileStack, type ReconcileOutcome } from "./reconcile-stack.ts";
import { orphanPoliciesAt, pruneOrphans, type OrphanOutcome } from "./prune-orphans.ts";
import { noopRecorder, type Recorder } from "./recorder.ts";
import type { StackSyncResult } from "./sync-stack.ts";
import { TargetPool } from "./target-pool.ts";

/** How to sync one environment (push mode: `gitward apply`). */
export interface SyncOptions extends Omit<EvaluateOptions, "asBase" | "renderOnly" | "filter"> {
  readonly environment: string;
  readonly stacks?: readonly string[];
  readonly dryRun: boolean;
  /** Undefined follows the environment's sync.prune. */
  readonly prune?: boolean;
  readonly force: boolean;
  readonly waitMs?: number;
  readonly override?: GateOverride;
  /** Providers by name (`kubernetes`, `host`, ...). */
  readonly providers: Readonly<Record<string, Provider>>;
  readonly providerContext: ProviderContext;
  /** Where history and audit go (`--state`); default nowhere but the targets' inventories. */
  readonly recorder?: Recorder;
  /** Who and what started it; default a push by nobody in particular. */
  readonly trigger?: SyncTrigger;
  readonly clock?: Clock;
  readonly onStack?: (stack: string, phase: "start" | "done") => void;
  readonly onProgress?: (stack: string, done: number, total: number) => void;
}

/** What a sync of an environment did. */
export interface SyncResult {
  readonly commit: Commit;
  readonly environment: string;
  readonly gate: GateOutcome;
  readonly findings: readonly Finding[];
  readonly stacks: readonly StackSyncResult[];
  /**
   * Stacks the environment's targets still hold that gitward.yaml no longer deploys there: the
   * Terraform ones destroyed where the environment prunes, the others left (looked for only in a
   * sync of the whole environment).
   */
  readonly orphans: readonly OrphanOutcome[];
  /** True when the gate allowed the sync, every stack succeeded and no orphan's destroy failed. */
  readonly ok: boolean;
}

/**
 * One sync of an environment in push mode: Source, Render and Check through
 * {@link evaluateRevision}, then the Gate, then each stack in dependency order through
 * {@link reconcileStack}, the lifecycle the agent runs too. A stack whose dependency failed is
 * skipped. Everything is recorded through the recorder given.
 */
export async function syncEnvironment(opts: SyncOptions): Promise<SyncResult> {
  const evaluation = await evaluateRevision({ ...opts, filter: { environments: [opts.environment], ...(opts.stacks === undefined ? {} : { stacks: opts.stacks }) } });
  const gate = await decideGate(evaluation.findings, opts.override);
  const base = { commit: evaluation.commit, environment: opts.environment, gate, findings: evaluation.findings };
  const pool = new TargetPool({ providers: opts.providers, context: () => opts.providerContext });
  const results: StackSyncResult[] = [];
  let orphans: OrphanOutcome[] = [];
  try {
    for (const instance of dependencyOrder(evaluation.instances)) {
      const outcome = await pushStack(instance, evaluation, gate, pool, results, opts);
      // With the gate open, a stack is refused only at its own sync (its render with the current
      // outputs of its dependencies fails or is refused): a failure the run reports, and its dependents skip.
      if (gate.allowed) results.push(stackResult(instance, outcome));
    }
    // Only a sync of the whole environment knows every stack it deploys.
    if (gate.allowed && opts.stacks === undefined && evaluation.config !== undefined) orphans = await pushOrphans(evaluation, pool, opts);
  } finally {
    await pool.close();
  }
  if (!gate.allowed) return { ...base, stacks: [], orphans, ok: false };
  return { ...base, stacks: results, orphans, ok: results.every((r) => r.ok) && orphans.every((o) => o.result !== "failed") };
}

/** The environment's orphaned stacks after its stacks synced: Terraform ones destroyed where it prunes (see pruneOrphans). */
function pushOrphans(evaluation: RevisionEvaluation, pool: TargetPool, opts: SyncOptions): Promise<OrphanOutcome[]> {
  const config = evaluation.config;
  if (config === undefined) return Promise.resolve([]);
  const trigger = opts.trigger ?? { kind: "push" as const };
  return pruneOrphans({
    environment: opts.environment, config, instances: evaluation.instances, dryRun: opts.dryRun,
    prune: opts.prune ?? config.config.environments[opts.environment]?.sync.prune ?? true,
    override: opts.override !== undefined,
    policies: () => orphanPoliciesAt(opts.source, evaluation.commit, config, opts.signal),
    pool, recorder: opts.recorder ?? noopRecorder(), clock: opts.clock ?? systemClock(), revision: revisionInfo(evaluation.commit), trigger,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
}

async function pushStack(
  instance: StackInstance, evaluation: RevisionEvaluation, gate: GateOutcome, pool: TargetPool, done: readonly StackSyncResult[], opts: SyncOptions,
): Promise<ReconcileOutcome> {
  const sync = evaluation.config?.config.environments[opts.environment]?.sync;
  const dependencies = instance.dependsOn.map((d) => ({ stack: d, state: pushedState(done.find((r) => r.stack === d)) }));
  // A stack reading outputs of others renders again with them, now that those have synced.
  const render = gate.allowed
    ? await withCurrentOutputs(evaluation, instance, (i, fn) => pool.use(i, fn), dependencies.every((d) => d.state === "ready"))
    : evaluation.renders.find((r) => r.instance === instance);
  const synced = gate.allowed && render?.ok === true;
  if (synced) opts.onStack?.(instance.stack, "start");
  const outcome = await reconcileStack({
    instance, render, revision: revisionInfo(evaluation.commit), gate,
    job: "sync", explicit: true, trigger: opts.trigger ?? { kind: "push" },
    // In a push the order is the dependency order: a dependency not in this run is not waited for.
    dependencies,
    policy: { auto: sync?.auto ?? false, selfHeal: sync?.selfHeal ?? false, prune: opts.prune ?? sync?.prune ?? true },
    apply: {
      dryRun: opts.dryRun, forceConflicts: opts.force, waitMs: opts.waitMs,
      ...(opts.override === undefined ? {} : { override: opts.override }),
      onProgress: (n, total) => opts.onProgress?.(instance.stack, n, total),
    },
    pool, recorder: opts.recorder ?? noopRecorder(), clock: opts.clock ?? systemClock(),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  if (synced) opts.onStack?.(instance.stack, "done");
  return outcome;
}

function pushedState(result: StackSyncResult | undefined): DependencyState {
  return result === undefined || result.ok ? "ready" : "failed";
}

function stackResult(instance: StackInstance, outcome: ReconcileOutcome): StackSyncResult {
  if (outcome.sync !== undefined) return outcome.sync;
  return {
    environment: instance.environment, stack: instance.stack, target: instance.targetName, entries: [], ok: false,
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    ...(outcome.result === "skipped" ? { skipped: true } : {}),
  };
}

/** The commit as history records it. */
export function revisionInfo(commit: Commit): RevisionInfo {
  return {
    sha: commit.sha, author: commit.author.name, authorEmail: commit.author.email, committer: commit.committer.name,
    message: commit.subject, committedAt: commit.committer.date,
  };
}

/** Stacks ordered so each comes after the stacks it depends on (gitward.yaml refuses cycles). */
export function dependencyOrder(instances: readonly StackInstance[]): StackInstance[] {
  const byName = new Map(instances.map((i) => [i.stack, i]));
  const out: StackInstance[] = [];
  const seen = new Set<string>();
  const visit = (i: StackInstance): void => {
    if (seen.has(i.stack)) return;
    seen.add(i.stack);
    for (const d of i.dependsOn) {
      const dep = byName.get(d);
      if (dep !== undefined) visit(dep);
    }
    out.push(i);
  };
  for (const i of instances) visit(i);
  return out;
}
