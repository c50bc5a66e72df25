import type { Finding } from "../check/finding.ts";
import { ConfigError } from "../config/config-error.ts";
import type { LoadedConfig } from "../config/load-config.ts";
import { joinRepoPath } from "../config/stack-instances.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import type { RenderedObject } from "../core/object.ts";
import { formatRef } from "../core/objref.ts";
import type { DesiredObject, PlanReview } from "../providers/provider.ts";
import type { BuiltinSelection, Exemption, PolicySet } from "../policy/index.ts";
import type { PlannedCheck, RenderResult } from "../render/renderer.ts";
import type { Snapshot } from "../source/types.ts";

/** What the policy part of Check found for a revision. */
export interface PolicyOutcome {
  readonly findings: readonly Finding[];
  readonly exemptions: readonly Exemption[];
  /** How many policies were evaluated (repository and built-in). */
  readonly policies: number;
  /** The same policies over the changes a target plans (Terraform), per stack instance; absent without policies. */
  readonly plannedCheck?: (instance: StackInstance) => PlannedCheck;
}

/**
 * Loads the repository's policies from the commit (its `policies` directory and the built-ins
 * gitward.yaml turns on), compiles them once, and evaluates them over every rendered stack.
 * A policy that does not load is a configuration error, so a broken rule never passes silently.
 */
export async function runPolicies(snapshot: Snapshot, config: LoadedConfig, renders: readonly RenderResult[], signal?: AbortSignal): Promise<PolicyOutcome> {
  const spec = config.config.policies;
  if (spec === undefined) return { findings: [], exemptions: [], policies: 0 };
  const files = new Map<string, Buffer>();
  if (spec.path !== undefined) {
    const dir = joinRepoPath(config.baseDir, spec.path);
    if (snapshot.entry(dir)?.type !== "tree") {
      throw new ConfigError([{ location: config.locate(["policies"]), keyPath: "policies.path", message: `directory not found: ${dir}` }]);
    }
    const paths = snapshot.listFiles(dir).map((f) => f.path).filter((p) => /\.ya?ml$/i.test(p));
    for (const [path, content] of await snapshot.readFiles(paths, signal)) files.set(path, content);
  }
  const builtins: BuiltinSelection[] = spec.builtin.map((b) => ({
    name: b.name,
    ...(b.enforcement === undefined ? {} : { enforcement: b.enforcement }),
    ...(b.params === undefined ? {} : { params: b.params }),
    ...(b.environments === undefined ? {} : { environments: b.environments }),
  }));
  // CEL is loaded only by repositories that have policies.
  const { loadPolicies } = await import("../policy/index.ts");
  const set = loadPolicies({
    files, builtins, configFile: config.file,
    known: { environments: Object.keys(config.config.environments), stacks: Object.keys(config.config.stacks) },
  });
  const findings: Finding[] = [];
  const exemptions: Exemption[] = [];
  for (const r of renders) {
    if (!r.ok) continue;
    const { instance } = r;
    const result = set.evaluate(r.objects, {
      environment: { name: instance.environment, vars: instance.vars },
      stack: { name: instance.stack, target: instance.targetName, ...(instance.namespace === undefined ? {} : { namespace: instance.namespace }) },
    });
    findings.push(...result.findings);
    exemptions.push(...result.exemptions);
  }
  return { findings, exemptions, policies: set.policies.length, plannedCheck: (instance) => (objects) => set.evaluate(objects, policyContext(instance)).findings };
}

function policyContext(instance: StackInstance): Parameters<PolicySet["evaluate"]>[1] {
  return {
    environment: { name: instance.environment, vars: instance.vars },
    stack: { name: instance.stack, target: instance.targetName, ...(instance.namespace === undefined ? {} : { namespace: instance.namespace }) },
  };
}

/**
 * Each Terraform render with the check of its planned changes attached, so the sync that plans
 * it can have the same policies review what Terraform will do.
 */
export function withPlannedChecks(renders: readonly RenderResult[], outcome: PolicyOutcome): RenderResult[] {
  const check = outcome.plannedCheck;
  return renders.map((r) => (check !== undefined && r.ok && r.instance.target.provider === "terraform" ? { ...r, plannedCheck: check(r.instance) } : r));
}

/**
 * The review a target's planned changes get before they are applied: the policies over them,
 * then the policy gate (an override lets denials through, as for rendered objects).
 */
export function planReviewer(check: PlannedCheck, override: boolean): (planned: readonly DesiredObject[]) => Promise<PlanReview> {
  return async (planned) => {
    const objects: RenderedObject[] = planned.map((p) => ({ object: p.object, ref: p.ref, apiVersion: p.apiVersion, source: p.source ?? { file: "(plan)" } }));
    const findings = check(objects);
    const { policyGate } = await import("../policy/gate.ts");
    const gate = policyGate(findings.filter((f) => f.severity === "error"), { override });
    const say = (list: readonly typeof findings[number][]): string =>
      list.slice(0, 5).map((f) => `${f.ref === undefined ? "" : `${formatRef(f.ref)}: `}${f.message} (${f.rule})`).join("; ");
    if (!gate.allowed) return { allowed: false, message: `${gate.denials.length} policy denial(s) of the planned changes: ${say(gate.denials)}` };
    const warnings = findings.filter((f) => f.severity !== "error");
    return { allowed: true, ...(warnings.length === 0 ? {} : { message: say(warnings) }) };
  };
}
