import type { StackInstance } from "../config/stack-instances.ts";
import { isoNow, type Clock } from "../core/clock.ts";
import { GitwardError } from "../core/errors.ts";
import { formatRef, refKey } from "../core/objref.ts";
import type { DiffEntry } from "../providers/provider.ts";
import type { FinishedOutcome, RevisionInfo, SyncTrigger } from "../store/store.ts";
import { actionSummary } from "./change-set.ts";
import { decide, type DecideInput, type Decision } from "./decide.ts";
import { decideGate, type GateOutcome, type GateOverride } from "./gate.ts";
import { stackHealth } from "./health-state.ts";
import { planReviewer } from "./policy-stage.ts";
import { driftEvents } from "./record-drift.ts";
import type { Recorder } from "./recorder.ts";
import type { SyncRender } from "./outputs.ts";
import { labelledObjects, syncStack, type StackSyncResult } from "./sync-stack.ts";
import { plaintextsOf } from "./decrypt-stage.ts";
import { maskSecretsInText } from "../core/mask-secrets.ts";
import type { TargetPool } from "./target-pool.ts";
import type { Fence } from "../store/fence.ts";

/** The environment's sync policy as it applies to this reconcile. */
export interface SyncPolicy {
  readonly auto: boolean;
  readonly prune: boolean;
  readonly selfHeal: boolean;
}

/** How objects are applied when a reconcile syncs. */
export interface ApplySettings {
  readonly dryRun: boolean;
  /** Take over fields other appliers own (`--force-conflicts`; the stack's forceConflicts adds to it). */
  readonly forceConflicts: boolean;
  /** Wait for health this long after applying; undefined does not wait. */
  readonly waitMs: number | undefined;
  readonly override?: GateOverride;
  readonly onProgress?: (done: number, total: number) => void;
}

/** One reconcile of one stack at one revision. */
export interface ReconcileInput extends Pick<DecideInput, "job" | "explicit" | "dependencies" | "approval"> {
  readonly instance: StackInstance;
  /** The stack's render at the revision (with the current outputs of its dependencies, and their check, when it reads them). */
  readonly render: SyncRender | undefined;
  readonly revision: RevisionInfo;
  readonly trigger: SyncTrigger;
  readonly gate: GateOutcome;
  readonly policy: SyncPolicy;
  readonly apply: ApplySettings;
  readonly pool: TargetPool;
  readonly recorder: Recorder;
  readonly clock: Clock;
  /** True once the process is stopping: drift is reported, not healed. */
  readonly stopping?: () => boolean;
  readonly signal?: AbortSignal;
  /**
   * The stack's lease, when several agents share the work: checked before every write to the
   * target, and every history write is made under it; a lost lease ends the sync unrecorded.
   */
  readonly fence?: Fence;
}

/** How a reconcile ended, one word for logs, metrics and callers. */
export type ReconcileResult = FinishedOutcome | "refused" | "held" | "waiting" | "in-sync" | "drift-reported" | "shown" | "idle";

/** What a reconcile did: its decision, the sync or comparison it ran, and how it ended. */
export interface ReconcileOutcome {
  /** The decision carried out (after a drift check, the one taken on what it found). */
  readonly decision: Decision;
  readonly result: ReconcileResult;
  /** The sync, when one ran (heal included). */
  readonly sync?: StackSyncResult;
  /** Live state against the revision, when compared (drift check, `gitward diff`). */
  readonly compared?: readonly DiffEntry[];
  /** Objects differing from Git at the drift check. */
  readonly drifted?: number;
  /** ISO 8601, when a drift check ran. */
  readonly checkedAt?: string;
  /** The drift was recorded as new (not the same drift, left in place, as last time). */
  readonly driftRecorded?: boolean;
  /** The history row written for it, when one was. */
  readonly syncId?: string;
  /** How long the sync took, when one ran. */
  readonly durationMs?: number;
  readonly error?: string;
}

/**
 * The lifecycle of one stack, the same for `gitward apply`, `gitward diff` and the agent:
 * decide (Gate, sync policy, dependencies), then sync or compare, then record. A drift check
 * decides again on what it found, healing or reporting.
 */
export async function reconcileStack(given: ReconcileInput): Promise<ReconcileOutcome> {
  const final = await finalGate(given);
  const recorder = given.fence === undefined ? given.recorder : given.recorder.fenced?.(given.fence) ?? given.recorder;
  const input = { ...given, recorder, ...(final === undefined ? {} : { gate: final.gate }) };
  const { last, good } = await input.recorder.recorded(input.instance.environment, input.instance.stack);
  const facts: DecideInput = {
    job: input.job, explicit: input.explicit, revision: input.revision.sha,
    rendered: input.render?.ok === true, gateAllowed: input.gate.allowed,
    auto: input.policy.auto, selfHeal: input.policy.selfHeal,
    last: last === undefined ? undefined : { revision: last.revision.sha, outcome: last.outcome },
    good: good === undefined ? undefined : { revision: good.revision.sha, outcome: good.outcome },
    dependencies: input.dependencies, stopping: input.stopping?.() ?? false,
    ...(input.approval === undefined ? {} : { approval: input.approval }),
  };
  const decision = decide(facts);
  switch (decision.kind) {
    case "refuse": {
      const error = refusal(input, final?.gate.allowed === false);
      const syncId = decision.record && !input.apply.dryRun ? await recordNotRun(input, "failed", error) : undefined;
      return { decision, result: "refused", error, ...(syncId === undefined ? {} : { syncId }) };
    }
    case "skip": {
      const error = `not synced: dependency ${decision.dependency} failed at this revision`;
      const syncId = decision.record && !input.apply.dryRun ? await recordNotRun(input, "skipped", error) : undefined;
      return { decision, result: "skipped", error, ...(syncId === undefined ? {} : { syncId }) };
    }
    case "hold": {
      const syncId = decision.record && !input.apply.dryRun ? await recordNotRun(input, "skipped", `held by the approval gate: ${decision.reason}`) : undefined;
      return { decision, result: "held", error: decision.reason, ...(syncId === undefined ? {} : { syncId }) };
    }
    case "wait":
      return { decision, result: "waiting" };
    case "none":
      return { decision, result: "idle" };
    case "show":
      return { decision, result: "shown", compared: await compare(input) };
    case "check-drift":
      return checkDrift(input, facts);
    case "sync":
    case "heal":
    case "report":
      return { decision, ...(await sync(input, syncTrigger(input, facts))) };
  }
}

/** What started a sync: the trigger, except that a drift check finding the stack behind the revision names that. */
function syncTrigger(input: ReconcileInput, facts: DecideInput): SyncTrigger {
  if (input.job !== "drift") return input.trigger;
  return { kind: facts.good === undefined ? "startup" : "poll", detail: "behind the revision at a drift check" };
}

/** Compares, records what drifted, then heals or reports as {@link decide} says. */
async function checkDrift(input: ReconcileInput, facts: DecideInput): Promise<ReconcileOutcome> {
  const compared = await compare(input);
  const checkedAt = isoNow(input.clock);
  const drifted = compared.filter((e) => e.action !== "no-op");
  const decision = decide({ ...facts, drifted: drifted.length, stopping: input.stopping?.() ?? false });
  const heal = decision.kind === "heal";
  const { environment, stack } = input.instance;
  const seen = { compared, drifted: drifted.length, checkedAt };
  if (!heal) {
    const driftRecorded = await input.recorder.drift(environment, stack, driftEvents(environment, stack, drifted, { corrected: false }, checkedAt));
    return { decision, result: drifted.length === 0 ? "in-sync" : "drift-reported", ...seen, driftRecorded };
  }
  // The drift is recorded whatever happens to its correction, with whether it was corrected.
  const trigger: SyncTrigger = { kind: "drift", detail: drifted.map((e) => refKey(e.ref)).slice(0, 5).join(", ") };
  let healed: SyncPart | undefined;
  try {
    healed = await sync(input, trigger);
  } finally {
    const corrected = healed?.result === "succeeded";
    await input.recorder.drift(environment, stack, driftEvents(environment, stack, drifted, {
      corrected, ...(healed?.syncId === undefined ? {} : { syncId: healed.syncId }),
    }, checkedAt));
  }
  return { decision, ...seen, ...healed };
}

/** Live state against the revision, through the stack's target; never writes. */
async function compare(input: ReconcileInput): Promise<readonly DiffEntry[]> {
  if (input.render?.ok !== true) return [];
  const objects = await input.pool.decrypt(input.instance, input.render.objects);
  const stack = { environment: input.instance.environment, stack: input.instance.stack };
  return input.pool.use(input.instance, async (session) => {
    const inventory = await session.readInventory(stack, input.signal);
    const set = await session.diff(labelledObjects(objects, stack), {
      ...(inventory === undefined ? {} : { inventory }), ...(input.signal === undefined ? {} : { signal: input.signal }),
    });
    return set.entries;
  });
}

type SyncPart = Omit<ReconcileOutcome, "decision">;

/** Apply, prune, verify through the target, recorded as one sync with its audit entry. */
async function sync(input: ReconcileInput, trigger: SyncTrigger): Promise<SyncPart> {
  const { environment, stack } = input.instance;
  const record = !input.apply.dryRun;
  const started = input.clock.now();
  const syncId = record ? await input.recorder.begin({ environment, stack, revision: input.revision, trigger, summary: {}, objects: [] }) : undefined;
  const result = await syncOne(input);
  const aborted = input.signal?.aborted === true;
  const outcome: FinishedOutcome = result.ok ? "succeeded" : aborted ? "cancelled" : "failed";
  const error = result.ok ? undefined : failure(result);
  const summary = actionSummary(result.entries);
  const durationMs = Math.round(input.clock.now() - started);
  if (syncId !== undefined) {
    await input.recorder.finish(syncId, {
      outcome, summary, objects: result.entries, durationMs,
      ...(error === undefined ? {} : { error }),
      ...(result.commands === undefined ? {} : { commands: result.commands }),
    });
    // A blocking wait's verdict is the sync's health too.
    if (result.health !== undefined) await input.recorder.health(syncId, { ...stackHealth(result.health), at: isoNow(input.clock) });
    await input.recorder.audit({
      kind: "sync", actor: trigger.by ?? `agent (${trigger.kind})`, environment, stack, revision: input.revision.sha,
      details: { syncId, outcome, trigger: trigger.kind, summary },
    });
    if (input.gate.overridden) {
      await input.recorder.audit({
        kind: "gate-override", actor: input.apply.override?.by ?? trigger.by ?? "unknown", environment, stack, revision: input.revision.sha,
        details: { syncId, reason: input.apply.override?.reason ?? "", denials: input.gate.denials.length },
      });
    }
  }
  return { result: outcome, sync: result, durationMs, ...(syncId === undefined ? {} : { syncId }), ...(error === undefined ? {} : { error }) };
}

/** Syncs the rendered stack through its session; a failure is a result naming the stack, not an exception. */
async function syncOne(input: ReconcileInput): Promise<StackSyncResult> {
  const { instance } = input;
  try {
    if (input.render?.ok !== true) throw new Error("the stack did not render");
    const { plannedCheck } = input.render;
    // Decrypted before the session is opened: a file that cannot be decrypted changes nothing of the stack.
    const objects = await input.pool.decrypt(instance, input.render.objects);
    const plaintexts = plaintextsOf(objects);
    return maskPlaintexts(plaintexts, await input.pool.use(instance, (session) => syncStack(session, instance, objects, {
      revision: input.revision.sha, dryRun: input.apply.dryRun, prune: input.policy.prune, force: input.apply.forceConflicts,
      waitMs: input.apply.waitMs, gate: input.gate, clock: input.clock,
      ...(input.apply.override === undefined ? {} : { override: input.apply.override }),
      ...(plannedCheck === undefined ? {} : { review: planReviewer(plannedCheck, input.gate.overridden || input.apply.override !== undefined) }),
      ...(input.apply.onProgress === undefined ? {} : { onProgress: input.apply.onProgress }),
      ...(input.signal === undefined ? {} : { signal: input.signal }),
      ...(input.fence === undefined ? {} : { fence: input.fence }),
    })));
  } catch (e: unknown) {
    const message = e instanceof GitwardError && e.hint !== undefined ? `${e.message} (hint: ${e.hint})` : e instanceof Error ? e.message : String(e);
    return { environment: instance.environment, stack: instance.stack, target: instance.targetName, entries: [], ok: false, error: message };
  }
}

/** A target's messages that quote a decrypted value (an API server's validation error) are masked before they are stored or shown. */
function maskPlaintexts(plaintexts: ReadonlySet<string>, result: StackSyncResult): StackSyncResult {
  if (plaintexts.size === 0) return result;
  const mask = (text: string): string => maskSecretsInText(text, { secretValues: plaintexts });
  return {
    ...result,
    entries: result.entries.map((e) => (e.message === undefined ? e : { ...e, message: mask(e.message) })),
    ...(result.error === undefined ? {} : { error: mask(result.error) }),
    ...(result.commands === undefined ? {} : { commands: result.commands.map((c) => ({ ...c, output: mask(c.output) })) }),
  };
}

/** Why a sync failed as a whole: its error, a health timeout, or its first failed objects. */
function failure(result: StackSyncResult): string | undefined {
  const error = result.error ?? (result.health?.timedOut === true ? "timed out waiting for health" : undefined);
  if (error !== undefined && error !== "") return error;
  const objects = result.entries.filter((e) => e.action === "failed").map((e) => `${formatRef(e.ref)}: ${e.message ?? "failed"}`).slice(0, 5).join("; ");
  return objects === "" ? undefined : objects;
}

function refusal(input: ReconcileInput, atSync: boolean): string {
  if (input.render !== undefined && !input.render.ok) return `revision not applied: render failed: ${input.render.error.message}`;
  const first = [...input.gate.blockers, ...input.gate.denials][0];
  const where = first?.location === undefined ? "" : `${first.location.file}${first.location.line === undefined ? "" : `:${first.location.line}`}: `;
  const example = first === undefined ? "" : ` (first: ${where}${first.message}${atSync ? ` (${first.rule})` : ""})`;
  const counts = `${input.gate.blockers.length} error(s), ${input.gate.denials.length} policy denial(s)`;
  if (atSync) return `revision not applied: rendered with the current outputs of its dependencies, the stack has ${counts}${example}; the stack stays on its last good revision`;
  return `revision not applied: ${counts}${example}; the stack stays on its last good revision`;
}

/**
 * The gate over the render a stack syncs with, when it was rendered again with the current
 * outputs of its dependencies and checked again: the revision's gate saw those values as known
 * after apply. Its errors refuse the sync, as its denials do unless the gate is overridden;
 * undefined when that changes nothing.
 */
async function finalGate(input: ReconcileInput): Promise<{ readonly gate: GateOutcome } | undefined> {
  const findings = input.render?.ok === true ? input.render.finalFindings : undefined;
  if (findings === undefined || !input.gate.allowed) return undefined;
  const gate = await decideGate(findings, input.apply.override);
  if (!gate.allowed) return { gate };
  // Denials let through by the override are recorded with it, as the revision's are.
  return gate.overridden && !input.gate.overridden ? { gate } : undefined;
}

/** A sync that did not run (refused, skipped), recorded as begun and ended at once. */
async function recordNotRun(input: ReconcileInput, outcome: "failed" | "skipped", error: string): Promise<string> {
  const { environment, stack } = input.instance;
  const id = await input.recorder.begin({ environment, stack, revision: input.revision, trigger: input.trigger, summary: {}, objects: [] });
  await input.recorder.finish(id, { outcome, error, summary: {}, objects: [], durationMs: 0 }, { refused: outcome === "failed" });
  return id;
}
