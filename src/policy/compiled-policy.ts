import type { CelInputValue } from "./cel-value.ts";
import type { CompiledExpression } from "./compile-expression.ts";
import type { CompiledMatch } from "./match.ts";
import type { Enforcement, PolicyInfo } from "./types.ts";

/** One validation of a compiled policy; `index` is its position in `spec.validations`. */
export interface CompiledValidation {
  readonly index: number;
  readonly expression: CompiledExpression;
  readonly message: string | undefined;
  readonly messageExpression: CompiledExpression | undefined;
}

/** A policy ready to evaluate: match prepared, expressions compiled, params converted. */
export interface CompiledPolicy {
  readonly info: PolicyInfo;
  readonly match: CompiledMatch;
  readonly enforcement: Enforcement;
  /** Per-environment enforcement overrides. */
  readonly environments: ReadonlyMap<string, Enforcement>;
  readonly validations: readonly CompiledValidation[];
  /** The `params` variable of a built-in policy. */
  readonly params: CelInputValue | undefined;
}

/** The enforcement that holds in an environment. */
export function enforcementIn(policy: CompiledPolicy, environment: string): Enforcement {
  return policy.environments.get(environment) ?? policy.enforcement;
}
