import type { Finding } from "../check/finding.ts";
import { POLICY_RULE_PREFIX, type GateDecision } from "./types.ts";

/**
 * The sync gate's stage function: may a revision with these findings be applied? Error
 * findings of the policy engine deny it (deny-enforced violations, evaluation errors,
 * exemptions without a reason); warnings and other stages' findings do not. With `override`
 * the revision is allowed anyway and the decision says it was overridden, for the record.
 */
export function policyGate(findings: readonly Finding[], opts: { override: boolean }): GateDecision {
  const denials = findings.filter((f) => f.severity === "error" && f.rule.startsWith(POLICY_RULE_PREFIX));
  const denied = denials.length > 0;
  return { allowed: !denied || opts.override, denials, overridden: denied && opts.override };
}
