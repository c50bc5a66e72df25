import { GitwardError, ErrorCode } from "../core/errors.ts";
import type { YamlPath } from "../core/yaml-positions.ts";
import { formatFieldPath } from "../core/yaml-positions.ts";
import type { ConfigIssue } from "./config-error.ts";
import type { LoadedConfig } from "./load-config.ts";
import type { RepositoryLimits, StackSpec, TargetSpec } from "./schema.ts";

/** One stack as deployed to one environment: the unit that is rendered, checked and planned. */
export interface StackInstance {
  readonly environment: string;
  readonly stack: string;
  readonly targetName: string;
  readonly target: TargetSpec;
  /** Repository-relative directory of the manifests. */
  readonly dir: string;
  /** Key path in gitward.yaml that chose the directory, for errors. */
  readonly dirKeyPath: YamlPath;
  readonly namespace: string | undefined;
  /** Stack vars, overridden by environment vars, overridden by the stack's per-environment vars. */
  readonly vars: Readonly<Record<string, string>>;
  /**
   * Every variable name gitward.yaml declares for this stack in any environment: the built-in
   * ones, the stack's and its per-environment vars, every environment's vars. Substitution
   * treats these as gitward's even where they are not set. Absent: the names of `vars`.
   */
  readonly declaredVars?: readonly string[];
  /** `substitute` of the stack: false (off), true (the default rule) or "strict". */
  readonly substitute: boolean | "strict";
  /** Take over fields other writers own when applying. */
  readonly forceConflicts: boolean;
  /** render.allowRemoteBases of gitward.yaml. */
  readonly allowRemoteBases: boolean;
  /** `limits` of gitward.yaml: lower than the runner's, or they do not count. */
  readonly limits?: RepositoryLimits;
  readonly dependsOn: readonly string[];
}

/** Which environments and stacks to work on; empty means all. */
export interface InstanceFilter {
  readonly environments?: readonly string[];
  readonly stacks?: readonly string[];
  /** Names the configuration lacks select nothing instead of being errors (the base of a plan). */
  readonly lenient?: boolean;
}

/**
 * Expands gitward.yaml into stack instances, one per (environment, stack) where the
 * environment defines the stack's target and the stack is not disabled there.
 */
export function stackInstances(loaded: LoadedConfig, filter: InstanceFilter = {}): StackInstance[] {
  const { config } = loaded;
  if (filter.lenient !== true) {
    checkNames("environment", filter.environments, Object.keys(config.environments));
    checkNames("stack", filter.stacks, Object.keys(config.stacks));
  }
  const out: StackInstance[] = [];
  const environmentVars = Object.values(config.environments).flatMap((e) => Object.keys(e.vars));
  for (const [env, envSpec] of Object.entries(config.environments)) {
    if (!selected(filter.environments, env)) continue;
    for (const [name, stack] of Object.entries(config.stacks)) {
      if (!selected(filter.stacks, name)) continue;
      const target = envSpec.targets[stack.target];
      const override = stack.environments[env];
      if (target === undefined || override?.enabled === false) continue;
      const dirKeyPath: YamlPath =
        override?.path !== undefined ? ["stacks", name, "environments", env, "path"] : ["stacks", name, "path"];
      const rel = override?.path ?? stack.path;
      out.push({
        environment: env,
        stack: name,
        targetName: stack.target,
        target,
        dir: joinRepoPath(loaded.baseDir, rel),
        dirKeyPath,
        namespace: override?.namespace ?? stack.namespace,
        vars: {
          GITWARD_ENVIRONMENT: env,
          GITWARD_STACK: name,
          ...stack.vars,
          ...envSpec.vars,
          ...override?.vars,
        },
        declaredVars: declaredVars(stack, environmentVars),
        substitute: stack.substitute,
        forceConflicts: stack.forceConflicts,
        allowRemoteBases: config.render.allowRemoteBases,
        ...(config.limits === undefined ? {} : { limits: config.limits }),
        dependsOn: stack.dependsOn,
      });
    }
  }
  return out;
}

const builtinVars = ["GITWARD_ENVIRONMENT", "GITWARD_STACK"];

function declaredVars(stack: StackSpec, environmentVars: readonly string[]): string[] {
  const perEnvironment = Object.values(stack.environments).flatMap((o) => Object.keys(o.vars));
  return [...new Set([...builtinVars, ...Object.keys(stack.vars), ...environmentVars, ...perEnvironment])].sort();
}

/** Checks that each instance's directory exists at the commit; `isDir` answers from the snapshot. */
export function checkInstanceDirs(
  loaded: LoadedConfig,
  instances: readonly StackInstance[],
  isDir: (path: string) => boolean,
): ConfigIssue[] {
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const inst of instances) {
    const key = formatFieldPath(inst.dirKeyPath);
    if (seen.has(key) || isDir(inst.dir)) continue;
    seen.add(key);
    issues.push({ location: loaded.locate(inst.dirKeyPath), keyPath: key, message: `directory not found: ${inst.dir}` });
  }
  return issues;
}

/** Joins a repository-relative base and a relative path, normalising `.` segments. */
export function joinRepoPath(base: string, rel: string): string {
  const parts = [...base.split("/"), ...rel.split("/")].filter((p) => p !== "" && p !== ".");
  return parts.join("/");
}

function selected(filter: readonly string[] | undefined, name: string): boolean {
  return filter === undefined || filter.length === 0 || filter.includes(name);
}

function checkNames(what: string, wanted: readonly string[] | undefined, known: readonly string[]): void {
  for (const name of wanted ?? []) {
    if (!known.includes(name)) {
      throw new GitwardError(ErrorCode.Config, `unknown ${what} "${name}"`, {
        hint: `${what}s defined in gitward.yaml: ${known.join(", ") || "(none)"}`,
      });
    }
  }
}
