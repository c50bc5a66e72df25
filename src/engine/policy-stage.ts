import type { Finding } from "../check/finding.ts";
import { ConfigError } from "../config/config-error.ts";
import type { LoadedConfig } from "../config/load-config.ts";
import { joinRepoPath } from "../config/stack-instances.ts";
import type { BuiltinSelection, Exemption } from "../policy/index.ts";
import type { RenderResult } from "../render/renderer.ts";
import type { Snapshot } from "../source/types.ts";

/** What the policy part of Check found for a revision. */
export interface PolicyOutcome {
  readonly findings: readonly Finding[];
  readonly exemptions: readonly Exemption[];
  /** How many policies were evaluated (repository and built-in). */
  readonly policies: number;
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
  return { findings, exemptions, policies: set.policies.length };
}
