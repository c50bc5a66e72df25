import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import type { CommandRunner } from "../core/command-runner.ts";
import { parseConfig, type LoadedConfig } from "../config/load-config.ts";
import { stackInstances, type StackInstance } from "../config/stack-instances.ts";
import { evaluateRevision, type RevisionEvaluation } from "../engine/evaluate-revision.ts";
import { decideGate, type GateOutcome } from "../engine/gate.ts";
import { openWorkspace, type Workspace } from "../engine/workspace.ts";
import { maskUserinfo } from "../source/source-location.ts";
import type { Commit } from "../source/types.ts";
import type { AgentMetrics } from "./metrics.ts";
import { errorText } from "./scheduler.ts";

/** The head revision evaluated for one environment: rendered, checked, gated. */
export interface Evaluated {
  readonly sha: string;
  readonly evaluation: RevisionEvaluation;
  readonly gate: GateOutcome;
}

/** What a {@link RepoWatch} watches and with what. */
export interface RepoWatchOptions {
  readonly repo: string;
  readonly branch: string;
  readonly configPath: string;
  /** Environments served; undefined serves every environment of gitward.yaml. */
  readonly environments?: readonly string[];
  readonly cacheDir: string;
  readonly runner: CommandRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  /** Called once per new head revision, before any of its syncs. */
  readonly onRevision: (commit: Commit) => Promise<void>;
  /** Reads the branch head without fetching (`git ls-remote`). */
  readonly remoteHead: (repo: string, branch: string) => Promise<string>;
}

/**
 * The branch the agent follows: its head (checked cheaply, fetched when it moves), whether
 * the repository is reachable, gitward.yaml and the served stack instances at the head, and
 * the head evaluated once per environment (Render, Check, Gate).
 */
export class RepoWatch {
  readonly #o: RepoWatchOptions;
  #ws: Workspace | undefined;
  #head: { commit: Commit; seenAt: string } | undefined;
  #stale: { since: string; error: string } | undefined;
  #refused: { revision: string; reasons: string[] } | undefined;
  #evaluations = new Map<string, Promise<Evaluated>>();
  #fetching: Promise<boolean> | undefined;
  #configAt: { sha: string; loaded: LoadedConfig } | undefined;
  /** Stack instances and dependents per environment filter, at the revision of #configAt. */
  #instancesAt = new Map<string, StackInstance[]>();
  #dependentsAt = new Map<string, ReadonlyMap<string, readonly string[]>>();

  constructor(opts: RepoWatchOptions) {
    this.#o = opts;
  }

  /** The head commit and when it was first seen; undefined before the first read. */
  get head(): { readonly commit: Commit; readonly seenAt: string } | undefined {
    return this.#head;
  }

  /** Set while the repository cannot be reached: the environments keep their last revision. */
  get stale(): { readonly since: string; readonly error: string } | undefined {
    return this.#stale;
  }

  /** Why the head revision is not applied, when the gate refused it. */
  get refused(): { readonly revision: string; readonly reasons: readonly string[] } | undefined {
    return this.#refused;
  }

  /** Reads the branch head (one `git ls-remote`), fetching when it moved; true when it did. Concurrent calls share one read. */
  refresh(): Promise<boolean> {
    this.#fetching ??= this.#read().finally(() => {
      this.#fetching = undefined;
    });
    return this.#fetching;
  }

  async #read(): Promise<boolean> {
    const started = this.#o.clock.now();
    try {
      const sha = await this.#o.remoteHead(this.#o.repo, this.#o.branch);
      this.#o.metrics.gitFetchDuration.observe({ kind: "ls-remote" }, (this.#o.clock.now() - started) / 1000);
      if (this.#head?.commit.sha === sha) {
        this.#reachable();
        return false;
      }
      const fetchStarted = this.#o.clock.now();
      const ws = await this.workspace(true);
      const commit = await ws.source.resolve(`refs/heads/${this.#o.branch}`);
      this.#o.metrics.gitFetchDuration.observe({ kind: "fetch" }, (this.#o.clock.now() - fetchStarted) / 1000);
      this.#head = { commit, seenAt: this.#o.clock.date().toISOString() };
      this.#evaluations = new Map();
      this.#refused = undefined;
      this.#reachable();
      this.#o.logger.info({ revision: commit.sha, subject: commit.subject, author: commit.author.name }, "new revision");
      await this.#o.onRevision(commit);
      return true;
    } catch (e: unknown) {
      const error = errorText(e);
      if (this.#stale === undefined) this.#o.logger.error({ err: error }, "repository unreachable: environments stay on their last revision");
      this.#stale = { since: this.#stale?.since ?? this.#o.clock.date().toISOString(), error };
      throw e;
    }
  }

  #reachable(): void {
    if (this.#stale !== undefined) this.#o.logger.info("repository reachable again");
    this.#stale = undefined;
    this.#o.metrics.lastPollSuccess.set(this.#o.clock.date().getTime() / 1000);
  }

  /** The workspace; a remote's mirror is fetched again when `fetch` is set. */
  async workspace(fetch = false): Promise<Workspace> {
    if (this.#ws !== undefined && (!fetch || isLocal(this.#o.repo))) return this.#ws;
    const next = await openWorkspace({ repo: this.#o.repo, cacheDir: this.#o.cacheDir, noCache: false, allowRemoteBases: false, runner: this.#o.runner });
    const previous = this.#ws;
    this.#ws = next;
    await previous?.close();
    return next;
  }

  /** The head revision evaluated for one environment (render, check, policies, gate), once per revision. */
  evaluate(environment: string): Promise<Evaluated> {
    const head = this.#head;
    if (head === undefined) return Promise.reject(new Error("the repository has not been read yet"));
    let e = this.#evaluations.get(environment);
    if (e === undefined) {
      e = this.#evaluateAt(head.commit.sha, environment);
      this.#evaluations.set(environment, e);
      e.catch(() => this.#evaluations.delete(environment));
    }
    return e;
  }

  async #evaluateAt(sha: string, environment: string): Promise<Evaluated> {
    const ws = await this.workspace();
    const evaluation = await evaluateRevision({
      source: ws.source, rev: sha, configPath: this.#o.configPath, filter: { environments: [environment], lenient: true },
      renderer: ws.renderer, check: ws.check, configCache: ws.configCache,
    });
    const gate = await decideGate(evaluation.findings, undefined);
    if (!gate.allowed) {
      const reasons = [...gate.blockers, ...gate.denials].slice(0, 10)
        .map((f) => `${f.location === undefined ? "" : `${f.location.file}${f.location.line === undefined ? "" : `:${f.location.line}`}: `}${f.message}`);
      this.#refused = { revision: sha, reasons };
      this.#o.logger.error({ revision: sha, environment, reasons }, "revision refused: not applied, the environment stays on its last good revision");
    }
    return { sha, evaluation, gate };
  }

  /** gitward.yaml at the head revision, read once per revision; undefined before the first read. */
  async config(): Promise<LoadedConfig | undefined> {
    const head = this.#head;
    if (head === undefined) return undefined;
    if (this.#configAt?.sha !== head.commit.sha) {
      const ws = await this.workspace();
      const snapshot = await ws.source.snapshot(head.commit);
      const text = (await snapshot.readFile(this.#o.configPath)).toString("utf8");
      this.#configAt = { sha: head.commit.sha, loaded: parseConfig(text, this.#o.configPath) };
      this.#instancesAt = new Map();
      this.#dependentsAt = new Map();
    }
    return this.#configAt.loaded;
  }

  /** The served environments among `all`. */
  served(all: readonly string[]): string[] {
    return all.filter((e) => this.#o.environments === undefined || this.#o.environments.includes(e));
  }

  /** The stack instances of the served environments (all, or one), at the head revision; computed once per revision. */
  async instances(environment?: string): Promise<readonly StackInstance[]> {
    const loaded = await this.config();
    if (loaded === undefined) return [];
    const key = environment ?? "";
    let found = this.#instancesAt.get(key);
    if (found === undefined) {
      const envs = this.served(Object.keys(loaded.config.environments)).filter((e) => environment === undefined || e === environment);
      found = stackInstances(loaded, { environments: envs, lenient: true });
      this.#instancesAt.set(key, found);
    }
    return found;
  }

  /** The stacks of an environment that depend on `stack`, at the head revision. */
  async dependents(environment: string, stack: string): Promise<readonly string[]> {
    let map = this.#dependentsAt.get(environment);
    if (map === undefined) {
      const built = new Map<string, string[]>();
      for (const i of await this.instances(environment)) for (const d of i.dependsOn) built.set(d, [...(built.get(d) ?? []), i.stack]);
      map = built;
      this.#dependentsAt.set(environment, map);
    }
    return map.get(stack) ?? [];
  }

  /** Where the agent reads from, without credentials. */
  get location(): string {
    return maskUserinfo(this.#o.repo);
  }

  async close(): Promise<void> {
    await this.#ws?.close();
  }
}

function isLocal(repo: string): boolean {
  return !/^[a-z+]+:\/\//i.test(repo) && !/^[^/]+@[^:]+:/.test(repo);
}
