import type { Clock } from "../core/clock.ts";
import { refKey, type ObjRef } from "../core/objref.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import { reconcileStack } from "../engine/reconcile-stack.ts";
import { noopRecorder } from "../engine/recorder.ts";
import { revisionInfo } from "../engine/sync-environment.ts";
import type { TargetPool } from "../engine/target-pool.ts";
import type { Drift, Health } from "../providers/provider.ts";
import type { SyncHealth } from "../store/store.ts";
import { RevisionRefused, type RepoWatch } from "./repo-watch.ts";

/** An object as the API names it: its provider with its reference. */
export type ApiRef = ObjRef & { readonly provider: string };

/** One object of a stack and its health now (the contract's `ObjectHealth`). */
export interface ObjectHealth {
  readonly ref: ApiRef;
  readonly apiVersion: string;
  readonly health: Health;
  readonly message?: string;
}

/** One object of a live diff: what a sync would do to it, masked as every diff is. */
export interface StackDiffEntry {
  readonly ref: ApiRef;
  readonly apiVersion: string;
  readonly action: "create" | "update" | "no-op" | "delete";
  readonly diff?: string;
  readonly drift?: readonly Drift[];
}

/** A stack's live diff at the head revision. */
export interface StackDiff {
  readonly revision: string;
  readonly entries: readonly StackDiffEntry[];
}

/** The stack cannot be compared at the head revision: it does not render, or the revision is refused. */
export class StackNotComparable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackNotComparable";
  }
}

/** How long a read of a stack's health may take before the objects are answered `unknown`. */
const healthReadMs = 5000;

/**
 * The objects the target's inventory holds for the stack, with their health read now in one
 * call, as the health watch reads it. A transactional target (host) runs a command to read
 * health, which a read request must not start: its objects take the health its last sync
 * recorded.
 */
export async function stackObjects(pool: TargetPool, instance: StackInstance, recorded: SyncHealth | undefined): Promise<ObjectHealth[]> {
  const provider = instance.target.provider;
  return pool.use(instance, async (session) => {
    const inventory = await session.readInventory({ environment: instance.environment, stack: instance.stack }, AbortSignal.timeout(healthReadMs));
    const entries = inventory?.entries ?? [];
    if (entries.length === 0) return [];
    const apiVersions = new Map(entries.map((e) => [refKey(e.ref), e.apiVersion]));
    if (session.transact !== undefined) {
      const health: Health = recorded?.state === "healthy" ? "healthy" : recorded?.state === "degraded" ? "degraded" : recorded?.state === "progressing" ? "progressing" : "unknown";
      const message = health === "healthy" || recorded?.message === undefined ? {} : { message: recorded.message };
      return entries.map((e) => ({ ref: { provider, ...e.ref }, apiVersion: e.apiVersion, health, ...message }));
    }
    let report;
    try {
      report = await session.wait(entries.map((e) => e.ref), { timeoutMs: 0, signal: AbortSignal.timeout(healthReadMs) });
    } catch (e: unknown) {
      const message = `health not read: ${e instanceof Error ? e.message : String(e)}`;
      return entries.map((x) => ({ ref: { provider, ...x.ref }, apiVersion: x.apiVersion, health: "unknown" as const, message }));
    }
    return report.entries.map((e) => ({
      ref: { provider, ...e.ref }, apiVersion: apiVersions.get(refKey(e.ref)) ?? "", health: e.health,
      ...(e.message === undefined ? {} : { message: e.message }),
    }));
  });
}

/**
 * The live diff of one stack: the head revision as the agent evaluated it, compared with the
 * target through the same reconcile as `gitward diff` (job `diff`, nothing written, nothing
 * recorded). Undefined when the stack is not served at the head.
 */
export async function diffStack(watch: RepoWatch, pool: TargetPool, clock: Clock, environment: string, stack: string): Promise<StackDiff | undefined> {
  const ev = await watch.evaluate(environment).catch((e: unknown) => {
    throw e instanceof RevisionRefused ? new StackNotComparable(e.message) : e;
  });
  const instance = ev.evaluation.instances.find((i) => i.stack === stack);
  if (instance === undefined) return undefined;
  const sync = ev.evaluation.config?.config.environments[environment]?.sync;
  const head = watch.head?.commit;
  const outcome = await reconcileStack({
    instance, render: ev.evaluation.renders.find((r) => r.instance.stack === stack),
    revision: head?.sha === ev.sha ? revisionInfo(head) : { sha: ev.sha, author: "", message: "" },
    trigger: { kind: "manual", detail: "live diff" }, gate: { allowed: true, blockers: [], denials: [], overridden: false },
    job: "diff", explicit: true, dependencies: [], policy: { auto: false, selfHeal: false, prune: sync?.prune ?? true },
    apply: { dryRun: true, forceConflicts: false, waitMs: undefined }, pool, recorder: noopRecorder(), clock,
    signal: AbortSignal.timeout(60_000),
  });
  if (outcome.result === "refused") throw new StackNotComparable(outcome.error ?? "the stack does not render at the head revision");
  const provider = instance.target.provider;
  return {
    revision: ev.sha,
    entries: (outcome.compared ?? []).map((e) => ({
      ref: { provider, ...e.ref }, apiVersion: e.apiVersion, action: e.action,
      ...(e.diff === undefined ? {} : { diff: e.diff }), ...(e.drift === undefined ? {} : { drift: e.drift }),
    })),
  };
}
