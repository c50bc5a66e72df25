import type { Logger } from "pino";
import { parseConfig, type LoadedConfig } from "../config/load-config.ts";
import type { PreviewsSpec } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import type { CommandRunner } from "../core/command-runner.ts";
import { actionSummary } from "../engine/change-set.ts";
import { evaluatePreview } from "../engine/preview-evaluate.ts";
import { previewNumberOf } from "../config/preview-template.ts";
import { reconcileStack } from "../engine/reconcile-stack.ts";
import type { Recorder } from "../engine/recorder.ts";
import { dependencyOrder, revisionInfo } from "../engine/sync-environment.ts";
import { TargetPool } from "../engine/target-pool.ts";
import type { Workspace } from "../engine/workspace.ts";
import type { Forge, PullRequest } from "../forge/forge.ts";
import type { Provider } from "../providers/provider.ts";
import { fetchPullHead } from "../source/pull-ref.ts";
import type { SignatureVerification } from "../source/types.ts";
import type { Store, SyncTrigger, TriggerKind } from "../store/store.ts";
import type { AgentConfig } from "./config.ts";
import type { PullRequestEvent } from "./pr-events.ts";
import { deployedComment, destroyedComment, previewMarker, type PreviewStackState } from "./previews-comment.ts";
import { preparePreviewRoots, previewTargetContext } from "./previews-context.ts";
import { destroyPreviewStack, type PreviewStackTarget } from "./previews-destroy.ts";
import { errorText } from "./scheduler.ts";

/** What a {@link PreviewManager} works with; the agent passes its own. */
export interface PreviewManagerOptions {
  readonly forge: Forge;
  /** The repository the agent follows (a URL mirrored under cacheDir, or a local path). */
  readonly repo: string;
  readonly cacheDir: string;
  readonly runner: CommandRunner;
  /** The agent's workspace (RepoWatch.workspace()): source, renderer and checks. */
  readonly workspace: () => Promise<Workspace>;
  readonly configPath: string;
  /** The branch the agent follows: only pull requests into it get previews, and its gitward.yaml says which. */
  readonly branch: string;
  readonly providers: Readonly<Record<string, Provider>>;
  /** The agent configuration's credentials; previews use only the `previews/<target>` entries. */
  readonly targets: AgentConfig["targets"];
  readonly store: Store;
  readonly recorder: Recorder;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly verification?: SignatureVerification;
}

/** A preview as `list()` reports it. */
export interface PreviewStatus {
  readonly number: number;
  readonly environment: string;
  readonly sha: string;
  readonly url: string | undefined;
  readonly state: "deployed" | "failed" | "destroy-failed";
  /** ISO 8601: when its current head was first deployed (what the TTL counts from). */
  readonly lastPushAt: string;
  readonly stacks: readonly PreviewStackState[];
  readonly error?: string;
}

interface Tracked extends PreviewStatus {
  readonly targets: readonly PreviewStackTarget[];
}

const destroyedDetail = "preview destroyed";
const expiredReason = "its time to live passed";

/**
 * Preview environments: one per open pull request into the agent's branch (those carrying one
 * of `previews.labels`, when set), deployed from its head as the environment gitward.yaml's
 * `previews` derives from a template, through the engine's reconcile like any environment
 * (policies included), with the `previews/<target>` credentials only. Each pull request gets one
 * comment, updated on every push and when the preview is destroyed (closed, merged, out of
 * scope, or its TTL passed). `handle` acts on webhooks; `sweep`, run at every poll, is the
 * safety net for lost webhooks and restarts. Work on one pull request is never concurrent.
 */
export class PreviewManager {
  readonly #o: PreviewManagerOptions;
  readonly #pool: TargetPool;
  readonly #previews = new Map<number, Tracked>();
  /** Heads whose preview was destroyed by its TTL: not deployed again until the next push. */
  readonly #expired = new Map<number, string>();
  readonly #locks = new Map<number, Promise<unknown>>();
  #recovered: Promise<void> | undefined;

  constructor(opts: PreviewManagerOptions) {
    this.#o = opts;
    this.#pool = new TargetPool({ providers: opts.providers, context: (t) => previewTargetContext(t, opts.targets), reopenFailed: true });
  }

  /** The previews known now. */
  list(): PreviewStatus[] {
    return [...this.#previews.values()].map(({ targets: _targets, ...status }) => status).sort((a, b) => a.number - b.number);
  }

  /** Acts on a pull-request webhook: deploys or updates its preview, or destroys it. */
  async handle(event: PullRequestEvent): Promise<void> {
    await this.#recover();
    const deploying = ["opened", "synchronized", "reopened", "labeled", "unlabeled", "edited"].includes(event.action);
    if (event.action === "closed" || event.action === "merged") {
      await this.#locked(event.number, () => this.#destroy(event.number, `pull request ${event.action}`, "webhook"));
      return;
    }
    if (!deploying) return;
    const spec = await this.#spec();
    const pr = await this.#o.forge.pullRequest(event.number);
    await this.#locked(pr.number, async () => {
      if (spec === undefined || !this.#inScope(pr, spec)) return this.#destroy(pr.number, spec === undefined ? "previews are off" : "out of scope (labels)", "webhook");
      if (this.#previews.get(pr.number)?.sha === pr.headSha && event.action !== "synchronized" && event.action !== "reopened") return;
      return this.#deploy(pr, spec, "webhook", event.sender);
    });
  }

  /**
   * Every poll: the forge's open pull requests in scope get a preview at their head (the
   * missing and the changed ones), and previews whose pull request closed, left scope or
   * outlived the TTL are destroyed.
   */
  async sweep(): Promise<void> {
    await this.#recover();
    const spec = await this.#spec();
    const open = spec === undefined ? [] : (await this.#o.forge.openPullRequests()).filter((p) => this.#inScope(p, spec));
    const now = this.#o.clock.date().getTime();
    const ttlMs = spec?.ttl === undefined ? undefined : (await import("../core/duration.ts")).parseDuration(spec.ttl);
    for (const pr of open) {
      await this.#locked(pr.number, async () => {
        const known = this.#previews.get(pr.number);
        if (this.#expired.get(pr.number) === pr.headSha) return;
        if (known !== undefined && known.sha === pr.headSha) {
          if (ttlMs !== undefined && now - Date.parse(known.lastPushAt) >= ttlMs) {
            await this.#destroy(pr.number, expiredReason, "poll");
            this.#expired.set(pr.number, pr.headSha);
          }
          return;
        }
        if (spec !== undefined) await this.#deploy(pr, spec, known === undefined ? "startup" : "poll");
      });
    }
    const wanted = new Set(open.map((p) => p.number));
    for (const n of [...this.#previews.keys()]) {
      if (!wanted.has(n)) await this.#locked(n, () => this.#destroy(n, "pull request closed or out of scope", "poll"));
    }
  }

  /** Closes the previews' target sessions. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  #inScope(pr: PullRequest, spec: PreviewsSpec): boolean {
    if (pr.state !== "open" || pr.baseBranch !== this.#o.branch) return false;
    return spec.labels === undefined || spec.labels.some((l) => pr.labels.includes(l));
  }

  /** `previews` of gitward.yaml on the agent's branch: the head of a pull request cannot widen its own scope. */
  async #spec(): Promise<PreviewsSpec | undefined> {
    return (await this.#baseConfig())?.config.previews;
  }

  async #baseConfig(): Promise<LoadedConfig | undefined> {
    const ws = await this.#o.workspace();
    const commit = await ws.source.resolve(`refs/heads/${this.#o.branch}`);
    const snapshot = await ws.source.snapshot(commit);
    if (snapshot.entry(this.#o.configPath)?.type !== "blob") return undefined;
    try {
      return parseConfig(await snapshot.readFile(this.#o.configPath), this.#o.configPath);
    } catch (e: unknown) {
      this.#o.logger.warn({ err: errorText(e) }, "previews: gitward.yaml on the branch does not load; previews are left as they are");
      throw e;
    }
  }

  async #locked<T>(n: number, fn: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(n) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(fn);
    this.#locks.set(n, run);
    try {
      return await run;
    } finally {
      if (this.#locks.get(n) === run) this.#locks.delete(n);
    }
  }

  /** Fetches, evaluates and syncs a pull request's head as its preview, then says so on the pull request. */
  async #deploy(pr: PullRequest, spec: PreviewsSpec, kind: TriggerKind, by?: string): Promise<void> {
    const previous = this.#previews.get(pr.number);
    const trigger: SyncTrigger = { kind, detail: `preview of ${this.#o.forge.ref(pr.number)} at ${pr.headSha.slice(0, 12)}`, ...(by === undefined ? {} : { by }) };
    const lastPushAt = previous?.sha === pr.headSha ? previous.lastPushAt : this.#o.clock.date().toISOString();
    this.#expired.delete(pr.number);
    let tracked: Tracked;
    try {
      const sha = await fetchPullHead({
        repo: this.#o.repo, cacheDir: this.#o.cacheDir, runner: this.#o.runner, style: this.#o.forge.kind, number: pr.number, expectedSha: pr.headSha,
      });
      const ws = await this.#o.workspace();
      const ev = await evaluatePreview({
        source: ws.source, pr: { number: pr.number, branch: pr.headBranch, sha }, configPath: this.#o.configPath, renderer: ws.renderer, check: ws.check,
        ...(this.#o.verification === undefined ? {} : { verification: this.#o.verification }),
      });
      const { preview } = ev;
      const targets = ev.instances.map((i) => ({ stack: i.stack, target: { environment: i.environment, targetName: i.targetName, target: i.target } }));
      // Stacks the new head no longer previews (or a renamed preview) are removed first.
      const gone = (previous?.targets ?? []).filter((t) => t.target.environment !== preview.name || !targets.some((n) => n.stack === t.stack));
      for (const t of gone) await destroyPreviewStack(t, this.#destroyOptions(previous?.sha ?? sha, { kind, detail: `${destroyedDetail}: stack no longer previewed` }));
      await preparePreviewRoots(targets.map((t) => t.target), this.#o.targets);
      const done = new Map<string, string>();
      const stacks: PreviewStackState[] = [];
      for (const instance of dependencyOrder(ev.instances)) {
        const outcome = await reconcileStack({
          instance, render: ev.renders.find((r) => r.instance.stack === instance.stack), revision: revisionInfo(ev.commit), trigger, gate: ev.gate,
          policy: preview.loaded.config.environments[preview.name]?.sync ?? { auto: true, prune: true, selfHeal: false },
          apply: { dryRun: false, forceConflicts: false, waitMs: undefined },
          pool: this.#pool, recorder: this.#o.recorder, clock: this.#o.clock, job: "sync", explicit: true,
          dependencies: instance.dependsOn.filter((d) => done.has(d)).map((d) => ({ stack: d, state: done.get(d) === "succeeded" ? "ready" : "failed" })),
        });
        done.set(instance.stack, outcome.result);
        stacks.push({
          stack: instance.stack, target: instance.targetName, result: outcome.result,
          ...(outcome.sync === undefined ? {} : { summary: actionSummary(outcome.sync.entries) }), ...(outcome.error === undefined ? {} : { error: outcome.error }),
        });
      }
      const failed = stacks.some((s) => s.result !== "succeeded");
      tracked = { number: pr.number, environment: preview.name, sha, url: preview.url, state: failed ? "failed" : "deployed", lastPushAt, stacks, targets };
      this.#o.logger.info({ pr: pr.number, environment: preview.name, revision: sha, stacks: stacks.map((s) => `${s.stack}:${s.result}`) }, "preview deployed");
    } catch (e: unknown) {
      const error = errorText(e);
      this.#o.logger.error({ pr: pr.number, err: error }, "preview not deployed");
      tracked = {
        number: pr.number, environment: previous?.environment ?? `#${pr.number}`, sha: pr.headSha, url: previous?.url, state: "failed",
        lastPushAt, stacks: [], targets: previous?.targets ?? [], error,
      };
    }
    this.#previews.set(pr.number, tracked);
    await this.#comment(pr.number, deployedComment({
      environment: tracked.environment, sha: tracked.sha, url: tracked.url, stacks: tracked.stacks,
      ...(tracked.error === undefined ? {} : { error: tracked.error }), ...(spec.ttl === undefined ? {} : { ttl: spec.ttl }),
    }));
  }

  /** Removes everything a preview owns, deletes its inventories, records it and says so on the pull request. */
  async #destroy(n: number, reason: string, kind: TriggerKind): Promise<void> {
    const tracked = this.#previews.get(n);
    if (tracked === undefined) return;
    const removals = [];
    for (const t of tracked.targets) removals.push(await destroyPreviewStack(t, this.#destroyOptions(tracked.sha, { kind, detail: `${destroyedDetail}: ${reason}` })));
    const failed = removals.filter((r) => r.error !== undefined);
    const removed = removals.reduce((sum, r) => sum + r.entries.filter((e) => e.action === "deleted").length, 0);
    await this.#o.recorder.audit({
      kind: "preview-destroyed", actor: "agent", environment: tracked.environment, revision: tracked.sha,
      details: { pullRequest: n, reason, removed, failed: failed.map((f) => `${f.stack}: ${f.error ?? ""}`) },
    });
    if (failed.length > 0) {
      // Kept, so the next sweep tries again; the inventories still say what is left.
      this.#previews.set(n, { ...tracked, state: "destroy-failed", error: failed.map((f) => `${f.stack}: ${f.error ?? ""}`).join("; ") });
      this.#o.logger.error({ pr: n, environment: tracked.environment, failed: failed.map((f) => f.stack) }, "preview not fully destroyed: tried again at the next poll");
      return;
    }
    this.#previews.delete(n);
    this.#o.logger.info({ pr: n, environment: tracked.environment, reason, removed }, "preview destroyed");
    await this.#comment(n, destroyedComment(tracked.environment, tracked.sha, reason, removed));
  }

  #destroyOptions(sha: string, trigger: SyncTrigger): Parameters<typeof destroyPreviewStack>[1] {
    return { pool: this.#pool, recorder: this.#o.recorder, clock: this.#o.clock, targets: this.#o.targets, sha, trigger };
  }

  async #comment(n: number, body: string): Promise<void> {
    try {
      await this.#o.forge.upsertComment(n, previewMarker, body);
    } catch (e: unknown) {
      this.#o.logger.warn({ pr: n, err: errorText(e) }, "preview comment not written");
    }
  }

  /** Once per process: the previews history shows deployed and not destroyed are tracked again. */
  #recover(): Promise<void> {
    this.#recovered ??= this.#findPrevious().catch((e: unknown) => {
      this.#recovered = undefined;
      this.#o.logger.warn({ err: errorText(e) }, "previews: earlier previews not read from history; tried again");
    });
    return this.#recovered;
  }

  async #findPrevious(): Promise<void> {
    const loaded = await this.#baseConfig();
    const template = loaded?.config.previews?.name;
    if (loaded === undefined || template === undefined) return;
    const newest = new Map<string, { number: number; sha: string; at: string; destroyed: boolean; expired: boolean; stacks: Set<string> }>();
    for (const row of await this.#o.store.listSyncs({ limit: 1000 })) {
      const n = previewNumberOf(template, row.environment);
      if (n === undefined) continue;
      const seen = newest.get(row.environment) ?? { number: n, sha: row.revision.sha, at: row.startedAt, destroyed: row.trigger.detail?.startsWith(destroyedDetail) === true, expired: row.trigger.detail?.endsWith(expiredReason) === true, stacks: new Set<string>() };
      if (row.revision.sha === seen.sha) seen.stacks.add(row.stack);
      newest.set(row.environment, seen);
    }
    for (const [environment, seen] of newest) {
      if (this.#previews.has(seen.number)) continue;
      if (seen.destroyed) {
        if (seen.expired) this.#expired.set(seen.number, seen.sha);
        continue;
      }
      // The targets are gitward.yaml's on the branch: the preview's own head may be gone from the forge.
      const targets = [...seen.stacks].flatMap((stack) => {
        const spec = loaded.config.stacks[stack];
        const target = spec === undefined ? undefined : loaded.config.environments[loaded.config.previews?.from ?? ""]?.targets[spec.target];
        return spec === undefined || target === undefined ? [] : [{ stack, target: { environment, targetName: spec.target, target } }];
      });
      this.#previews.set(seen.number, { number: seen.number, environment, sha: seen.sha, url: undefined, state: "deployed", lastPushAt: seen.at, stacks: [], targets });
    }
  }
}
