import type { Logger } from "pino";
import { ProcessRunner, type CommandRunner } from "../core/command-runner.ts";
import { refKey, formatRef } from "../core/objref.ts";
import { parseConfig, type LoadedConfig } from "../config/load-config.ts";
import { stackInstances, type StackInstance } from "../config/stack-instances.ts";
import { actionSummary } from "../engine/change-set.ts";
import { evaluateRevision, type RevisionEvaluation } from "../engine/evaluate-revision.ts";
import { decideGate, type GateOutcome } from "../engine/gate.ts";
import { syncOne } from "../engine/sync-environment.ts";
import { labelledObjects } from "../engine/sync-stack.ts";
import { openWorkspace, type Workspace } from "../engine/workspace.ts";
import type { Provider, ProviderContext, TargetSession } from "../providers/provider.ts";
import { maskUserinfo } from "../source/source-location.ts";
import type { Commit } from "../source/types.ts";
import type { RevisionInfo, Store, SyncRow, SyncTrigger } from "../store/store.ts";
import type { AgentConfig } from "./config.ts";
import type { AgentMetrics } from "./metrics.ts";
import { WorkQueue } from "./queue.ts";

/** Everything an agent runs on. */
export interface AgentOptions {
  readonly repo: string;
  readonly branch: string;
  readonly configPath: string;
  /** Environments served; undefined serves every environment of gitward.yaml. */
  readonly environments?: readonly string[];
  readonly store: Store;
  readonly cacheDir: string;
  readonly providers: Readonly<Record<string, Provider>>;
  /** Credentials by target name, or `environment/target`. */
  readonly targets: AgentConfig["targets"];
  /** Default kubeconfig for kubernetes targets without one. */
  readonly kubeconfig?: string;
  readonly intervals: { readonly pollMs: number; readonly driftMs: number; readonly retryBaseMs: number; readonly retryMaxMs: number; readonly dependencyWaitMs: number };
  readonly concurrency: number;
  readonly graceMs: number;
  /** How long a sync waits for health after applying. */
  readonly healthTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly runner?: CommandRunner;
}

/** One stack's state as the agent knows it. */
export interface StackStatus {
  readonly environment: string;
  readonly stack: string;
  readonly target: string;
  /** The revision Git wants (the branch head). */
  readonly desired?: string;
  /** The revision last synced successfully. */
  readonly current?: string;
  readonly inSync: boolean;
  readonly lastSync?: { readonly id: string; readonly outcome: SyncRow["outcome"]; readonly at: string; readonly error?: string; readonly revision: string };
  /** Objects differing from Git at the last drift check. */
  readonly drift: number;
  readonly driftCheckedAt?: string;
  readonly queued: boolean;
}

/** The agent's status: what `gitward status` and `/api/v1/status` show. */
export interface AgentStatus {
  readonly repo: string;
  readonly branch: string;
  readonly head?: { readonly sha: string; readonly subject: string; readonly author: string; readonly seenAt: string };
  /** Set while the repository cannot be reached: the environments keep their last revision. */
  readonly stale?: { readonly since: string; readonly error: string };
  /** Why the head revision is not applied, when it is refused. */
  readonly refused?: { readonly revision: string; readonly reasons: readonly string[] };
  readonly environments: readonly {
    readonly name: string;
    readonly auto: boolean;
    readonly prune: boolean;
    readonly selfHeal: boolean;
    readonly stacks: readonly StackStatus[];
  }[];
  readonly queue: { readonly depth: number; readonly inFlight: number };
  readonly loops: Readonly<Record<string, LoopHealth>>;
}

/** How a background loop is doing, for /readyz. */
export interface LoopHealth {
  readonly lastOk?: string;
  readonly lastError?: string;
  readonly failures: number;
}

interface Evaluated {
  readonly sha: string;
  readonly evaluation: RevisionEvaluation;
  readonly gate: GateOutcome;
}

interface StackMemory {
  drift: number;
  driftCheckedAt?: string;
  failures: number;
}

type Job = "sync" | "drift";

/**
 * The pull-mode agent: watches a branch, and for every environment it serves keeps each stack
 * at the branch head through the same engine as `gitward apply`. One queue keyed by
 * (environment, stack) runs the work: syncs on new revisions (poll, webhook, manual), drift
 * checks on a timer (self-heal or report), retries with backoff. Everything it does is recorded
 * in the Store.
 */
export class Agent {
  readonly #o: AgentOptions;
  readonly #runner: CommandRunner;
  readonly #queue: WorkQueue;
  readonly #sessions = new Map<string, Promise<TargetSession>>();
  readonly #memory = new Map<string, StackMemory>();
  /** Last and last good sync per stack: this agent is the only writer of its stacks' history. */
  readonly #rows = new Map<string, { last: SyncRow | undefined; good: SyncRow | undefined }>();
  readonly #loops = new Map<string, LoopHealth & { timer?: NodeJS.Timeout }>();
  #ws: Workspace | undefined;
  #head: { commit: Commit; seenAt: string } | undefined;
  #stale: { since: string; error: string } | undefined;
  #evaluations = new Map<string, Promise<Evaluated>>();
  #refused: { revision: string; reasons: string[] } | undefined;
  #stopping = false;
  #started = false;
  #fetching: Promise<boolean> | undefined;
  #configAt: { sha: string; loaded: LoadedConfig } | undefined;

  constructor(opts: AgentOptions) {
    this.#o = opts;
    this.#runner = opts.runner ?? new ProcessRunner();
    this.#queue = new WorkQueue({
      concurrency: opts.concurrency,
      onError: (key, e) => opts.logger.error({ key, err: errorText(e) }, "work item failed"),
    });
  }

  /** Opens the repository, marks syncs a previous process left running as interrupted, and starts the loops. */
  async start(): Promise<void> {
    const interrupted = await this.#o.store.interruptRunning("the agent stopped during the sync (crash or kill); it is retried");
    for (const row of interrupted) this.#o.logger.warn({ environment: row.environment, stack: row.stack, sync: row.id }, "sync interrupted by a previous stop");
    await this.#o.store.appendAudit({ kind: "agent-start", actor: "agent", details: { repo: maskUserinfo(this.#o.repo), branch: this.#o.branch, interrupted: interrupted.length } });
    this.#started = true;
    // Until one poll succeeds, every poll is the startup pass that queues every stack.
    let first = true;
    await this.#supervised("poll", this.#o.intervals.pollMs, async () => {
      await this.#poll(first ? { kind: "startup" } : { kind: "poll" });
      first = false;
    }, true);
    this.#schedule("drift", this.#o.intervals.driftMs, () => this.#driftSweep());
  }

  /** Stops taking work, lets running syncs finish within the grace period, cancels the rest, closes everything. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const loop of this.#loops.values()) if (loop.timer !== undefined) clearTimeout(loop.timer);
    const late = await this.#queue.close(this.#o.graceMs);
    if (late.length > 0) this.#o.logger.warn({ cancelled: late }, "syncs cancelled at shutdown");
    await Promise.allSettled([...this.#sessions.values()].map(async (s) => (await s).close()));
    await this.#ws?.close();
    await this.#o.store.appendAudit({ kind: "agent-stop", actor: "agent", details: { cancelled: late } }).catch(() => undefined);
  }

  /** A push arrived (webhook) or someone asked (API, `gitward sync`): check the branch now and sync. */
  async trigger(trigger: SyncTrigger, scope: { environment?: string; stack?: string } = {}): Promise<{ revision?: string; queued: number }> {
    if (trigger.kind === "manual") {
      await this.#o.store.appendAudit({
        kind: "manual-trigger", actor: trigger.by ?? "unknown",
        ...(scope.environment === undefined ? {} : { environment: scope.environment }),
        ...(scope.stack === undefined ? {} : { stack: scope.stack }),
        details: { detail: trigger.detail ?? "" },
      });
    }
    await this.#poll(trigger, scope);
    let queued = 0;
    if (trigger.kind === "manual") {
      for (const instance of await this.#instances(scope.environment)) {
        if (scope.stack !== undefined && instance.stack !== scope.stack) continue;
        this.#enqueue(instance.environment, instance.stack, "sync", trigger, 0, true);
        queued++;
      }
    }
    return { ...(this.#head === undefined ? {} : { revision: this.#head.commit.sha }), queued };
  }

  /** Queues a drift check of every served stack now, as the drift timer does. */
  async checkDrift(): Promise<void> {
    await this.#driftSweep();
  }

  /** Resolves when the queue has nothing running and nothing waiting (delayed retries included unless told). */
  idle(includeDelayed = true): Promise<void> {
    return this.#queue.idle(includeDelayed);
  }

  /** True once started, the repository was read once, and no loop is failing. */
  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.#started) reasons.push("starting");
    if (this.#head === undefined) reasons.push("the repository has not been read yet");
    if (this.#stopping) reasons.push("shutting down");
    for (const [name, loop] of this.#loops) if (loop.failures >= 3) reasons.push(`${name} loop failing: ${loop.lastError ?? ""}`);
    return { ready: reasons.length === 0, reasons };
  }

  /** Everything `gitward status` shows. */
  async status(): Promise<AgentStatus> {
    const envs = (await this.#config())?.config.environments ?? {};
    const environments = [];
    for (const env of this.#servedEnvironments(Object.keys(envs))) {
      const spec = envs[env];
      const stacks: StackStatus[] = [];
      for (const instance of await this.#instances(env)) {
        const [last, good] = await Promise.all([this.#o.store.lastSync(env, instance.stack), this.#o.store.lastSucceeded(env, instance.stack)]);
        const mem = this.#memory.get(key(env, instance.stack));
        stacks.push({
          environment: env, stack: instance.stack, target: instance.targetName,
          ...(this.#head === undefined ? {} : { desired: this.#head.commit.sha }),
          ...(good === undefined ? {} : { current: good.revision.sha }),
          inSync: good !== undefined && good.revision.sha === this.#head?.commit.sha && (mem?.drift ?? 0) === 0,
          ...(last === undefined ? {} : {
            lastSync: {
              id: last.id, outcome: last.outcome, at: last.finishedAt ?? last.startedAt, revision: last.revision.sha,
              ...(last.error === undefined ? {} : { error: last.error }),
            },
          }),
          drift: mem?.drift ?? 0,
          ...(mem?.driftCheckedAt === undefined ? {} : { driftCheckedAt: mem.driftCheckedAt }),
          queued: this.#queue.has(key(env, instance.stack)),
        });
      }
      environments.push({ name: env, auto: spec?.sync.auto ?? false, prune: spec?.sync.prune ?? true, selfHeal: spec?.sync.selfHeal ?? false, stacks });
    }
    return {
      repo: maskUserinfo(this.#o.repo), branch: this.#o.branch,
      ...(this.#head === undefined ? {} : {
        head: { sha: this.#head.commit.sha, subject: this.#head.commit.subject, author: this.#head.commit.author.name, seenAt: this.#head.seenAt },
      }),
      ...(this.#stale === undefined ? {} : { stale: this.#stale }),
      ...(this.#refused === undefined ? {} : { refused: this.#refused }),
      environments,
      queue: { depth: this.#queue.depth, inFlight: this.#queue.inFlight },
      loops: Object.fromEntries([...this.#loops].map(([n, l]) => [n, { failures: l.failures, ...(l.lastOk === undefined ? {} : { lastOk: l.lastOk }), ...(l.lastError === undefined ? {} : { lastError: l.lastError }) }])),
    };
  }

  // ---- the repository ----

  /** Checks the branch head cheaply; on a new revision, fetches, evaluates and queues syncs. */
  async #poll(trigger: SyncTrigger, scope: { environment?: string; stack?: string } = {}): Promise<void> {
    const changed = await this.#refresh();
    if (!changed && trigger.kind !== "startup") return;
    for (const instance of await this.#instances(scope.environment)) {
      if (scope.stack !== undefined && instance.stack !== scope.stack) continue;
      this.#enqueue(instance.environment, instance.stack, "sync", trigger, 0, false);
    }
  }

  /** Reads the branch head (one `git ls-remote`), fetching when it moved; true when it did. */
  async #refresh(): Promise<boolean> {
    this.#fetching ??= (async (): Promise<boolean> => {
      const started = performance.now();
      try {
        const sha = await this.#lsRemote();
        this.#o.metrics.gitFetchDuration.observe({ kind: "ls-remote" }, (performance.now() - started) / 1000);
        if (this.#head?.commit.sha === sha) {
          this.#markReachable();
          return false;
        }
        const fetchStarted = performance.now();
        const ws = await this.#workspace(true);
        const commit = await ws.source.resolve(`refs/heads/${this.#o.branch}`);
        this.#o.metrics.gitFetchDuration.observe({ kind: "fetch" }, (performance.now() - fetchStarted) / 1000);
        this.#head = { commit, seenAt: new Date().toISOString() };
        this.#evaluations = new Map();
        this.#refused = undefined;
        this.#markReachable();
        this.#o.logger.info({ revision: commit.sha, subject: commit.subject, author: commit.author.name }, "new revision");
        const rolledBack = /^Rollback ([a-z0-9-]+)(?:\/([a-z0-9-]+))?: revert /.exec(commit.subject);
        if (rolledBack !== null) {
          // A rollback is a commit like any other; it is also an audit event, by whoever made it.
          await this.#o.store.appendAudit({
            kind: "rollback", actor: commit.author.name, environment: rolledBack[1] ?? "", revision: commit.sha,
            ...(rolledBack[2] === undefined ? {} : { stack: rolledBack[2] }),
            details: { subject: commit.subject, email: commit.author.email },
          });
        }
        return true;
      } catch (e: unknown) {
        const error = errorText(e);
        if (this.#stale === undefined) this.#o.logger.error({ err: error }, "repository unreachable: environments stay on their last revision");
        this.#stale ??= { since: new Date().toISOString(), error };
        this.#stale = { since: this.#stale.since, error };
        throw e;
      }
    })().finally(() => {
      this.#fetching = undefined;
    });
    return this.#fetching;
  }

  #markReachable(): void {
    if (this.#stale !== undefined) this.#o.logger.info("repository reachable again");
    this.#stale = undefined;
    this.#o.metrics.lastPollSuccess.set(Date.now() / 1000);
  }

  async #lsRemote(): Promise<string> {
    const r = await this.#runner.run({ command: "git", args: ["ls-remote", "--", this.#o.repo, `refs/heads/${this.#o.branch}`], timeoutMs: 30_000, env: { GIT_TERMINAL_PROMPT: "0" } });
    const line = r.stdout.toString("utf8").split("\n").find((l) => l.endsWith(`\trefs/heads/${this.#o.branch}`));
    if (r.exitCode !== 0 || line === undefined) {
      const why = r.exitCode !== 0 ? maskUserinfo(r.stderr.trim().split("\n").pop() ?? `exit ${r.exitCode}`) : `branch ${this.#o.branch} not found`;
      throw new Error(`cannot read ${maskUserinfo(this.#o.repo)}: ${why}`);
    }
    return line.split("\t")[0] ?? "";
  }

  /** The workspace; a remote's mirror is fetched again when `fetch` is set. */
  async #workspace(fetch: boolean): Promise<Workspace> {
    if (this.#ws !== undefined && (!fetch || isLocal(this.#o.repo))) return this.#ws;
    const next = await openWorkspace({ repo: this.#o.repo, cacheDir: this.#o.cacheDir, noCache: false, allowRemoteBases: false, runner: this.#runner });
    const previous = this.#ws;
    this.#ws = next;
    await previous?.close();
    return next;
  }

  /** The head revision evaluated for one environment (render, check, policies, gate), once per revision. */
  #evaluate(environment: string): Promise<Evaluated> {
    const head = this.#head;
    if (head === undefined) return Promise.reject(new Error("the repository has not been read yet"));
    let e = this.#evaluations.get(environment);
    if (e === undefined) {
      e = (async (): Promise<Evaluated> => {
        const ws = await this.#workspace(false);
        const evaluation = await evaluateRevision({
          source: ws.source, rev: head.commit.sha, configPath: this.#o.configPath, filter: { environments: [environment], lenient: true },
          renderer: ws.renderer, check: ws.check, configCache: ws.configCache,
        });
        const gate = await decideGate(evaluation.findings, undefined);
        if (!gate.allowed) {
          const reasons = [...gate.blockers, ...gate.denials].slice(0, 10).map((f) => `${f.location === undefined ? "" : `${f.location.file}${f.location.line === undefined ? "" : `:${f.location.line}`}: `}${f.message}`);
          this.#refused = { revision: head.commit.sha, reasons };
          this.#o.logger.error({ revision: head.commit.sha, environment, reasons }, "revision refused: not applied, the environment stays on its last good revision");
        }
        return { sha: head.commit.sha, evaluation, gate };
      })();
      this.#evaluations.set(environment, e);
      e.catch(() => this.#evaluations.delete(environment));
    }
    return e;
  }

  /** gitward.yaml at the head revision, read once per revision; undefined before the first read. */
  async #config(): Promise<LoadedConfig | undefined> {
    const head = this.#head;
    if (head === undefined) return undefined;
    if (this.#configAt?.sha !== head.commit.sha) {
      const ws = await this.#workspace(false);
      const snapshot = await ws.source.snapshot(head.commit);
      const text = (await snapshot.readFile(this.#o.configPath)).toString("utf8");
      this.#configAt = { sha: head.commit.sha, loaded: parseConfig(text, this.#o.configPath) };
    }
    return this.#configAt.loaded;
  }

  /** The stack instances of the served environments (all, or one), at the head revision. */
  async #instances(environment?: string): Promise<StackInstance[]> {
    const loaded = await this.#config();
    if (loaded === undefined) return [];
    const envs = this.#servedEnvironments(Object.keys(loaded.config.environments)).filter((e) => environment === undefined || e === environment);
    return stackInstances(loaded, { environments: envs, lenient: true });
  }

  #servedEnvironments(all: readonly string[]): string[] {
    return all.filter((e) => this.#o.environments === undefined || this.#o.environments.includes(e));
  }

  // ---- the work ----

  #enqueue(environment: string, stack: string, job: Job, trigger: SyncTrigger, delayMs: number, force: boolean): void {
    this.#queue.enqueue(key(environment, stack), async (signal) => {
      try {
        await this.#work(environment, stack, job, trigger, force, signal);
      } catch (e: unknown) {
        // Reading the revision or opening the target failed: retried with backoff like a failed sync.
        const mem = this.#mem(environment, stack);
        mem.failures++;
        const delay = Math.min(this.#o.intervals.retryBaseMs * 2 ** (mem.failures - 1), this.#o.intervals.retryMaxMs);
        this.#o.logger.error({ environment, stack, job, err: errorText(e), retryInMs: delay }, "work item failed");
        if (!this.#stopping && !signal.aborted) this.#enqueue(environment, stack, job, trigger, delay, force);
      }
    }, delayMs);
    this.#o.metrics.queueDepth.set(this.#queue.depth);
  }

  async #work(environment: string, stack: string, job: Job, trigger: SyncTrigger, force: boolean, signal: AbortSignal): Promise<void> {
    this.#o.metrics.queueDepth.set(this.#queue.depth);
    const ev = await this.#evaluate(environment);
    const instance = ev.evaluation.instances.find((i) => i.stack === stack);
    if (instance === undefined) return; // removed from Git or from this environment since it was queued
    const envSpec = ev.evaluation.config?.config.environments[environment];
    const auto = envSpec?.sync.auto ?? false;
    const { last, good } = await this.#recorded(environment, stack);
    const atHead = good?.revision.sha === ev.sha;
    if (!ev.gate.allowed || !renderOk(ev, instance)) {
      // Recorded once per revision, so a refused revision does not fill the history.
      if (last?.revision.sha !== ev.sha || last.outcome !== "failed") await this.#recordRefused(instance, ev, trigger);
      return;
    }
    if (job === "drift" || (atHead && !force)) {
      if (!atHead && !auto) return; // a manual environment waits for `gitward sync`
      if (!atHead) return this.#sync(instance, ev, trigger, signal);
      return this.#checkDrift(instance, ev, envSpec?.sync.selfHeal ?? false, signal);
    }
    if (!auto && trigger.kind !== "manual") return;
    const waiting = await this.#dependencies(instance, ev.sha);
    if (waiting === "wait") {
      this.#enqueue(environment, stack, "sync", trigger, this.#o.intervals.dependencyWaitMs, force);
      return;
    }
    if (waiting !== "ok") {
      if (last?.revision.sha !== ev.sha || last.outcome !== "skipped") {
        const row = await this.#begin({ environment, stack, revision: revisionOf(this.#head?.commit, ev.sha), trigger, startedAt: new Date().toISOString(), summary: {}, objects: [] });
        await this.#finish(row.id, { outcome: "skipped", error: waiting, summary: {}, objects: [], durationMs: 0 });
      }
      return;
    }
    await this.#sync(instance, ev, trigger, signal);
  }

  /** "ok" when every dependency is synced at this revision; "wait" while one is not yet; else why not. */
  async #dependencies(instance: StackInstance, sha: string): Promise<string> {
    for (const dep of instance.dependsOn) {
      const { last } = await this.#recorded(instance.environment, dep);
      if (last?.revision.sha === sha && last.outcome === "succeeded") continue;
      if (last?.revision.sha === sha && (last.outcome === "failed" || last.outcome === "skipped")) return `not synced: dependency ${dep} failed at this revision`;
      if (!this.#queue.has(key(instance.environment, dep))) this.#enqueue(instance.environment, dep, "sync", { kind: "startup", detail: `dependency of ${instance.stack}` }, 0, false);
      return "wait";
    }
    return "ok";
  }

  async #sync(instance: StackInstance, ev: Evaluated, trigger: SyncTrigger, signal: AbortSignal): Promise<void> {
    const { environment, stack } = instance;
    const render = ev.evaluation.renders.find((r) => r.instance.stack === stack);
    if (render === undefined || !render.ok) return;
    const started = performance.now();
    const row = await this.#begin({
      environment, stack, revision: revisionOf(this.#head?.commit, ev.sha), trigger, startedAt: new Date().toISOString(), summary: {}, objects: [],
    });
    const envSpec = ev.evaluation.config?.config.environments[environment];
    let outcome: SyncRow["outcome"] = "failed";
    let error: string | undefined;
    let entries: Parameters<Store["finishSync"]>[1]["objects"] = [];
    let commands: Parameters<Store["finishSync"]>[1]["commands"];
    try {
      const result = await syncOne(instance, render.objects, this.#session(instance), {
        revision: ev.sha, dryRun: false, force: false, prune: envSpec?.sync.prune ?? true, waitMs: this.#o.healthTimeoutMs, gate: ev.gate, signal,
      });
      entries = result.entries;
      commands = result.commands;
      error = result.error ?? (result.health?.timedOut === true ? "timed out waiting for health" : undefined);
      outcome = result.ok ? "succeeded" : signal.aborted ? "cancelled" : "failed";
      if (!result.ok && error === undefined) error = entries.filter((e) => e.action === "failed").map((e) => `${formatRef(e.ref)}: ${e.message ?? "failed"}`).slice(0, 5).join("; ");
    } catch (e: unknown) {
      outcome = signal.aborted ? "cancelled" : "failed";
      error = errorText(e);
    }
    const durationMs = Math.round(performance.now() - started);
    const summary = actionSummary(entries);
    await this.#finish(row.id, {
      outcome, summary, objects: entries, durationMs,
      ...(error === undefined || error === "" ? {} : { error }),
      ...(commands === undefined ? {} : { commands }),
    });
    await this.#o.store.appendAudit({
      kind: "sync", actor: trigger.by ?? `agent (${trigger.kind})`, environment, stack, revision: ev.sha,
      details: { syncId: row.id, outcome, trigger: trigger.kind, summary },
    });
    this.#o.metrics.syncs.inc({ environment, stack, result: outcome });
    this.#o.metrics.syncDuration.observe({ environment, stack }, durationMs / 1000);
    const mem = this.#mem(environment, stack);
    if (outcome === "succeeded") {
      mem.failures = 0;
      mem.drift = 0;
      this.#o.metrics.driftObjects.set({ environment, stack }, 0);
      this.#o.metrics.setRevision(environment, stack, ev.sha);
      this.#o.logger.info({ environment, stack, revision: ev.sha, trigger: trigger.kind, summary, ms: durationMs }, "synced");
    } else if (outcome === "failed") {
      mem.failures++;
      const delay = Math.min(this.#o.intervals.retryBaseMs * 2 ** (mem.failures - 1), this.#o.intervals.retryMaxMs);
      this.#o.logger.error({ environment, stack, revision: ev.sha, err: error, retryInMs: delay }, "sync failed");
      if (!this.#stopping) this.#enqueue(environment, stack, "sync", { kind: trigger.kind, detail: "retry" }, delay, true);
    }
  }

  async #checkDrift(instance: StackInstance, ev: Evaluated, selfHeal: boolean, signal: AbortSignal): Promise<void> {
    const { environment, stack } = instance;
    const render = ev.evaluation.renders.find((r) => r.instance.stack === stack);
    if (render === undefined || !render.ok) return;
    const session = await this.#session(instance);
    const stackRef = { environment, stack };
    const inventory = await session.readInventory(stackRef, signal);
    const set = await session.diff(labelledObjects(render.objects, stackRef), { ...(inventory === undefined ? {} : { inventory }), signal });
    const drifted = set.entries.filter((e) => e.action !== "no-op");
    const mem = this.#mem(environment, stack);
    mem.drift = drifted.length;
    mem.driftCheckedAt = new Date().toISOString();
    this.#o.metrics.driftObjects.set({ environment, stack }, drifted.length);
    if (drifted.length === 0) return;
    const corrected = selfHeal && !this.#stopping;
    const detectedAt = mem.driftCheckedAt;
    await this.#o.store.recordDrift(drifted.map((e) => ({
      environment, stack, detectedAt, ref: e.ref, apiVersion: e.apiVersion, corrected,
      fields: e.drift !== undefined && e.drift.length > 0
        ? e.drift
        : [{ field: e.action === "create" ? "(object deleted outside gitward)" : e.action === "delete" ? "(object no longer in Git)" : "(differs from Git)" }],
    })));
    this.#o.logger.warn({ environment, stack, objects: drifted.map((e) => formatRef(e.ref)), selfHeal }, corrected ? "drift found: correcting" : "drift found: reported (self-heal is off)");
    if (corrected) await this.#sync(instance, ev, { kind: "drift", detail: drifted.map((e) => refKey(e.ref)).slice(0, 5).join(", ") }, signal);
  }

  async #recordRefused(instance: StackInstance, ev: Evaluated, trigger: SyncTrigger): Promise<void> {
    const render = ev.evaluation.renders.find((r) => r.instance.stack === instance.stack);
    const reason = render !== undefined && !render.ok
      ? `revision not applied: render failed: ${render.error.message}`
      : `revision not applied: ${ev.gate.blockers.length} error(s), ${ev.gate.denials.length} policy denial(s); the stack stays on its last good revision`;
    const row = await this.#begin({
      environment: instance.environment, stack: instance.stack, revision: revisionOf(this.#head?.commit, ev.sha), trigger, startedAt: new Date().toISOString(), summary: {}, objects: [],
    });
    await this.#finish(row.id, { outcome: "failed", error: reason, summary: {}, objects: [], durationMs: 0 });
    this.#o.metrics.syncs.inc({ environment: instance.environment, stack: instance.stack, result: "refused" });
  }

  #session(instance: StackInstance): Promise<TargetSession> {
    const k = `${instance.environment}/${instance.targetName}`;
    let s = this.#sessions.get(k);
    if (s === undefined) {
      const provider = this.#o.providers[instance.target.provider];
      s = provider === undefined
        ? Promise.reject(new Error(`target ${instance.targetName}: provider "${instance.target.provider}" is not available in this build`))
        : provider.open(instance.targetName, instance.target, this.#context(instance));
      s.catch(() => this.#sessions.delete(k));
      this.#sessions.set(k, s);
    }
    return s;
  }

  /** Credentials for a target from the agent configuration: `environment/target` first, then `target`. */
  #context(instance: StackInstance): ProviderContext {
    const creds = this.#o.targets[`${instance.environment}/${instance.targetName}`] ?? this.#o.targets[instance.targetName];
    const kubeconfig = creds?.kubeconfig ?? this.#o.kubeconfig;
    return {
      ...(kubeconfig === undefined ? {} : { kubeconfigPath: kubeconfig }),
      ...(creds?.context === undefined ? {} : { context: creds.context }),
      ...(creds?.root === undefined ? {} : { hostRoots: { [instance.targetName]: creds.root } }),
    };
  }

  /** The stack's last sync and last successful sync, from memory once read from the store. */
  async #recorded(environment: string, stack: string): Promise<{ last: SyncRow | undefined; good: SyncRow | undefined }> {
    const k = key(environment, stack);
    let r = this.#rows.get(k);
    if (r === undefined) {
      const [last, good] = await Promise.all([this.#o.store.lastSync(environment, stack), this.#o.store.lastSucceeded(environment, stack)]);
      r = { last, good };
      this.#rows.set(k, r);
    }
    return r;
  }

  async #begin(sync: Parameters<Store["beginSync"]>[0]): Promise<SyncRow> {
    const row = await this.#o.store.beginSync(sync);
    const r = await this.#recorded(sync.environment, sync.stack);
    this.#rows.set(key(sync.environment, sync.stack), { ...r, last: row });
    return row;
  }

  async #finish(id: string, result: Parameters<Store["finishSync"]>[1]): Promise<SyncRow> {
    const row = await this.#o.store.finishSync(id, result);
    const r = await this.#recorded(row.environment, row.stack);
    this.#rows.set(key(row.environment, row.stack), { last: row, good: row.outcome === "succeeded" ? row : r.good });
    return row;
  }

  #mem(environment: string, stack: string): StackMemory {
    const k = key(environment, stack);
    let m = this.#memory.get(k);
    if (m === undefined) {
      m = { drift: 0, failures: 0 };
      this.#memory.set(k, m);
    }
    return m;
  }

  async #driftSweep(): Promise<void> {
    await this.#refresh().catch(() => undefined);
    for (const instance of await this.#instances()) {
      if (!this.#queue.has(key(instance.environment, instance.stack))) this.#enqueue(instance.environment, instance.stack, "drift", { kind: "drift" }, 0, false);
    }
  }

  // ---- supervision ----

  /** Runs `fn` every `intervalMs`: failures are caught, logged, backed off and shown in /readyz. */
  async #supervised(name: string, intervalMs: number, fn: () => Promise<void>, now: boolean): Promise<void> {
    const loop = this.#loops.get(name) ?? { failures: 0 };
    this.#loops.set(name, loop);
    const tick = async (): Promise<void> => {
      if (this.#stopping) return;
      let delay = intervalMs;
      try {
        await fn();
        this.#loops.set(name, { failures: 0, lastOk: new Date().toISOString(), ...(loop.lastError === undefined ? {} : { lastError: loop.lastError }) });
      } catch (e: unknown) {
        const current = this.#loops.get(name) ?? loop;
        const failures = current.failures + 1;
        delay = Math.min(intervalMs, this.#o.intervals.retryBaseMs * 2 ** (failures - 1));
        this.#loops.set(name, { ...current, failures, lastError: errorText(e) });
        this.#o.logger.warn({ loop: name, err: errorText(e), retryInMs: delay }, "background loop failed");
      }
      if (this.#stopping) return;
      const timer = setTimeout(() => void tick(), delay);
      timer.unref();
      const l = this.#loops.get(name);
      if (l !== undefined) this.#loops.set(name, { ...l, timer });
    };
    if (now) await tick();
    else {
      const timer = setTimeout(() => void tick(), intervalMs);
      timer.unref();
      this.#loops.set(name, { ...loop, timer });
    }
  }

  #schedule(name: string, intervalMs: number, fn: () => Promise<void>): void {
    void this.#supervised(name, intervalMs, fn, false);
  }
}

function key(environment: string, stack: string): string {
  return `${environment}/${stack}`;
}

function renderOk(ev: Evaluated, instance: StackInstance): boolean {
  return ev.evaluation.renders.find((r) => r.instance.stack === instance.stack)?.ok === true;
}

function revisionOf(commit: Commit | undefined, sha: string): RevisionInfo {
  if (commit === undefined || commit.sha !== sha) return { sha, author: "", message: "" };
  return {
    sha, author: commit.author.name, authorEmail: commit.author.email, committer: commit.committer.name,
    message: commit.subject, committedAt: commit.committer.date,
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isLocal(repo: string): boolean {
  return !/^[a-z+]+:\/\//i.test(repo) && !/^[^/]+@[^:]+:/.test(repo);
}
