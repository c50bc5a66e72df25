/**
 * The decision of one reconcile of one stack, as a pure function of what is known: the job,
 * the trigger, the revision's gate, the environment's sync policy, the stack's recorded syncs,
 * its dependencies and, after a drift check, the drift found. Push (`gitward apply`), `gitward
 * diff` and the agent all decide here, so the two modes cannot differ.
 */

/** What a reconcile was asked to do. */
export const Job = {
  /** Bring the stack to the revision (new revision, manual sync, push, retry). */
  Sync: "sync",
  /** Compare live state with the revision; heal or report what differs (the agent's timer). */
  Drift: "drift",
  /** Compare and show, never write (`gitward diff`). */
  Diff: "diff",
} as const;
/** One of {@link Job}. */
export type Job = (typeof Job)[keyof typeof Job];

/** Where a dependency of the stack stands at the revision being reconciled. */
export type DependencyState = "ready" | "failed" | "pending";

/** The recorded sync facts `decide` reads: revision, outcome and, where followed, health. */
export interface RecordedOutcome {
  readonly revision: string;
  readonly outcome: string;
  /** `progressing`, `healthy`, `degraded` or `timed-out` when health is followed after the sync. */
  readonly health?: string | undefined;
}

/** Everything {@link decide} looks at. */
export interface DecideInput {
  readonly job: Job;
  /**
   * Someone asked for this reconcile explicitly (a manual sync, a push, a retry of one):
   * it runs in a manual environment and re-syncs a stack already at the revision.
   */
  readonly explicit: boolean;
  /** The revision being reconciled. */
  readonly revision: string;
  /** False when the revision failed to render this stack. */
  readonly rendered: boolean;
  /** False when the Gate refused the revision (errors, or policy denials not overridden). */
  readonly gateAllowed: boolean;
  /** The environment's `sync.auto`. */
  readonly auto: boolean;
  /** The environment's `sync.selfHeal`. */
  readonly selfHeal: boolean;
  /** The stack's latest recorded sync, whatever its outcome. */
  readonly last?: RecordedOutcome | undefined;
  /** The stack's latest successful sync. */
  readonly good?: RecordedOutcome | undefined;
  /** Each dependency of the stack and where it stands at this revision. */
  readonly dependencies: readonly { readonly stack: string; readonly state: DependencyState }[];
  /** Objects found differing by a drift check of this reconcile; undefined before one ran. */
  readonly drifted?: number | undefined;
  /** The process is stopping: nothing new is written. */
  readonly stopping: boolean;
  /**
   * The approval gate's verdict on bringing the stack to this revision; undefined where the
   * environment requires no approvals (or an operator overrode the gate).
   */
  readonly approval?: { readonly allowed: boolean; readonly reason: string } | undefined;
}

/** What to do, as data the reconcile carries out and records. */
export type Decision =
  /** The revision may not be applied; `record` is false when this refusal is already in history. */
  | { readonly kind: "refuse"; readonly reason: "render" | "gate"; readonly record: boolean }
  /** A dependency failed at this revision: not synced; `record` as for refuse. */
  | { readonly kind: "skip"; readonly dependency: string; readonly record: boolean }
  /** The approval gate holds the revision: not synced, the reason recorded (once per revision); tried again when approvals change. */
  | { readonly kind: "hold"; readonly reason: string; readonly record: boolean }
  /** A dependency has not synced this revision yet: try again later. */
  | { readonly kind: "wait"; readonly dependencies: readonly string[] }
  /** Apply the revision. */
  | { readonly kind: "sync" }
  /** Compare live state with the revision first; decide again with what it found. */
  | { readonly kind: "check-drift" }
  /** Drift found and the environment self-heals: apply the revision again. */
  | { readonly kind: "heal" }
  /** Drift found and left: record and report it. */
  | { readonly kind: "report" }
  /** Show the comparison, write nothing (`gitward diff`). */
  | { readonly kind: "show" }
  /** Nothing to do. */
  | { readonly kind: "none"; readonly why: NoneReason };

/** Why a reconcile does nothing. */
export type NoneReason = "in-sync" | "manual-environment" | "stopping";

/**
 * The Gate, the sync policy and drift handling of one stack:
 * - a revision that did not render, or that the Gate refused, is never applied, and is
 *   recorded once per revision (the stack stays on its last good revision);
 * - `gitward diff` only shows;
 * - a stack not yet at the revision syncs when the environment is automatic or someone asked,
 *   once the approval gate allows it (held otherwise, recorded once), after its dependencies (a
 *   failed dependency skips it, recorded once; a pending one waits);
 * - a stack at the revision is checked for drift unless someone explicitly asked to sync it;
 *   drift is healed where the environment self-heals, otherwise reported.
 */
export function decide(input: DecideInput): Decision {
  if (input.job === Job.Diff) return input.rendered ? { kind: "show" } : { kind: "refuse", reason: "render", record: false };
  if (!input.rendered || !input.gateAllowed) {
    const recorded = input.last?.revision === input.revision && input.last.outcome === "failed";
    return { kind: "refuse", reason: input.rendered ? "gate" : "render", record: !recorded };
  }
  const atRevision = input.good?.revision === input.revision;
  if (input.drifted !== undefined) {
    if (input.drifted === 0) return { kind: "none", why: "in-sync" };
    if (input.stopping) return { kind: "report" };
    return input.selfHeal ? { kind: "heal" } : { kind: "report" };
  }
  if (atRevision && !(input.job === Job.Sync && input.explicit)) return { kind: "check-drift" };
  if (!input.auto && !input.explicit) return { kind: "none", why: "manual-environment" };
  if (input.approval !== undefined && !input.approval.allowed) {
    const recorded = input.last?.revision === input.revision && input.last.outcome === "skipped";
    return { kind: "hold", reason: input.approval.reason, record: !recorded };
  }
  return dependencyDecision(input);
}

function dependencyDecision(input: DecideInput): Decision {
  const failed = input.dependencies.find((d) => d.state === "failed");
  if (failed !== undefined) {
    const recorded = input.last?.revision === input.revision && input.last.outcome === "skipped";
    return { kind: "skip", dependency: failed.stack, record: !recorded };
  }
  const pending = input.dependencies.filter((d) => d.state === "pending").map((d) => d.stack);
  if (pending.length > 0) return { kind: "wait", dependencies: pending };
  return { kind: "sync" };
}

/**
 * Where a dependency stands, from its latest sync: ready when it synced the revision and its
 * objects are healthy (or their health is not followed), pending while they are progressing or
 * it has not synced the revision yet, failed when its sync failed or was skipped there, or its
 * objects turned degraded or did not become healthy in time.
 */
export function dependencyState(last: RecordedOutcome | undefined, revision: string): DependencyState {
  if (last?.revision !== revision) return "pending";
  if (last.outcome === "failed" || last.outcome === "skipped") return "failed";
  if (last.outcome !== "succeeded") return "pending";
  if (last.health === "progressing") return "pending";
  if (last.health === "degraded" || last.health === "timed-out") return "failed";
  return "ready";
}
