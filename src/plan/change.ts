import type { SourceLocation } from "../core/location.ts";
import type { ObjRef } from "../core/objref.ts";
import type { Finding } from "../check/finding.ts";
import type { Exemption } from "../policy/index.ts";

/** What a plan will do to one object. */
export const ChangeAction = {
  Create: "create",
  Update: "update",
  Delete: "delete",
  /** Git no longer has it but prune is off (or the object opts out): it stays, unmanaged. */
  Orphan: "orphan",
  NoOp: "no-op",
} as const;
/** One of {@link ChangeAction}. */
export type ChangeAction = (typeof ChangeAction)[keyof typeof ChangeAction];

/** One object's change between the base and head revisions. */
export interface Change {
  readonly action: ChangeAction;
  readonly ref: ObjRef;
  readonly apiVersion: string;
  /** Where the object is defined at head (or at base, for deletes). */
  readonly source: SourceLocation;
  /** Set when the object moved here from another stack. */
  readonly previousStack?: string;
  /** A unified diff of the YAML, secret values masked; only for updates. */
  readonly diff?: string;
  /**
   * For an update of a SOPS-encrypted object: `changed` when an encrypted value's ciphertext
   * changed (what it became is never shown), `re-encrypted` when only the recipients or keys
   * changed and every value is as it was.
   */
  readonly secret?: "changed" | "re-encrypted";
  /** For an update the target makes by destroying and re-creating the object (a Terraform replace): why. */
  readonly replace?: string;
  /**
   * For a create in an offline plan: the new object as YAML, secret values masked, for the
   * markdown comment. Not part of the JSON document (`render -o json` has the objects).
   */
  readonly yaml?: string;
}

/** Counts of changes by action. */
export interface ChangeCounts {
  create: number;
  update: number;
  delete: number;
  orphan: number;
  unchanged: number;
}

/** The changes of one stack instance. */
export interface StackPlan {
  readonly stack: string;
  readonly target: string;
  readonly provider: string;
  readonly dir: string;
  /** Changes other than no-ops, in output order. */
  readonly changes: readonly Change[];
  readonly counts: ChangeCounts;
  /** How the changes were found when it is not the usual comparison (a Terraform plan, or validation only). */
  readonly note?: string;
}

/** A stack whose live state could not be read (`diff`): it is in no count. */
export interface UnreadStack {
  readonly stack: string;
  /** Why, as the error said it. */
  readonly message: string;
}

/** The changes of one environment. */
export interface EnvironmentPlan {
  readonly environment: string;
  readonly stacks: readonly StackPlan[];
  readonly counts: ChangeCounts;
  /** Stacks left out because their target could not be read (`diff` only). */
  readonly unread?: readonly UnreadStack[];
}

/** A revision's identity as plans show it. */
export interface RevisionInfo {
  readonly rev: string;
  readonly sha: string;
  readonly author: string;
  readonly subject: string;
}

/** What changes between two revisions, per environment and stack, with Check's findings for head. */
export interface Plan {
  readonly base: RevisionInfo | undefined;
  readonly head: RevisionInfo;
  readonly environments: readonly EnvironmentPlan[];
  readonly findings: readonly Finding[];
  /** Policy exemptions claimed at head, listed so reviewers see them. */
  readonly exemptions: readonly Exemption[];
  readonly counts: ChangeCounts;
}

/** Zeroed counts. */
export function emptyCounts(): ChangeCounts {
  return { create: 0, update: 0, delete: 0, orphan: 0, unchanged: 0 };
}

/** Adds one change to counts. */
export function countChange(counts: ChangeCounts, action: ChangeAction): void {
  if (action === "no-op") counts.unchanged++;
  else counts[action]++;
}

/** Sums counts. */
export function addCounts(into: ChangeCounts, more: ChangeCounts): void {
  into.create += more.create;
  into.update += more.update;
  into.delete += more.delete;
  into.orphan += more.orphan;
  into.unchanged += more.unchanged;
}

/** How many stacks of the plan could not be read. */
export function unreadCount(plan: Pick<Plan, "environments">): number {
  return plan.environments.reduce((n, e) => n + (e.unread?.length ?? 0), 0);
}

/** True when applying the plan would change anything. */
export function hasChanges(counts: ChangeCounts): boolean {
  return counts.create + counts.update + counts.delete > 0;
}
