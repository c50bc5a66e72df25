import type { Logger } from "pino";
import { systemClock, type Clock } from "../core/clock.ts";
import { ProcessRunner, type CommandRunner } from "../core/command-runner.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import type { Job } from "../engine/decide.ts";
import type { OrphanedStack } from "../engine/prune-orphans.ts";
import { orphansPass } from "./orphans-pass.ts";
import { agentCoordinator, type AgentCoordination, type Coordinator } from "./agent-coordination.ts";
import { storeRecorder, type Recorder } from "../engine/recorder.ts";
import { pendingRecords, type PendingRecords } from "./pending-log.ts";
import type { SecretKeys } from "../engine/secret-keys.ts";
import { TargetPool } from "../engine/target-pool.ts";
import type { Provider } from "../providers/provider.ts";
import type { RenderLimits } from "../render/render-limits.ts";
import { remoteHead } from "../source/remote-head.ts";
import type { Store, SyncTrigger } from "../store/store.ts";
import type { AgentConfig } from "./config.ts";
import type { AgentMetrics } from "./metrics.ts";
import { HealthWatch } from "./health-watch.ts";
import { metricsObserver, reconcileWork, rollbackAudit, targetContext, type WorkContext } from "./work.ts";
import { RepoWatch, type HeadVerification } from "./repo-watch.ts";
import { Scheduler } from "./scheduler.ts";
import { agentStatus, type AgentStatus, type DriftMemory } from "./status.ts";
import { ApprovalGate } from "../engine/approval-gate.ts";
import type { ReconcileOutcome } from "../engine/reconcile-stack.ts";
import type { Forge } from "../forge/forge.ts";
import { AgentApprovals, overrideApproval, recordedApprovalOverride } from "./approvals.ts";
import { DeploymentStatuses } from "./deployments.ts";
import type { NotificationEvent } from "./notify.ts";
import type { WorkItem } from "./work.ts";
import type { PullRequestEvent } from "./pr-events.ts";
import { PreviewManager } from "./previews.ts";
import { AgentEvents } from "./events.ts";
import { observers, publishingRecorder } from "./event-feed.ts";
import { gateView, type GateView } from "./gate-view.ts";
import { diffStack, stackObjects, type ObjectHealth, type StackDiff } from "./stack-view.ts";
import { auditApiRollback, RollbackFailed, rollbackThroughGit, type AgentRollbackRequest } from "./agent-rollback.ts";
import type { RollbackResult } from "../engine/rollback.ts";
import type { StackStatus } from "./status.ts";
export type { AgentStatus, StackStatus } from "./status.ts";
export type { LoopHealth } from "./scheduler.ts";
export { RollbackFailed } from "./agent-rollback.ts";

/** Everything an agent runs on. */
export interface AgentOptions {
  readonly repo: string;
  readonly branch: string;
  readonly configPath: string;
  /** Environments served; undefined serves every environment of gitward.yaml. */
  readonly environments?: readonly string[];
  readonly store: Store;
  readonly cacheDir: string;
  /** Render limits over the defaults (the agent configuration's renderLimits). */
  readonly renderLimits?: Partial<RenderLimits>;
  readonly providers: Readonly<Record<string, Provider>>;
  /** Credentials by target name, or `environment/target`. */
  readonly targets: AgentConfig["targets"];
  /** Default kubeconfig for kubernetes targets without one. */
  readonly kubeconfig?: string;
  readonly intervals: {
    readonly pollMs: number; readonly driftMs: number; readonly retryBaseMs: number; readonly retryMaxMs: number; readonly dependencyWaitMs: number;
    /** Between reads of the health of synced stacks' objects; default 5 s. */
    readonly healthMs?: number;
  };
  readonly concurrency: number;
  readonly graceMs: number;
  /** How long health is followed (or, where an environment asks, awaited) after a sync; an environment's sync.timeout overrides it. */
  readonly healthTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly runner?: CommandRunner;
  readonly clock?: Clock;
  /** Jitter of retry delays; default Math.random. */
  readonly random?: () => number;
  /** Trusted keys for head commits, and the environments that require a trusted signature. */
  readonly verification?: HeadVerification;
  /** The forge holding the repository: approvals for environments that require them, and commit statuses. */
  readonly forge?: Forge;
  /** How long the forge's answers about approvals are kept, and how soon a held revision is checked again; default 60 s. */
  readonly approvalTtlMs?: number;
  /** Set a commit status `gitward/<environment>` on synced commits (needs `forge`); default true. */
  readonly deploymentStatuses?: boolean;
  /** The agent's address as people reach it, for links. */
  readonly url?: string;
  /** Where sync failures, drift and held revisions are announced. */
  readonly notifier?: { notify(event: NotificationEvent): void };
  /** SOPS private keys per environment (the agent configuration's `decryption`); default the sops conventions of the process environment. */
  readonly secretKeys?: SecretKeys;
  /** Several agents on one PostgreSQL state: this agent's id, the store's coordination and the lease time (docs/agent.md). */
  readonly coordination?: AgentCoordination;
}

/**
 * The pull-mode agent: wiring. It watches a branch ({@link RepoWatch}), queues work per
 * (environment, stack) on a {@link Scheduler}, and runs each item through the engine's
 * `reconcileStack`, the same lifecycle as `gitward apply`, recording into the Store.
 */
export class Agent {
  /** What happens, as it happens: syncs, drift, the gate, status changes (the API's event stream). */
  readonly events: AgentEvents;
  readonly #o: AgentOptions;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #watch: RepoWatch;
  readonly #pool: TargetPool;
  readonly #recorder: Recorder;
  readonly #drift = new Map<string, DriftMemory>();
  readonly #health: HealthWatch;
  readonly #approvals: AgentApprovals;
  readonly #pending: PendingRecords;
  readonly #deployments: DeploymentStatuses | undefined;
  readonly #previews: PreviewManager | undefined;
  #orphans: OrphanedStack[] = [];
  /** Commit statuses being sent, in order; never rejects. */
  #reporting: Promise<void> = Promise.resolve();
  #started = false;
  readonly #runner: CommandRunner;
  /** Rollbacks made through the API, one at a time; never rejects. */
  #rollingBack: Promise<unknown> = Promise.resolve();
  /** Revert commits made through the API, audited then with who asked. */
  readonly #apiRollbacks = new Set<string>();
  /** Leases and routing when several agents share the state; undefined with one agent. */
  readonly #coord: Coordinator | undefined;

  constructor(opts: AgentOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock();
    const runner = opts.runner ?? new ProcessRunner();
    this.#runner = runner;
    this.events = new AgentEvents({ logger: opts.logger });
    this.#scheduler = new Scheduler({ concurrency: opts.concurrency, backoff: { baseMs: opts.intervals.retryBaseMs, maxMs: opts.intervals.retryMaxMs }, clock: this.#clock, logger: opts.logger, ...(opts.random === undefined ? {} : { random: opts.random }) });
    const recorder = storeRecorder(opts.store, {
      clock: this.#clock, observer: observers(metricsObserver(opts.metrics), this.events), shared: opts.coordination !== undefined,
      held: (environment, stack) => this.#coord?.epoch({ environment, stack }), pending: this.#pending = pendingRecords(opts.logger),
    });
    this.#recorder = publishingRecorder(recorder, this.events, this.#clock);
    this.#pool = new TargetPool({ providers: opts.providers, context: (i) => targetContext(i, opts), reopenFailed: true, ...(opts.secretKeys === undefined ? {} : { secretKeys: opts.secretKeys }) });
    this.#health = new HealthWatch({
      pool: this.#pool, recorder: this.#recorder, clock: this.#clock, logger: opts.logger,
      settled: (environment, stack) => void this.#queueDependents(environment, stack, { kind: "startup", detail: `after ${stack} settled` })
        .catch((e: unknown) => opts.logger.error({ environment, stack, err: e instanceof Error ? e.message : String(e) }, "queueing dependents failed")),
    });
    this.#watch = new RepoWatch({
      ...opts, runner, clock: this.#clock,
      remoteHead: (repo, branch) => remoteHead(runner, repo, branch, { timeoutMs: 30_000 }),
      onRevision: (commit) => (this.#apiRollbacks.has(commit.sha) ? Promise.resolve() : rollbackAudit(this.#recorder, commit)),
      onRefused: (revision, environment) => {
        const envs = environment === undefined ? this.#watch.served(Object.keys(this.#watch.lastConfig?.config.environments ?? {})) : [environment];
        for (const env of envs) this.#publishGate(env, revision);
      },
    });
    this.#coord = opts.coordination === undefined ? undefined : agentCoordinator(opts.coordination, {
      logger: opts.logger, watch: this.#watch, scheduler: this.#scheduler, health: this.#health,
      enqueue: (e, s, job, trigger, o) => this.#enqueue(e, s, job, trigger, o), poll: (trigger) => this.#poll(trigger),
    });
    const forge = opts.forge;
    this.#approvals = new AgentApprovals({
      gate: forge === undefined ? undefined : new ApprovalGate({ forge, clock: this.#clock, ttlMs: opts.approvalTtlMs ?? 60_000 }),
      watch: this.#watch, recorder: this.#recorder, logger: opts.logger, branch: opts.branch,
      onChange: (environment, revision) => this.#publishGate(environment, revision),
      recordedOverride: (environment, revision) => recordedApprovalOverride(opts.store, environment, revision),
      onHeld: (environment, revision, reasons) => opts.notifier?.notify({
        kind: "gate-waiting", environment, revision, message: reasons.join("; "), ...(opts.url === undefined ? {} : { url: opts.url }),
      }),
    });
    this.#deployments = forge === undefined || opts.deploymentStatuses === false ? undefined : new DeploymentStatuses({ forge, recorder: this.#recorder, logger: opts.logger, url: opts.url });
    const v = opts.verification;
    this.#previews = forge === undefined ? undefined : new PreviewManager({
      forge, repo: opts.repo, cacheDir: opts.cacheDir, runner, workspace: () => this.#watch.workspace(), configPath: opts.configPath,
      branch: opts.branch, providers: opts.providers, targets: opts.targets, store: opts.store, recorder: this.#recorder,
      clock: this.#clock, logger: opts.logger,
      // Previews are held to the signature rule when every environment is, or `previews` is named.
      ...(v !== undefined && (v.required.includes("*") || v.required.includes("previews")) ? { verification: v.keys } : {}),
    });
  }

  /** Marks syncs a previous process left running as interrupted, reads the repository, and starts the loops. */
  async start(): Promise<void> {
    const interrupted = await this.#o.store.interruptRunning("the agent stopped during the sync (crash or kill); it is retried");
    for (const row of interrupted) this.#o.logger.warn({ environment: row.environment, stack: row.stack, sync: row.id }, "sync interrupted by a previous stop");
    await this.#recorder.audit({ kind: "agent-start", actor: "agent", details: { repo: this.#watch.location, branch: this.#o.branch, interrupted: interrupted.length } });
    await this.#coord?.start();
    this.#started = true;
    // Until one poll succeeds, every poll is the startup pass that queues every stack.
    let first = true;
    await this.#scheduler.every("poll", this.#o.intervals.pollMs, async () => {
      await this.#poll(first ? { kind: "startup" } : { kind: "poll" });
      // With several agents, the stacks to own are known once the repository is read.
      if (first) await this.#coord?.round();
      first = false;
    }, { now: true });
    void this.#scheduler.every("drift", this.#o.intervals.driftMs, () => this.checkDrift(), { now: false });
    void this.#scheduler.every("health", this.#o.intervals.healthMs ?? 5000, () => this.#health.check(), { now: false });
    const previews = this.#previews;
    // The safety net for lost pull-request webhooks, closed pull requests and TTLs.
    if (previews !== undefined) void this.#scheduler.every("previews", this.#o.intervals.pollMs, () => (this.#coord?.leads() === false ? Promise.resolve() : previews.sweep()), { now: true });
  }

  /** Stops taking work, lets running syncs finish within the grace period, cancels the rest, closes everything. */
  async stop(): Promise<void> {
    if (this.#scheduler.closed) return;
    const late = await this.#scheduler.close(this.#o.graceMs);
    if (late.length > 0) this.#o.logger.warn({ cancelled: late }, "syncs cancelled at shutdown");
    await this.#coord?.stop();
    await this.#pool.close();
    await this.#previews?.close();
    await this.#watch.close();
    this.events.close();
    await this.#recorder.audit({ kind: "agent-stop", actor: "agent", details: { cancelled: late } }).catch(() => undefined);
    this.#pending.close();
  }

  /**
   * A push arrived (webhook) or someone asked (API, `gitward sync`): check the branch now and sync.
   * A manual trigger is audited with `trigger.by`, who authenticated, and `claimedBy`, the name the
   * caller gave, kept apart.
   */
  async trigger(trigger: SyncTrigger, scope: { environment?: string; stack?: string } = {}, claim: { claimedBy?: string; overrideApproval?: string } = {}): Promise<{ revision?: string; queued: number }> {
    const manual = trigger.kind === "manual";
    if (claim.overrideApproval !== undefined) await overrideApproval({ watch: this.#watch, approvals: this.#approvals, recorder: this.#recorder, logger: this.#o.logger }, trigger, scope, claim.overrideApproval);
    if (manual) {
      await this.#recorder.audit({
        kind: "manual-trigger", actor: trigger.by ?? "unknown",
        details: { detail: trigger.detail ?? "", ...(claim.claimedBy === undefined ? {} : { claimedBy: claim.claimedBy }) },
        ...(scope.environment === undefined ? {} : { environment: scope.environment }), ...(scope.stack === undefined ? {} : { stack: scope.stack }),
      });
    }
    await this.#poll(trigger, scope);
    // A push reaching one agent makes every agent read the remote now.
    if (trigger.kind === "webhook") await this.#coord?.announcePush(trigger.detail ?? "push").catch((e: unknown) => this.#o.logger.warn({ err: String(e) }, "could not tell the other agents of the push"));
    let queued = 0;
    for (const i of manual ? await this.#scope(scope) : []) {
      // A stack owned by another agent: routed to it through the store, counted as queued.
      if (!this.#enqueue(i.environment, i.stack, "sync", trigger, { explicit: true })) await this.#coord?.route({ environment: i.environment, stack: i.stack, trigger });
      queued++;
    }
    return { ...(this.#watch.head === undefined ? {} : { revision: this.#watch.head.commit.sha }), queued };
  }

  /** A pull request or review event arrived: approvals are asked again, held environments tried again, previews follow. */
  async pullRequestEvent(event: PullRequestEvent): Promise<void> {
    await this.reviewChanged(event.number);
    await this.#previews?.handle(event);
  }

  /** A review or pull request changed: approvals are asked again, and held environments tried again. */
  async reviewChanged(pr?: number): Promise<void> {
    this.#approvals.forget(pr);
    for (const environment of this.#approvals.heldEnvironments()) {
      for (const i of await this.#watch.instances(environment)) this.#enqueue(i.environment, i.stack, "sync", { kind: "webhook", detail: pr === undefined ? "review" : `review on ${pr}` });
    }
  }

  /** After a reconcile: the environment's commit status, and notifications. */
  #reconciled(item: WorkItem, revision: string, outcome: ReconcileOutcome): void {
    const url = this.#o.url === undefined ? {} : { url: this.#o.url };
    if (outcome.result === "failed") {
      this.#o.notifier?.notify({ kind: "sync-failed", environment: item.environment, stack: item.stack, revision, message: `${item.environment}/${item.stack}: sync of ${revision.slice(0, 12)} failed: ${outcome.error ?? ""}`, ...url });
    }
    if (outcome.driftRecorded === true) {
      this.#o.notifier?.notify({ kind: "drift", environment: item.environment, stack: item.stack, revision, message: `${item.environment}/${item.stack}: ${outcome.drifted ?? 0} object(s) changed outside Git${outcome.decision.kind === "heal" ? ", corrected" : ""}`, ...url });
    }
    const deployments = this.#deployments;
    if (deployments === undefined || !["succeeded", "failed", "held"].includes(outcome.result)) return;
    this.#reporting = this.#reporting.then(() => this.#watch.instances(item.environment))
      .then((instances) => deployments.report({
        environment: item.environment, revision, stacks: instances.map((i) => i.stack),
        held: outcome.result === "held" ? outcome.error : undefined,
      }))
      .catch((e: unknown) => this.#o.logger.warn({ environment: item.environment, err: e instanceof Error ? e.message : String(e) }, "could not report the deployment status"));
  }

  /** Queues a drift check of every served stack now, as the drift timer does, and looks for orphaned stacks. */
  async checkDrift(): Promise<void> {
    await this.#watch.refresh().catch(() => undefined);
    for (const i of await this.#watch.instances()) {
      if (!this.#scheduler.has(`${i.environment}/${i.stack}`)) this.#enqueue(i.environment, i.stack, "drift", { kind: "drift" });
    }
    await this.#findOrphans();
  }

  /** Orphaned stacks (see orphansPass); with several agents, only the leading one looks. */
  async #findOrphans(): Promise<void> {
    if (this.#coord?.leads() === false) return;
    this.#orphans = await orphansPass({ watch: this.#watch, approvals: this.#approvals, pool: this.#pool, recorder: this.#recorder, clock: this.#clock, logger: this.#o.logger }, this.#orphans);
  }

  /** Resolves when the queue has nothing running and nothing waiting (delayed retries included unless told). */
  async idle(includeDelayed = true): Promise<void> {
    await this.#scheduler.idle(includeDelayed);
    await this.#reporting;
  }

  /** True once started, the repository was read once, and no loop is failing. */
  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.#started) reasons.push("starting");
    if (this.#watch.head === undefined) reasons.push("the repository has not been read yet");
    if (this.#scheduler.closed) reasons.push("shutting down");
    reasons.push(...(this.#o.store.healthy?.() === false ? ["state store unavailable"] : []), ...(this.#coord?.problems() ?? []));
    for (const [name, loop] of Object.entries(this.#scheduler.loops())) if (loop.failures >= 3) reasons.push(`${name} loop failing: ${loop.lastError ?? ""}`);
    return { ready: reasons.length === 0, reasons };
  }

  /** Everything `gitward status` shows. */
  status(): Promise<AgentStatus> {
    return agentStatus({
      branch: this.#o.branch, watch: this.#watch, recorder: this.#recorder, scheduler: this.#scheduler,
      drift: (e, s) => this.#drift.get(`${e}/${s}`), orphaned: this.#orphans, approval: (e) => this.#approvals.state(e),
      previews: this.#previews?.list() ?? [], ...(this.#coord === undefined ? {} : { coordination: this.#coord }),
    });
  }

  /** Where an environment stands at the gate now: the head's refusal for it, else the approval gate. */
  gate(environment: string): GateView {
    return gateView(this.#watch.refusedFor(environment), this.#approvals.state(environment));
  }

  #publishGate(environment: string, revision: string): void {
    this.events.publish({ type: "gate", data: { environment, revision, gate: this.gate(environment) } });
  }

  /** One stack's status with its objects and their health read now; undefined when the agent does not serve it. */
  async stackDetail(environment: string, stack: string): Promise<{ status: AgentStatus; stack: StackStatus; objects: ObjectHealth[] } | undefined> {
    const status = await this.status();
    const found = status.environments.find((e) => e.name === environment)?.stacks.find((s) => s.stack === stack);
    const instance = (await this.#watch.instances(environment)).find((i) => i.stack === stack);
    if (found === undefined || instance === undefined) return undefined;
    return { status, stack: found, objects: await stackObjects(this.#pool, instance, found.health) };
  }

  /** The live diff of one stack at the head revision (nothing written); undefined when the agent does not serve it. */
  async diffStack(environment: string, stack: string): Promise<StackDiff | undefined> {
    if (!(await this.#watch.instances(environment)).some((i) => i.stack === stack)) return undefined;
    return diffStack(this.#watch, this.#pool, this.#clock, environment, stack);
  }

  /**
   * Rolls an environment (or a stack) back as `gitward rollback --push` does, on the branch the
   * agent follows, audited with who asked; then syncs the revert commit like any new revision.
   * Throws {@link RollbackFailed} when nothing is served there, nothing is to undo, or the push fails.
   */
  async rollback(req: AgentRollbackRequest): Promise<RollbackResult> {
    const where = `${req.environment}${req.stack === undefined ? "" : `/${req.stack}`}`;
    if ((await this.#scope(req)).length === 0) throw new RollbackFailed("not-found", `the agent serves no stack ${where}`);
    const ctx = { repo: this.#o.repo, branch: this.#o.branch, configPath: this.#o.configPath, cacheDir: this.#o.cacheDir, runner: this.#runner };
    const run = this.#rollingBack.then(() => rollbackThroughGit(ctx, req));
    this.#rollingBack = run.catch(() => undefined);
    const result = await run;
    this.#apiRollbacks.add(result.commit);
    await auditApiRollback(this.#recorder, this.#o.logger, req, result);
    void this.trigger({ kind: "poll", detail: "after a rollback through the API" })
      .catch((e: unknown) => this.#o.logger.error({ err: e instanceof Error ? e.message : String(e) }, "sync after the rollback failed to start"));
    return result;
  }

  /** Checks the branch head cheaply; on a new revision (or at startup), queues syncs. */
  async #poll(trigger: SyncTrigger, scope: { environment?: string; stack?: string } = {}): Promise<void> {
    const changed = await this.#watch.refresh();
    if (!changed && trigger.kind !== "startup") return;
    for (const i of await this.#scope(scope)) this.#enqueue(i.environment, i.stack, "sync", trigger);
  }

  async #scope(scope: { environment?: string; stack?: string }): Promise<readonly StackInstance[]> {
    return (await this.#watch.instances(scope.environment)).filter((i) => scope.stack === undefined || i.stack === scope.stack);
  }

  async #queueDependents(environment: string, stack: string, trigger: SyncTrigger): Promise<void> {
    for (const dependent of await this.#watch.dependents(environment, stack)) this.#enqueue(environment, dependent, "sync", trigger);
  }

  /** Queues work for a stack; false (nothing queued) when another agent owns it. */
  #enqueue(environment: string, stack: string, job: Job, trigger: SyncTrigger, opts: { explicit?: boolean; delayMs?: number } = {}): boolean {
    const coord = this.#coord;
    if (coord !== undefined && !coord.owns({ environment, stack })) return false;
    const ctx: WorkContext = {
      watch: this.#watch, scheduler: this.#scheduler, pool: this.#pool, recorder: this.#recorder, clock: this.#clock,
      logger: this.#o.logger, metrics: this.#o.metrics, healthTimeoutMs: this.#o.healthTimeoutMs, dependencyWaitMs: this.#o.intervals.dependencyWaitMs,
      remember: (memory) => this.#drift.set(`${environment}/${stack}`, memory),
      requeue: (j, t, o) => this.#enqueue(environment, stack, j, t, o),
      queueDependency: (dep) => { if (!this.#scheduler.has(`${environment}/${dep}`)) this.#enqueue(environment, dep, "sync", { kind: "startup", detail: `dependency of ${stack}` }); },
      queueDependents: () => this.#queueDependents(environment, stack, { kind: trigger.kind, detail: `after ${stack}` }),
      health: this.#health,
      approvals: this.#approvals, approvalRecheckMs: this.#o.approvalTtlMs ?? 60_000,
      reconciled: (item, revision, outcome) => this.#reconciled(item, revision, outcome),
    };
    const item = { environment, stack, job, trigger, explicit: opts.explicit ?? false };
    // Run only while the lease is held, under its fence.
    this.#scheduler.enqueue(`${environment}/${stack}`, coord === undefined ? (signal) => reconcileWork(ctx, item, signal)
      : async (signal) => void await coord.run({ environment, stack }, (fence) => reconcileWork(ctx, { ...item, fence }, signal)), opts.delayMs ?? 0);
    this.#o.metrics.queueDepth.set(this.#scheduler.depth);
    return true;
  }
}
