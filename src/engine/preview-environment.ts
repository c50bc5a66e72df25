import type { LoadedConfig } from "../config/load-config.ts";
import type { Config, EnvironmentSpec, StackSpec } from "../config/schema.ts";
import { parseDuration } from "../core/duration.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { YamlPath } from "../core/yaml-positions.ts";
import { expandPreviewTemplate, isDnsLabel, previewVariables, type PreviewPullRequest } from "../config/preview-template.ts";

/** A preview environment derived from gitward.yaml at a pull request's head. */
export interface PreviewEnvironment {
  /** gitward.yaml with one more environment, the preview: evaluate and sync it like any other. */
  readonly loaded: LoadedConfig;
  /** The preview environment's name (`preview-42`). */
  readonly name: string;
  /** The template environment it was derived from. */
  readonly from: string;
  /** Where the namespaced objects of its kubernetes stacks go, when `previews.namespace` is set. */
  readonly namespace: string | undefined;
  /** The address commented on the pull request, when `previews.url` is set. */
  readonly url: string | undefined;
  /** The stacks it deploys. */
  readonly stacks: readonly string[];
  /** How long after its last push it lives, when `previews.ttl` is set. */
  readonly ttlMs: number | undefined;
}

/** The sync policy of every preview: it follows its pull request and owns everything it made. */
const previewSync = { auto: true, prune: true, selfHeal: false } as const;

/**
 * The preview environment of a pull request: gitward.yaml at its head with one more
 * environment, named by `previews.name`, that copies the template environment's targets and
 * stack settings, its vars with the preview's over them, and syncs automatically with prune.
 * Approvals and promotion do not apply to it; policies do, as to any environment, and a
 * built-in policy's per-environment enforcement for the template holds for the preview.
 * Throws a configuration error when gitward.yaml has no `previews` or its name does not fit.
 */
export function previewEnvironment(loaded: LoadedConfig, pr: PreviewPullRequest): PreviewEnvironment {
  const { config } = loaded;
  const spec = config.previews;
  const fail = (message: string, path: YamlPath = ["previews"]): GitwardError =>
    new GitwardError(ErrorCode.Config, `pull request ${pr.number}: ${message}`, { subject: { location: loaded.locate(path) } });
  if (spec === undefined) throw fail("gitward.yaml at its head has no previews: section", []);
  const template = config.environments[spec.from];
  if (template === undefined) throw fail(`previews.from names environment "${spec.from}", which is not defined`, ["previews", "from"]);
  const vars = previewVariables(pr);
  const name = expandPreviewTemplate(spec.name, vars);
  if (!isDnsLabel(name)) throw fail(`the preview's name "${name}" is not a lowercase DNS label (at most 63 characters)`, ["previews", "name"]);
  if (name in config.environments) throw fail(`the preview's name "${name}" is an environment of gitward.yaml`, ["previews", "name"]);
  const namespace = spec.namespace === undefined ? undefined : expandPreviewTemplate(spec.namespace, vars);
  if (namespace !== undefined && !isDnsLabel(namespace)) throw fail(`the preview's namespace "${namespace}" is not a DNS label`, ["previews", "namespace"]);
  const stacks = Object.entries(config.stacks)
    .filter(([stack, s]) => (spec.stacks === undefined || spec.stacks.includes(stack)) && deployedTo(s, spec.from, template))
    .map(([stack]) => stack);
  const environment: EnvironmentSpec = {
    description: `Preview of pull request ${pr.number} (${pr.branch} at ${vars.sha}), from ${spec.from}`,
    vars: { ...template.vars, ...Object.fromEntries(Object.entries(spec.vars).map(([k, v]) => [k, expandPreviewTemplate(v, vars)])) },
    targets: template.targets,
    sync: previewSync,
  };
  const next: Config = {
    ...config,
    environments: { ...config.environments, [name]: environment },
    stacks: Object.fromEntries(Object.entries(config.stacks).map(([stack, s]) => [stack, withPreview(s, spec.from, name, stacks.includes(stack), namespaceFor(s, template, namespace))])),
    ...(config.policies === undefined ? {} : { policies: { ...config.policies, builtin: config.policies.builtin.map((b) => {
      const enforcement = b.environments?.[spec.from];
      return enforcement === undefined ? b : { ...b, environments: { ...b.environments, [name]: enforcement } };
    }) } }),
  };
  return {
    loaded: { ...loaded, config: next, locate: (path) => loaded.locate(templatePath(path, name, spec.from)) },
    name, from: spec.from, namespace, url: spec.url === undefined ? undefined : expandPreviewTemplate(spec.url, vars), stacks,
    ttlMs: spec.ttl === undefined ? undefined : parseDuration(spec.ttl),
  };
}

function deployedTo(stack: StackSpec, env: string, template: EnvironmentSpec): boolean {
  return template.targets[stack.target] !== undefined && stack.environments[env]?.enabled !== false;
}

/** The preview's namespace for a kubernetes stack; other providers have no namespaces. */
function namespaceFor(stack: StackSpec, template: EnvironmentSpec, namespace: string | undefined): string | undefined {
  return namespace !== undefined && template.targets[stack.target]?.provider === "kubernetes" ? namespace : undefined;
}

/** The stack with its settings for the template environment copied to the preview, or disabled there. */
function withPreview(stack: StackSpec, from: string, name: string, deployed: boolean, namespace: string | undefined): StackSpec {
  const override = stack.environments[from];
  const preview = deployed
    ? { ...(override ?? { enabled: true, vars: {} }), ...(namespace === undefined ? {} : { namespace }) }
    : { enabled: false, vars: {} };
  return { ...stack, environments: { ...stack.environments, [name]: preview } };
}

/** A key path of the preview environment is written under the template's in gitward.yaml. */
function templatePath(path: YamlPath, name: string, from: string): YamlPath {
  if (path[0] === "environments" && path[1] === name) return ["environments", from, ...path.slice(2)];
  if (path[0] === "stacks" && path[2] === "environments" && path[3] === name) return [...path.slice(0, 3), from, ...path.slice(4)];
  return path;
}
