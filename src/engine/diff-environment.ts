import type { Finding } from "../check/finding.ts";
import { refKey } from "../core/objref.ts";
import { addCounts, countChange, emptyCounts, type Change, type EnvironmentPlan, type Plan, type StackPlan } from "../plan/change.ts";
import { systemClock } from "../core/clock.ts";
import type { DiffEntry } from "../providers/provider.ts";
import { evaluateRevision } from "./evaluate-revision.ts";
import type { GateOutcome } from "./gate.ts";
import { orphanedStacks, orphanFinding } from "./orphans.ts";
import { withCurrentOutputs } from "./outputs.ts";
import { reconcileStack } from "./reconcile-stack.ts";
import { noopRecorder } from "./recorder.ts";
import { dependencyOrder, revisionInfo, type SyncOptions } from "./sync-environment.ts";
import { TargetPool } from "./target-pool.ts";

/** How to compare an environment's live state with a revision. */
export type DiffEnvironmentOptions = Omit<SyncOptions, "dryRun" | "force" | "waitMs" | "override" | "prune" | "onProgress" | "recorder" | "trigger" | "clock">;

/** `gitward diff` shows whatever the gate would say: its findings are printed with the diff. */
const allowAll: GateOutcome = { allowed: true, blockers: [], denials: [], overridden: false };

/** Live state against a revision, in the shape of a plan (base = live), plus the findings. */
export interface DiffOutcome {
  readonly plan: Plan | undefined;
  readonly findings: readonly Finding[];
  /** Stacks whose target could not be read, with why. */
  readonly errors: readonly { readonly stack: string; readonly message: string }[];
}

/**
 * `gitward diff`: renders and checks the revision, then asks each stack's target what differs,
 * without writing. Drift is reported with who made it, where the provider can tell.
 */
export async function diffEnvironment(opts: DiffEnvironmentOptions): Promise<DiffOutcome> {
  const evaluation = await evaluateRevision({ ...opts, filter: { environments: [opts.environment], ...(opts.stacks === undefined ? {} : { stacks: opts.stacks }) } });
  if (evaluation.renders.some((r) => !r.ok)) return { plan: undefined, findings: evaluation.findings, errors: [] };
  const pool = new TargetPool({ providers: opts.providers, context: () => opts.providerContext });
  const recorder = noopRecorder();
  const clock = systemClock();
  const sync = evaluation.config?.config.environments[opts.environment]?.sync;
  const policy = { auto: false, selfHeal: false, prune: sync?.prune ?? true };
  const stacks: StackPlan[] = [];
  const errors: { stack: string; message: string }[] = [];
  const notes: Finding[] = [];
  try {
    for (const instance of dependencyOrder(evaluation.instances)) {
      // With the current outputs of the stacks it reads them from, as a sync would render it.
      const render = await withCurrentOutputs(evaluation, instance, (i, fn) => pool.use(i, fn), true);
      if (render === undefined || !render.ok) {
        if (render !== undefined) errors.push({ stack: instance.stack, message: render.error.message });
        continue;
      }
      try {
        const outcome = await reconcileStack({
          instance, render, revision: revisionInfo(evaluation.commit), trigger: { kind: "manual" }, gate: allowAll,
          job: "diff", explicit: true, dependencies: [], policy, apply: { dryRun: true, forceConflicts: false, waitMs: undefined },
          pool, recorder, clock, ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        });
        const entries = outcome.compared ?? [];
        const sources = new Map(render.objects.map((o) => [refKey(o.ref), o.source]));
        notes.push(...quietDrift(entries, instance.environment, instance.stack, sources));
        stacks.push(stackPlan(instance.stack, instance.targetName, instance.target.provider, instance.dir, entries, sources, policy.prune));
      } catch (e: unknown) {
        errors.push({ stack: instance.stack, message: e instanceof Error ? e.message : String(e) });
      }
    }
    // With every stack compared, what the targets still hold for stacks gitward.yaml dropped.
    if (opts.stacks === undefined) {
      const targets = evaluation.config?.config.environments[opts.environment]?.targets ?? {};
      notes.push(...(await orphanedStacks(pool, opts.environment, targets, evaluation.instances, opts.signal)).map(orphanFinding));
    }
  } finally {
    await pool.close();
  }
  const counts = emptyCounts();
  for (const s of stacks) addCounts(counts, s.counts);
  const env: EnvironmentPlan = { environment: opts.environment, stacks, counts };
  const head = { rev: opts.rev, sha: evaluation.commit.sha, author: evaluation.commit.author.name, subject: evaluation.commit.subject };
  const findings = [...evaluation.findings, ...notes];
  const plan: Plan = { base: undefined, head, environments: [env], findings, exemptions: evaluation.exemptions, counts };
  return { plan, findings, errors };
}

/** Drift that apply will not correct (files in a Directory without purge): reported as info findings. */
function quietDrift(entries: readonly DiffEntry[], environment: string, stack: string, sources: ReadonlyMap<string, Change["source"]>): Finding[] {
  return entries.flatMap((e): Finding[] => {
    if (e.action !== "no-op" || e.drift === undefined || e.drift.length === 0) return [];
    const source = sources.get(refKey(e.ref));
    return [{
      severity: "info", rule: "drift.unmanaged", ref: e.ref, environment, stack,
      message: `${e.drift.map((d) => d.field).join(", ")} (left alone: not managed by gitward)`,
      ...(source === undefined ? {} : { location: source }),
    }];
  });
}

function stackPlan(
  stack: string, target: string, provider: string, dir: string,
  entries: readonly DiffEntry[], sources: ReadonlyMap<string, Change["source"]>, prunes: boolean,
): StackPlan {
  const counts = emptyCounts();
  const changes: Change[] = [];
  for (const entry of entries) {
    // What the environment does not prune stays live: an orphan, as `apply` will leave it.
    const e = entry.action === "delete" && !prunes ? { ...entry, action: "orphan" as const } : entry;
    countChange(counts, e.action);
    if (e.action === "no-op") continue;
    const drift = e.drift === undefined || e.drift.length === 0 ? "" : `\n# drift: ${e.drift.map((d) => `${d.field}${d.manager === undefined ? "" : ` by ${d.manager}`}${d.time === undefined ? "" : ` at ${d.time}`}`).join("; ")}`;
    changes.push({
      action: e.action, ref: e.ref, apiVersion: e.apiVersion, source: sources.get(refKey(e.ref)) ?? { file: dir },
      ...(e.diff === undefined && drift === "" ? {} : { diff: `${e.diff ?? ""}${drift}`.trim() }),
    });
  }
  return { stack, target, provider, dir, changes, counts };
}
