import type { Finding } from "../check/finding.ts";
import type { SourceLocation } from "../core/location.ts";
import type { RenderedObject } from "../core/object.ts";
import type { ObjRef } from "../core/objref.ts";

/** What a failed validation does: `deny` blocks the sync gate, `warn` only reports. */
export const Enforcement = { Deny: "deny", Warn: "warn" } as const;
/** One of {@link Enforcement}. */
export type Enforcement = (typeof Enforcement)[keyof typeof Enforcement];

/** Built-in policies a repository turns on in gitward.yaml. */
export interface BuiltinSelection {
  readonly name: string;
  readonly enforcement?: Enforcement | undefined;
  readonly params?: Readonly<Record<string, unknown>> | undefined;
  readonly environments?: Readonly<Record<string, { readonly enforcement: Enforcement }>> | undefined;
}

/** Bounds on policy evaluation; see {@link defaultPolicyLimits}. */
export interface PolicyLimits {
  /**
   * The most work one expression may be estimated to do for one object, in cost units: one
   * per AST node evaluated and per comprehension iteration, a tenth per character a string
   * function reads. Evaluation is refused (a `policy.evaluation-error` finding) when the
   * estimate for an object exceeds it, so an expression can never run away.
   */
  readonly costLimit: number;
}

/** Kubernetes' per-expression limit for ValidatingAdmissionPolicy, in comparable units. */
export const DEFAULT_COST_LIMIT = 1_000_000;

/** The limits used when none are given: a cost limit of 1,000,000 per expression. */
export function defaultPolicyLimits(): PolicyLimits {
  return { costLimit: DEFAULT_COST_LIMIT };
}

/** Where objects are evaluated: the environment and the stack, visible to CEL as `env` and `stack`. */
export interface PolicyContext {
  readonly environment: { readonly name: string; readonly vars: Readonly<Record<string, string>> };
  readonly stack: { readonly name: string; readonly target: string; readonly namespace?: string };
}

/** One loaded policy as the plan and the CLI list it. */
export interface PolicyInfo {
  readonly name: string;
  /** The policy document, or gitward.yaml for a built-in one. */
  readonly source: SourceLocation;
  readonly builtin: boolean;
}

/** A compiled, ready-to-run set of policies; compiled once, evaluated per stack and environment. */
export interface PolicySet {
  readonly policies: readonly PolicyInfo[];
  /** Evaluates every policy against every object; never throws for a policy's own failure. */
  evaluate(objects: readonly RenderedObject[], ctx: PolicyContext): PolicyEvaluation;
}

/** One honoured exemption: an object opted out of a policy, with a reason, where the policy applies. */
export interface Exemption {
  readonly policy: string;
  readonly ref: ObjRef;
  readonly location: SourceLocation;
  readonly reason: string;
  readonly environment: string;
  readonly stack: string;
}

/** The outcome of {@link PolicySet.evaluate}: findings to report and exemptions to show reviewers. */
export interface PolicyEvaluation {
  readonly findings: readonly Finding[];
  readonly exemptions: readonly Exemption[];
}

/** The sync gate's verdict on a revision's policy findings. */
export interface GateDecision {
  /** True when nothing denies, or when denials were overridden. */
  readonly allowed: boolean;
  /** The error findings of policies (deny enforcement, evaluation errors, exemptions without reason). */
  readonly denials: readonly Finding[];
  /** True when denials exist and the override let the revision through anyway. */
  readonly overridden: boolean;
}

/** Finding rule ids the policy engine emits besides `policy.<name>`. */
export const PolicyRule = {
  EvaluationError: "policy.evaluation-error",
  ExemptionWithoutReason: "policy.exemption-without-reason",
  ExemptionUnknownPolicy: "policy.exemption-unknown-policy",
} as const;

/** The prefix of every rule id the policy engine emits. */
export const POLICY_RULE_PREFIX = "policy.";
