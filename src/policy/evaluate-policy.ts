import { isCelError, type CelValue } from "@bufbuild/cel";
import type { Finding } from "../check/finding.ts";
import type { RenderedObject } from "../core/object.ts";
import type { VariableSizes } from "./cel-cost.ts";
import { PolicyVariable } from "./cel-env.ts";
import { formatCost, type CompiledExpression } from "./compile-expression.ts";
import { enforcementIn, type CompiledPolicy, type CompiledValidation } from "./compiled-policy.ts";
import { POLICY_RULE_PREFIX, PolicyRule } from "./types.ts";

/** The variables an expression runs with, and their size bounds for the cost check. */
export interface Bindings {
  readonly values: Readonly<Record<string, CelValue>>;
  readonly sizes: VariableSizes;
}

/** Where an evaluation runs and under which cost limit. */
export interface RunContext {
  readonly environment: string;
  readonly stack: string;
  readonly costLimit: number;
}

type RunOutcome = { readonly ok: true; readonly value: CelValue } | { readonly ok: false; readonly cause: string };

/**
 * Evaluates every validation of one policy on one object. A false validation is a finding
 * with the policy's enforcement in this environment; an expression that fails at run time,
 * returns a non-boolean, or would exceed the cost limit is a `policy.evaluation-error`.
 */
export function evaluatePolicy(policy: CompiledPolicy, obj: RenderedObject, bindings: Bindings, run: RunContext): Finding[] {
  const base = { ref: obj.ref, location: obj.source, environment: run.environment, stack: run.stack } as const;
  const name = policy.info.name;
  const findings: Finding[] = [];
  for (const v of policy.validations) {
    const outcome = runExpression(v.expression, bindings, run.costLimit);
    if (outcome.ok && outcome.value === true) continue;
    if (!outcome.ok || outcome.value !== false) {
      const cause = outcome.ok ? `expression returned ${describe(outcome.value)}, not a bool` : outcome.cause;
      findings.push({ ...base, severity: "error", rule: PolicyRule.EvaluationError, message: `policy ${name}: validations[${v.index}]: ${cause}` });
      continue;
    }
    const severity = enforcementIn(policy, run.environment) === "deny" ? "error" : "warning";
    findings.push({ ...base, severity, rule: `${POLICY_RULE_PREFIX}${name}`, message: messageFor(v, bindings, run.costLimit) });
  }
  return findings;
}

/** Runs an expression unless its cost estimate for these bindings exceeds the limit. */
export function runExpression(expr: CompiledExpression, bindings: Bindings, costLimit: number): RunOutcome {
  const cost = expr.costOverLimit(bindings.sizes, bindings.values);
  if (cost !== undefined) {
    return {
      ok: false,
      cause: `not evaluated: estimated cost ${formatCost(cost)} exceeds the cost limit ${costLimit} for this object (object size ${bindings.sizes[PolicyVariable.Object]?.t ?? 0})`,
    };
  }
  const value = expr.run(bindings.values);
  return isCelError(value) ? { ok: false, cause: `evaluation failed: ${value.message}` } : { ok: true, value };
}

function messageFor(v: CompiledValidation, bindings: Bindings, costLimit: number): string {
  const fallback = v.message ?? `failed expression: ${v.expression.text}`;
  if (v.messageExpression === undefined) return fallback;
  const outcome = runExpression(v.messageExpression, bindings, costLimit);
  if (outcome.ok && typeof outcome.value === "string" && outcome.value.trim() !== "") return outcome.value;
  const why = outcome.ok ? `returned ${describe(outcome.value)}` : outcome.cause;
  return `${fallback} (messageExpression: ${why})`;
}

function describe(value: CelValue): string {
  if (typeof value === "string") return value === "" ? "an empty string" : "a string";
  if (value === null) return "null";
  if (typeof value === "bigint") return "an int";
  if (typeof value === "number") return "a double";
  return typeof value === "boolean" ? "a bool" : "a value of another type";
}
