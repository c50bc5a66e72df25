import type { Finding } from "../check/finding.ts";

/** Whether a revision may be applied, and why not. */
export interface GateOutcome {
  readonly allowed: boolean;
  /** Error findings that block whatever the override: a revision that does not render or is malformed. */
  readonly blockers: readonly Finding[];
  /** Policy denials; an override lets them through and is recorded. */
  readonly denials: readonly Finding[];
  readonly overridden: boolean;
}

/** Who overrode the policy gate and why; recorded with the sync. */
export interface GateOverride {
  readonly by: string;
  readonly reason: string;
}

/**
 * The Gate stage: a revision with error findings from render, structure, schema or secret
 * checks is never applied; one with policy denials only when the gate is explicitly
 * overridden. The decision is data the caller records.
 */
export async function decideGate(findings: readonly Finding[], override: GateOverride | undefined): Promise<GateOutcome> {
  const errors = findings.filter((f) => f.severity === "error");
  const { policyGate } = await import("../policy/gate.ts");
  const policy = policyGate(errors, { override: override !== undefined });
  const blockers = errors.filter((f) => !policy.denials.includes(f));
  return { allowed: blockers.length === 0 && policy.allowed, blockers, denials: policy.denials, overridden: policy.overridden };
}
