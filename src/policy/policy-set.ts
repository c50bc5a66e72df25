import type { CelValue } from "@bufbuild/cel";
import type { Finding } from "../check/finding.ts";
import type { RenderedObject } from "../core/object.ts";
import { formatRef } from "../core/objref.ts";
import type { SizeBound } from "./cel-cost.ts";
import { PolicyVariable } from "./cel-env.ts";
import { toCelInput, type CelInputValue } from "./cel-value.ts";
import type { CompiledPolicy } from "./compiled-policy.ts";
import { evaluatePolicy, type Bindings } from "./evaluate-policy.ts";
import { readExemptionRequest, type ExemptionRequest } from "./exemptions.ts";
import { PolicyRule, type Exemption, type PolicyContext, type PolicyEvaluation, type PolicyInfo, type PolicySet } from "./types.ts";

/**
 * The loaded policies. `evaluate` narrows the set to the environment and stack once, then per
 * object picks candidates by `group/Kind` (cached), applies namespace and label filters, and
 * only then converts the object to CEL (once, shared by every policy that runs on it).
 */
export class CompiledPolicySet implements PolicySet {
  readonly policies: readonly PolicyInfo[];
  readonly #compiled: readonly CompiledPolicy[];
  readonly #names: ReadonlySet<string>;
  readonly #costLimit: number;

  constructor(compiled: readonly CompiledPolicy[], costLimit: number) {
    this.#compiled = compiled;
    this.policies = compiled.map((p) => p.info);
    this.#names = new Set(this.policies.map((p) => p.name));
    this.#costLimit = costLimit;
  }

  evaluate(objects: readonly RenderedObject[], ctx: PolicyContext): PolicyEvaluation {
    const environment = ctx.environment.name;
    const stack = ctx.stack.name;
    const active = this.#compiled.filter((p) => p.match.appliesTo(environment, stack));
    const byKind = new Map<string, readonly CompiledPolicy[]>();
    const candidates = (group: string, kind: string): readonly CompiledPolicy[] => {
      const key = `${group}/${kind}`;
      let list = byKind.get(key);
      if (list === undefined) {
        list = active.filter((p) => p.match.matchesKind(group, kind));
        byKind.set(key, list);
      }
      return list;
    };
    const envInput = toCelInput({ name: environment, vars: ctx.environment.vars });
    const stackInput = toCelInput({
      name: stack,
      target: ctx.stack.target,
      ...(ctx.stack.namespace === undefined ? {} : { namespace: ctx.stack.namespace }),
    });
    const run = { environment, stack, costLimit: this.#costLimit };
    const findings: Finding[] = [];
    const exemptions: Exemption[] = [];

    for (const obj of objects) {
      const request = readExemptionRequest(obj.object);
      if (request !== undefined) findings.push(...this.#exemptionFindings(request, obj, environment, stack));
      const applicable = candidates(obj.ref.group, obj.ref.kind).filter((p) => p.match.matchesObject(obj.ref, obj.object));
      let input: CelInputValue | undefined;
      for (const policy of applicable) {
        const name = policy.info.name;
        if (request?.reason !== undefined && request.policies.includes(name)) {
          exemptions.push({ policy: name, ref: obj.ref, location: obj.source, reason: request.reason, environment, stack });
          continue;
        }
        input ??= toCelInput(obj.object);
        const bindings = bindingsFor(policy, input, envInput, stackInput);
        findings.push(...evaluatePolicy(policy, obj, bindings, run));
      }
    }
    return { findings, exemptions };
  }

  #exemptionFindings(request: ExemptionRequest, obj: RenderedObject, environment: string, stack: string): Finding[] {
    const base = { ref: obj.ref, location: obj.source, environment, stack, field: "metadata.annotations" } as const;
    const out: Finding[] = [];
    if (request.reason === undefined) {
      out.push({
        ...base,
        severity: "error",
        rule: PolicyRule.ExemptionWithoutReason,
        message: `${formatRef(obj.ref)} is exempted from ${request.policies.join(", ")} without a reason: add the gitward.dev/policy-exempt-reason annotation; the exemption is ignored until then`,
      });
    }
    for (const name of request.policies) {
      if (this.#names.has(name)) continue;
      out.push({
        ...base,
        severity: "warning",
        rule: PolicyRule.ExemptionUnknownPolicy,
        message: `${formatRef(obj.ref)} is exempted from "${name}", which is not a loaded policy`,
      });
    }
    return out;
  }
}

function bindingsFor(policy: CompiledPolicy, object: CelInputValue, env: CelInputValue, stack: CelInputValue): Bindings {
  const values: Record<string, CelValue> = {
    [PolicyVariable.Object]: object.value,
    [PolicyVariable.Env]: env.value,
    [PolicyVariable.Stack]: stack.value,
  };
  const sizes: Record<string, SizeBound> = {
    [PolicyVariable.Object]: object.size,
    [PolicyVariable.Env]: env.size,
    [PolicyVariable.Stack]: stack.size,
  };
  if (policy.params !== undefined) {
    values[PolicyVariable.Params] = policy.params.value;
    sizes[PolicyVariable.Params] = policy.params.size;
  }
  return { values, sizes };
}
