// The policy engine's public surface: load and compile policies once, evaluate them per
// stack and environment, and decide at the sync gate.
export { loadPolicies, type LoadPoliciesInput } from "./load-policies.ts";
export { policyGate } from "./gate.ts";
export { builtinPolicies, type BuiltinPolicy } from "./builtins.ts";
export { EXEMPT_ANNOTATION, EXEMPT_REASON_ANNOTATION } from "./exemptions.ts";
export { POLICY_API_VERSION, POLICY_KIND } from "./document-schema.ts";
export {
  DEFAULT_COST_LIMIT,
  defaultPolicyLimits,
  Enforcement,
  POLICY_RULE_PREFIX,
  PolicyRule,
  type BuiltinSelection,
  type Exemption,
  type GateDecision,
  type PolicyContext,
  type PolicyEvaluation,
  type PolicyInfo,
  type PolicyLimits,
  type PolicySet,
} from "./types.ts";
