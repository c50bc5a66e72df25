import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { formatRef } from "../core/objref.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import { actionSummary } from "../engine/change-set.ts";
import { dependencyState, type Job, type RecordedOutcome } from "../engine/decide.ts";
import { withCurrentOutputs } from "../engine/outputs.ts";
import { reconcileStack, type ReconcileOutcome } from "../engine/reconcile-stack.ts";
import type { RecordObserver, Recorder } from "../engine/recorder.ts";
import { revisionInfo } from "../engine/sync-environment.ts";
import type { TargetPool, TargetRef } from "../engine/target-pool.ts";
import type { ProviderContext } from "../providers/provider.ts";
import { rollbackOf } from "../source/rollback-trailer.ts";
import type { Commit } from "../source/types.ts";
import type { RevisionInfo, SyncRow, SyncTrigger } from "../store/store.ts";
import type { AgentApprovals } from "./approvals.ts";
import type { ResolvedTargetCredentials } from "./config.ts";
import type { AgentMetrics } from "./metrics.ts";
import { parseDuration } from "../core/duration.ts";
import type { HealthWatch } from "./health-watch.ts";
import { recordRefusal } from "./refusal.ts";
import { RevisionRefused, type Evaluated, type RepoWatch } from "./repo-watch.ts";
import { errorText, type Scheduler } from "./scheduler.ts";
import type { DriftMemory } from "./status.ts";
import { isFenced, type Fence } from "../store/fence.ts";

/** One queued item: reconcile this stack for this job. */
export interface WorkItem {
  readonly environment: string;
  readonly stack: string;
  readonly job: Job;
  readonly trigger: SyncTrigger;
  readonly explicit: boolean;
  /** The stack's lease, when several agents share the work. */
  readonly fence?: Fence;
}

/** What a work item runs with, and how it hands follow-up work back to the agent. */
export interface WorkContext {
  readonly watch: RepoWatch;
  readonly scheduler: Scheduler;
  readonly pool: TargetPool;
  readonly recorder: Recorder;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly healthTimeoutMs: number;
  readonly dependencyWaitMs: number;
  remember(memory: DriftMemory): void;
  requeue(job: Job, trigger: SyncTrigger, opts: { explicit: boolean; delayMs: number }): void;
  queueDependency(stack: string): void;
  /** Queues the stacks of the environment that depend on this one (it just synced). */
  queueDependents(): Promise<void>;
  /** Follows the health of a synced stack's objects in the background. */
  readonly health: HealthWatch;
  /** The approval gate, for environments that require approvals. */
  readonly approvals: AgentApprovals;
  /** How soon a revision held by the approval gate is checked again (a review webhook comes sooner). */
  readonly approvalRecheckMs: number;
  /** Called after every reconcile that synced or was held (commit statuses, notifications). */
  readonly reconciled?: (item: WorkItem, revision: string, outcome: ReconcileOutcome) => void;
}

/**
 * One work item: the head revision evaluated for the environment, then the engine's
 * reconcile of the stack, then the agent's follow-up: a retry with backoff after a failure, a
 * later try while a dependency is pending, the drift seen for status. A failure to read the
 * revision or open the target is retried the same way.
 */
export async function reconcileWork(ctx: WorkContext, item: WorkItem, signal: AbortSignal): Promise<void> {
  const key = `${item.environment}/${item.stack}`;
  ctx.metrics.queueDepth.set(ctx.scheduler.depth);
  try {
    const ev = await ctx.watch.evaluate(item.environment);
    const instance = ev.evaluation.instances.find((i) => i.stack === item.stack);
    if (instance === undefined) return; // removed from Git or from this environment since it was queued
    const sync = ev.evaluation.config?.config.environments[instance.environment]?.sync;
    const health = { timeoutMs: sync?.timeout === undefined ? ctx.healthTimeoutMs : parseDuration(sync.timeout), blocking: sync?.wait === true };
    const synced = (await ctx.recorder.recorded(item.environment, item.stack)).good?.revision.sha;
    // A manual sync (perhaps routed here right after another agent recorded an override) asks the audit log afresh.
    const approval = await ctx.approvals.approvalFor(item.environment, synced, ev, { fresh: item.trigger.kind === "manual" });
    const trigger = withApprovers(triggerOf(item, ctx.watch.head?.commit, ev.sha), approval?.allowed === true ? approval.approvedBy : "");
    const outcome = await reconcileStack({
      instance, ...(await reconcileFacts(ctx, instance, ev)),
      ...(approval === undefined ? {} : { approval: { allowed: approval.allowed, reason: approval.reason } }),
      job: item.job, explicit: item.explicit, trigger, gate: ev.gate,
      // Health is followed in the background, unless the environment asks to hold the worker for it.
      apply: { dryRun: false, forceConflicts: false, waitMs: health.blocking ? health.timeoutMs : undefined },
      pool: ctx.pool, recorder: ctx.recorder, clock: ctx.clock, stopping: () => ctx.scheduler.closed, signal,
      ...(item.fence === undefined ? {} : { fence: item.fence }),
    });
    // Health is written under the lease the sync ran under: refused once another agent took the stack.
    const followed = await followHealth(ctx, instance, outcome, health, item.fence);
    ctx.reconciled?.(item, ev.sha, outcome);
    await followUp(ctx, item, ev.sha, outcome, followed);
  } catch (e: unknown) {
    // A refused revision stays refused until the branch moves: recorded once, not retried.
    if (e instanceof RevisionRefused) return void await recordRefusal(ctx.recorder, ctx.watch.head?.commit, item, e);
    // The lease was lost during the sync: its new owner syncs and records; nothing is retried here.
    if (isFenced(e)) return void ctx.logger.warn({ environment: item.environment, stack: item.stack, err: errorText(e) }, "sync stopped: the stack's lease was lost (fenced); nothing more written");
    const delay = ctx.scheduler.failed(key);
    ctx.logger.error({ environment: item.environment, stack: item.stack, job: item.job, err: errorText(e), retryInMs: delay }, "work item failed");
    if (!ctx.scheduler.closed && !signal.aborted) ctx.requeue(item.job, item.trigger, { explicit: item.explicit, delayMs: delay });
  }
}

async function reconcileFacts(ctx: WorkContext, instance: StackInstance, ev: Evaluated): Promise<Pick<Parameters<typeof reconcileStack>[0], "render" | "revision" | "policy" | "dependencies">> {
  const sync = ev.evaluation.config?.config.environments[instance.environment]?.sync;
  const dependencies = await Promise.all(instance.dependsOn.map(async (d) => ({
    stack: d, state: dependencyState(lastOutcome((await ctx.recorder.recorded(instance.environment, d)).last), ev.sha),
  })));
  // A stack reading outputs of others renders again with them, once those have synced.
  const ready = dependencies.every((d) => d.state === "ready");
  return {
    render: await withCurrentOutputs(ev.evaluation, instance, (i, fn) => ctx.pool.use(i, fn), ready),
    revision: revisionOf(ctx.watch.head?.commit, ev.sha),
    policy: { auto: sync?.auto ?? false, prune: sync?.prune ?? true, selfHeal: sync?.selfHeal ?? false },
    dependencies,
  };
}

/** After a sync that did not wait, its objects' health is followed (under the sync's lease); true when it is. */
async function followHealth(ctx: WorkContext, instance: StackInstance, outcome: ReconcileOutcome, health: { timeoutMs: number; blocking: boolean }, fence: Fence | undefined): Promise<boolean> {
  if (outcome.syncId === undefined || outcome.sync === undefined) return false;
  if (outcome.result !== "succeeded" || health.blocking) {
    ctx.health.forget(instance.environment, instance.stack);
    return false;
  }
  // A transactional target (host) verified health inside its transaction.
  if ((await ctx.pool.session(instance)).transact !== undefined) return false;
  const refs = outcome.sync.entries.filter((e) => e.action !== "deleted" && e.action !== "failed" && e.action !== "skipped").map((e) => e.ref);
  await ctx.health.follow(instance, { id: outcome.syncId, refs, timeoutMs: health.timeoutMs, ...(fence === undefined ? {} : { fence }) });
  return refs.length > 0;
}

async function followUp(ctx: WorkContext, item: WorkItem, revision: string, outcome: ReconcileOutcome, followed: boolean): Promise<void> {
  const { environment, stack } = item;
  const key = `${environment}/${stack}`;
  if (outcome.checkedAt !== undefined) {
    const drifted = (outcome.compared ?? []).filter((e) => e.action !== "no-op");
    const heal = outcome.decision.kind === "heal";
    ctx.remember({ drift: heal && outcome.result === "succeeded" ? 0 : drifted.length, checkedAt: outcome.checkedAt });
    // The same drift left in place is logged once, as the recorder records it once.
    if (drifted.length > 0 && (heal || outcome.driftRecorded === true)) {
      ctx.logger.warn({ environment, stack, objects: drifted.map((e) => formatRef(e.ref)), selfHeal: heal }, heal ? "drift found: correcting" : "drift found: reported (self-heal is off)");
    }
  }
  switch (outcome.result) {
    case "held":
      // Approvals may come without a webhook: asked again after a while.
      if (!ctx.scheduler.closed) ctx.requeue("sync", item.trigger, { explicit: item.explicit, delayMs: ctx.approvalRecheckMs });
      return;
    case "waiting":
      if (outcome.decision.kind === "wait") for (const dep of outcome.decision.dependencies) ctx.queueDependency(dep);
      ctx.requeue("sync", item.trigger, { explicit: item.explicit, delayMs: ctx.dependencyWaitMs });
      return;
    case "succeeded":
      ctx.scheduler.succeeded(key);
      if (outcome.checkedAt === undefined) ctx.remember({ drift: 0 });
      // A dependent skipped or waiting at this revision can go now, without waiting for a timer
      // (when health is followed, once it is healthy).
      if (!followed) await ctx.queueDependents();
      ctx.logger.info({ environment, stack, revision, trigger: outcome.decision.kind === "heal" ? "drift" : item.trigger.kind, summary: actionSummary(outcome.sync?.entries ?? []), ms: outcome.durationMs }, "synced");
      return;
    case "failed": {
      const delay = ctx.scheduler.failed(key);
      ctx.logger.error({ environment, stack, revision, err: outcome.error, retryInMs: delay }, "sync failed");
      const kind = outcome.decision.kind === "heal" ? "drift" : item.trigger.kind;
      if (!ctx.scheduler.closed) ctx.requeue("sync", { kind, detail: "retry" }, { explicit: true, delayMs: delay });
      return;
    }
    default:
      return;
  }
}

/** A new revision that is a rollback of this environment (or stack) is synced as a rollback, by its author. */
function triggerOf(item: WorkItem, head: Commit | undefined, sha: string): SyncTrigger {
  const automatic = item.trigger.kind === "poll" || item.trigger.kind === "webhook" || item.trigger.kind === "startup";
  if (!automatic || head?.sha !== sha) return item.trigger;
  const rolledBack = rollbackOf(head);
  if (rolledBack === undefined || rolledBack.environment !== item.environment) return item.trigger;
  if (rolledBack.stack !== undefined && rolledBack.stack !== item.stack) return item.trigger;
  return { kind: "rollback", by: head.author.name, detail: head.subject };
}

/** The trigger with the approvers who let the revision through, for the sync's record. */
function withApprovers(trigger: SyncTrigger, approvedBy: string): SyncTrigger {
  if (approvedBy === "") return trigger;
  return { ...trigger, detail: `${trigger.detail === undefined ? "" : `${trigger.detail}; `}approved: ${approvedBy}` };
}

function lastOutcome(row: SyncRow | undefined): RecordedOutcome | undefined {
  return row === undefined ? undefined : { revision: row.revision.sha, outcome: row.outcome, health: row.health?.state };
}

function revisionOf(commit: Commit | undefined, sha: string): RevisionInfo {
  return commit === undefined || commit.sha !== sha ? { sha, author: "", message: "" } : revisionInfo(commit);
}

/** The agent's metrics, fed by the engine's Record stage. */
export function metricsObserver(metrics: AgentMetrics): RecordObserver {
  return {
    finished(row) {
      if (row.outcome === "skipped") return;
      const labels = { environment: row.environment, stack: row.stack };
      metrics.syncs.inc({ ...labels, result: row.outcome });
      metrics.syncDuration.observe(labels, (row.durationMs ?? 0) / 1000);
      if (row.outcome === "succeeded") {
        metrics.driftObjects.set(labels, 0);
        metrics.setRevision(row.environment, row.stack, row.revision.sha);
      }
    },
    refused(environment, stack) {
      metrics.syncs.inc({ environment, stack, result: "refused" });
    },
    drift(environment, stack, objects) {
      metrics.driftObjects.set({ environment, stack }, objects);
    },
  };
}

/** A rollback is a commit like any other; it is also an audit event, by whoever made it (read from its trailer). */
export async function rollbackAudit(recorder: Recorder, commit: Commit): Promise<void> {
  const rolledBack = rollbackOf(commit);
  if (rolledBack === undefined) return;
  await recorder.audit({
    kind: "rollback", actor: commit.author.name, environment: rolledBack.environment, revision: commit.sha,
    ...(rolledBack.stack === undefined ? {} : { stack: rolledBack.stack }),
    details: { subject: commit.subject, email: commit.author.email },
  });
}

/** What {@link targetContext} reads: the agent's credentials per target (their `env` secrets read at start), the default kubeconfig, the cache. */
export interface TargetContextOptions {
  readonly targets: Readonly<Record<string, ResolvedTargetCredentials>>;
  readonly kubeconfig?: string;
  /** gitward's cache directory: Terraform working directories live under it. */
  readonly cacheDir?: string;
}

/**
 * Credentials (and a host target's commands) from the agent configuration: `environment/target`
 * first, then `target`. A Terraform target gets the values of its `env` names and the backend
 * configuration file from here, and the agent's cache for its working directories.
 */
export function targetContext(instance: TargetRef, opts: TargetContextOptions): ProviderContext {
  const creds = opts.targets[`${instance.environment}/${instance.targetName}`] ?? opts.targets[instance.targetName];
  const kubeconfig = creds?.kubeconfig ?? opts.kubeconfig;
  return {
    ...(kubeconfig === undefined ? {} : { kubeconfigPath: kubeconfig }),
    ...(creds?.context === undefined ? {} : { context: creds.context }),
    ...(creds?.root === undefined ? {} : { hostRoots: { [instance.targetName]: creds.root } }),
    // Always given, empty when undefined: a host target's commands come from here, never from Git.
    hostCommands: { [instance.targetName]: creds?.commands ?? {} },
    ...(creds?.envValues === undefined ? {} : { targetEnv: { [instance.targetName]: creds.envValues } }),
    ...(creds?.backendConfigFile === undefined ? {} : { backendConfigFiles: { [instance.targetName]: creds.backendConfigFile } }),
    ...(opts.cacheDir === undefined ? {} : { cacheDir: opts.cacheDir }),
  };
}
