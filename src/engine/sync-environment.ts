import type { Finding } from "../check/finding.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { Provider, ProviderContext, TargetSession } from "../providers/provider.ts";
import type { Commit } from "../source/types.ts";
import { evaluateRevision, type EvaluateOptions } from "./evaluate-revision.ts";
import { decideGate, type GateOutcome, type GateOverride } from "./gate.ts";
import { syncStack, type StackSyncResult } from "./sync-stack.ts";

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
  /** True when the gate allowed the sync and every stack succeeded. */
  readonly ok: boolean;
}

/**
 * One sync of an environment, the same for `gitward apply` and the agent: Source, Render and
 * Check through {@link evaluateRevision}, then the Gate, then each stack in dependency order
 * through its target's provider. A stack whose dependency failed is not synced.
 */
export async function syncEnvironment(opts: SyncOptions): Promise<SyncResult> {
  const evaluation = await evaluateRevision({ ...opts, filter: { environments: [opts.environment], ...(opts.stacks === undefined ? {} : { stacks: opts.stacks }) } });
  const gate = await decideGate(evaluation.findings, opts.override);
  const base = { commit: evaluation.commit, environment: opts.environment, gate, findings: evaluation.findings };
  if (!gate.allowed) return { ...base, stacks: [], ok: false };
  const envSpec = evaluation.config?.config.environments[opts.environment];
  const prune = opts.prune ?? envSpec?.sync.prune ?? true;
  const sessions = new Map<string, Promise<TargetSession>>();
  const results: StackSyncResult[] = [];
  try {
    for (const instance of dependencyOrder(evaluation.instances)) {
      const render = evaluation.renders.find((r) => r.instance === instance);
      if (render === undefined || !render.ok) continue;
      const failedDep = instance.dependsOn.find((d) => results.some((r) => r.stack === d && !r.ok));
      if (failedDep !== undefined) {
        results.push({ environment: opts.environment, stack: instance.stack, target: instance.targetName, entries: [], ok: false, error: `not synced: dependency ${failedDep} failed` });
        continue;
      }
      opts.onStack?.(instance.stack, "start");
      results.push(await syncOne(instance, render.objects, sessionFor(sessions, instance, opts), { ...opts, revision: evaluation.commit.sha, gate, prune }));
      opts.onStack?.(instance.stack, "done");
    }
  } finally {
    await Promise.allSettled([...sessions.values()].map(async (s) => (await s).close()));
  }
  return { ...base, stacks: results, ok: results.every((r) => r.ok) };
}

/** What syncing one already evaluated stack instance needs (the agent calls {@link syncOne} per queue item). */
export type SyncOneOptions = Pick<SyncOptions, "dryRun" | "force" | "waitMs" | "override" | "onProgress" | "signal"> & {
  readonly revision: string;
  readonly gate: GateOutcome;
  readonly prune: boolean;
};

/** Syncs one rendered stack instance through its session; a failure is a result naming the stack, not an exception. */
export async function syncOne(
  instance: StackInstance,
  objects: Parameters<typeof syncStack>[2],
  session: Promise<TargetSession>,
  opts: SyncOneOptions,
): Promise<StackSyncResult> {
  try {
    return await syncStack(await session, instance, objects, {
      revision: opts.revision, dryRun: opts.dryRun, prune: opts.prune, force: opts.force, waitMs: opts.waitMs, gate: opts.gate,
      ...(opts.override === undefined ? {} : { override: opts.override }),
      onProgress: (done, total) => opts.onProgress?.(instance.stack, done, total),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
  } catch (e: unknown) {
    const message = e instanceof GitwardError && e.hint !== undefined ? `${e.message} (hint: ${e.hint})` : e instanceof Error ? e.message : String(e);
    return { environment: instance.environment, stack: instance.stack, target: instance.targetName, entries: [], ok: false, error: message };
  }
}

function sessionFor(sessions: Map<string, Promise<TargetSession>>, instance: StackInstance, opts: SyncOptions): Promise<TargetSession> {
  let s = sessions.get(instance.targetName);
  if (s === undefined) {
    const provider = opts.providers[instance.target.provider];
    s = provider === undefined
      ? Promise.reject(new GitwardError(ErrorCode.Config, `target ${instance.targetName}: provider "${instance.target.provider}" is not available in this build`))
      : provider.open(instance.targetName, instance.target, opts.providerContext);
    // A rejected session is reported by the stack that awaits it; this keeps it from being unhandled meanwhile.
    void s.catch(() => undefined);
    sessions.set(instance.targetName, s);
  }
  return s;
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
