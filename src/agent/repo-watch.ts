import { access } from "node:fs/promises";
import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { ErrorCode, GitwardError, isGitwardError } from "../core/errors.ts";
import type { CommandRunner } from "../core/command-runner.ts";
import { parseConfig, type LoadedConfig } from "../config/load-config.ts";
import { stackInstances, type StackInstance } from "../config/stack-instances.ts";
import { evaluateRevision, type RevisionEvaluation } from "../engine/evaluate-revision.ts";
import { decideGate, type GateOutcome } from "../engine/gate.ts";
import { openWorkspace, type Workspace } from "../engine/workspace.ts";
import type { RenderLimits } from "../render/render-limits.ts";
import { maskUserinfo } from "../source/source-location.ts";
import type { Commit, SignatureVerification } from "../source/types.ts";
import type { AgentMetrics } from "./metrics.ts";
import { errorText } from "./scheduler.ts";

/** The head revision evaluated for one environment: rendered, checked, gated. */
export interface Evaluated {
  readonly sha: string;
  readonly evaluation: RevisionEvaluation;
  readonly gate: GateOutcome;
}

/** How the agent verifies the head: the keys it trusts, and the environments that must have a trusted signature. */
export interface HeadVerification {
  readonly keys: SignatureVerification;
  /** Environments whose head must be signed by a trusted key; `*` for all. The agent's requirement, whatever gitward.yaml says. */
  readonly required: readonly string[];
}

/**
 * The head revision is refused for an environment: its gitward.yaml is invalid, its signature
 * is missing or untrusted where one is required, or it exceeds a limit. It stays refused until
 * the branch moves: recorded once per stack, not retried.
 */
export class RevisionRefused extends Error {
  readonly revision: string;
  readonly environment: string;
  constructor(revision: string, environment: string, reason: string) {
    super(reason);
    this.name = "RevisionRefused";
    this.revision = revision;
    this.environment = environment;
  }
}

/** What a {@link RepoWatch} watches and with what. */
export interface RepoWatchOptions {
  readonly repo: string;
  readonly branch: string;
  readonly configPath: string;
  /** Environments served; undefined serves every environment of gitward.yaml. */
  readonly environments?: readonly string[];
  readonly cacheDir: string;
  readonly renderLimits?: Partial<RenderLimits>;
  readonly runner: CommandRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  /** Called once per new head revision, before any of its syncs. */
  readonly onRevision: (commit: Commit) => Promise<void>;
  /** Reads the branch head without fetching (`git ls-remote`). */
  readonly remoteHead: (repo: string, branch: string) => Promise<string>;
  /** Verify head commits' signatures; undefined verifies none (gitward.yaml may then require what cannot be given). */
  readonly verification?: HeadVerification;
  /** Called when reasons are added to the head's refusal (`environment` undefined: every environment), for the event stream. */
  readonly onRefused?: (revision: string, environment: string | undefined, reasons: readonly string[]) => void;
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
  /** The head's refusal reasons by environment ("" for every environment). */
  #refusedBy = new Map<string, string[]>();
  #evaluations = new Map<string, Promise<Evaluated>>();
  #fetching: Promise<boolean> | undefined;
  #configAt: { sha: string; loaded: LoadedConfig | undefined } | undefined;
  /** The newest gitward.yaml that loaded: stacks are still listed (and refused) when the head's is broken. */
  #lastGoodConfig: LoadedConfig | undefined;
  /** gitward.yaml at earlier revisions (the last synced ones), a few kept. */
  readonly #configsBySha = new Map<string, Promise<LoadedConfig | undefined>>();
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

  /** The newest gitward.yaml that loaded (the head's, or an earlier one while the head's is broken). */
  get lastConfig(): LoadedConfig | undefined {
    return this.#lastGoodConfig;
  }

  /** Why the head revision is refused for one environment (its own reasons and those for all); undefined when it is not. */
  refusedFor(environment: string): readonly string[] | undefined {
    const reasons = [...(this.#refusedBy.get("") ?? []), ...(this.#refusedBy.get(environment) ?? [])];
    return reasons.length === 0 ? undefined : reasons;
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
      this.#refusedBy = new Map();
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
    const next = await openWorkspace({
      repo: this.#o.repo, cacheDir: this.#o.cacheDir, noCache: false, allowRemoteBases: false, runner: this.#o.runner,
      ...(this.#o.renderLimits === undefined ? {} : { renderLimits: this.#o.renderLimits }),
    });
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
      // A refusal holds for the revision; anything else (the repository unreadable) is tried again.
      e.catch((err: unknown) => {
        if (!(err instanceof RevisionRefused)) this.#evaluations.delete(environment);
      });
    }
    return e;
  }

  async #evaluateAt(sha: string, environment: string): Promise<Evaluated> {
    const ws = await this.workspace();
    const v = this.#o.verification;
    const required = v !== undefined && (v.required.includes("*") || v.required.includes(environment));
    if (v !== undefined) await readableKeys(v.keys);
    let evaluation;
    try {
      evaluation = await evaluateRevision({
        source: ws.source, rev: sha, configPath: this.#o.configPath, filter: { environments: [environment], lenient: true },
        renderer: ws.renderer, check: ws.check, configCache: ws.configCache,
        ...(v === undefined ? {} : { verification: v.keys, verificationRequired: required }),
      });
    } catch (e: unknown) {
      if (!isRevisionFault(e)) throw e;
      // A signature is refused per environment; an invalid gitward.yaml is the same for all.
      const why = required ? ` (the agent configuration requires signed commits for ${environment})` : "";
      const reason = e.code === ErrorCode.Signature ? `${environment}: ${errorText(e)}${why}` : errorText(e);
      this.#refuse(sha, environment, [reason]);
      throw new RevisionRefused(sha, environment, reason);
    }
    const gate = await decideGate(evaluation.findings, undefined);
    if (!gate.allowed) {
      const reasons = [...gate.blockers, ...gate.denials].slice(0, 10)
        .map((f) => `${f.location === undefined ? "" : `${f.location.file}${f.location.line === undefined ? "" : `:${f.location.line}`}: `}${f.message}`);
      this.#refuse(sha, environment, reasons);
    }
    return { sha, evaluation, gate };
  }

  /** Adds why the revision is refused (for one environment, or all) to what status shows, and logs it once. */
  #refuse(sha: string, environment: string | undefined, reasons: readonly string[]): void {
    const key = environment ?? "";
    const mine = this.#refusedBy.get(key) ?? [];
    const fresh = reasons.filter((r) => !mine.includes(r));
    if (fresh.length > 0) {
      this.#refusedBy.set(key, [...mine, ...fresh]);
      this.#o.onRefused?.(sha, environment, fresh);
    }
    const known = this.#refused?.revision === sha ? this.#refused.reasons : [];
    const added = reasons.filter((r) => !known.includes(r));
    if (added.length === 0) return;
    this.#refused = { revision: sha, reasons: [...known, ...added] };
    this.#o.logger.error({ revision: sha, ...(environment === undefined ? {} : { environment }), reasons: added }, "revision refused: not applied, the environment stays on its last good revision");
  }

  /**
   * gitward.yaml at the head revision, read once per revision; undefined before the first read.
   * When the head's is invalid (or missing), the revision is refused with its error (file:line)
   * and the last one that loaded stands in, so the stacks are still listed and recorded refused:
   * the one seen before in this process, else the newest of the head's first parents.
   */
  async config(): Promise<LoadedConfig | undefined> {
    const head = this.#head;
    if (head === undefined) return undefined;
    if (this.#configAt?.sha !== head.commit.sha) {
      let loaded: LoadedConfig | undefined;
      try {
        loaded = await this.#configOf(head.commit);
        this.#lastGoodConfig = loaded;
      } catch (e: unknown) {
        if (!isRevisionFault(e)) throw e;
        this.#refuse(head.commit.sha, undefined, [errorText(e)]);
        loaded = this.#lastGoodConfig ?? await this.#earlierConfig(head.commit);
      }
      this.#configAt = { sha: head.commit.sha, loaded };
      this.#instancesAt = new Map();
      this.#dependentsAt = new Map();
    }
    return this.#configAt.loaded;
  }

  async #configOf(commit: Commit): Promise<LoadedConfig> {
    const ws = await this.workspace();
    const snapshot = await ws.source.snapshot(commit);
    if (snapshot.entry(this.#o.configPath)?.type !== "blob") {
      throw new GitwardError(ErrorCode.Config, `${this.#o.configPath} not found at ${commit.sha.slice(0, 12)}`);
    }
    return parseConfig(await snapshot.readFile(this.#o.configPath), this.#o.configPath);
  }

  /** gitward.yaml at a given revision (the last synced one, for the approval gate); undefined when it does not load there. */
  async configAt(sha: string): Promise<LoadedConfig | undefined> {
    if (this.#configAt?.sha === sha) return this.#configAt.loaded;
    let found = this.#configsBySha.get(sha);
    if (found === undefined) {
      const ws = await this.workspace();
      found = this.#configOf(await ws.source.resolve(sha)).catch((e: unknown) => {
        if (isRevisionFault(e)) return undefined;
        this.#configsBySha.delete(sha);
        throw e;
      });
      if (this.#configsBySha.size >= 16) this.#configsBySha.delete(this.#configsBySha.keys().next().value ?? "");
      this.#configsBySha.set(sha, found);
    }
    return found;
  }

  /** The gitward.yaml of the newest of the first 20 parents where it loads; undefined when none does. */
  async #earlierConfig(head: Commit): Promise<LoadedConfig | undefined> {
    const ws = await this.workspace();
    for (let n = 1; n <= 20; n++) {
      let commit: Commit;
      try {
        commit = await ws.source.resolve(`${head.sha}~${n}`);
      } catch {
        return undefined; // the first commit was reached
      }
      try {
        return await this.#configOf(commit);
      } catch (e: unknown) {
        if (!isRevisionFault(e)) throw e;
      }
    }
    return undefined;
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

/**
 * An error that is the revision's own and holds for it: invalid gitward.yaml or policies, a
 * missing or untrusted signature, a limit exceeded. Anything else (git, I/O) is tried again.
 */
function isRevisionFault(e: unknown): e is GitwardError {
  return isGitwardError(e) && ([ErrorCode.Config, ErrorCode.Signature, ErrorCode.Limit, ErrorCode.Variable, ErrorCode.Render] as string[]).includes(e.code);
}

/** The trusted keys must be readable: a file gone is the machine's problem, retried, not a refusal of the revision. */
async function readableKeys(keys: SignatureVerification): Promise<void> {
  const file = keys.format === "ssh" ? keys.allowedSignersFile : keys.keyringFile;
  try {
    await access(file);
  } catch (e: unknown) {
    throw new Error(`the trusted keys file ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function isLocal(repo: string): boolean {
  return !/^[a-z+]+:\/\//i.test(repo) && !/^[^/]+@[^:]+:/.test(repo);
}
