import type { YamlPath } from "../core/yaml-positions.ts";
import type { Config } from "./schema.ts";
import { expandPreviewTemplate, isDnsLabel, previewNamePattern, previewVariables, unknownPreviewVariables } from "./preview-template.ts";

/** A reference in gitward.yaml that points nowhere, or a cycle. */
export interface ReferenceIssue {
  readonly path: YamlPath;
  readonly message: string;
}

/**
 * Checks what the schema alone cannot: names that refer to other entries (promoteFrom,
 * dependsOn, targets, per-environment overrides) exist, agree, and form no cycle.
 */
export function checkReferences(config: Config): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  const envNames = Object.keys(config.environments);
  for (const [env, spec] of Object.entries(config.environments)) {
    if (spec.promoteFrom !== undefined && !(spec.promoteFrom in config.environments)) {
      issues.push({ path: ["environments", env, "promoteFrom"], message: `environment "${spec.promoteFrom}" is not defined` });
    }
  }
  const promoteCycle = findCycle(envNames, (e) => {
    const from = config.environments[e]?.promoteFrom;
    return from === undefined ? [] : [from];
  });
  if (promoteCycle !== undefined) {
    issues.push({ path: ["environments", promoteCycle[0] ?? "", "promoteFrom"], message: `promotion cycle: ${promoteCycle.join(" -> ")}` });
  }
  for (const [env, spec] of Object.entries(config.environments)) {
    (spec.approvals?.from ?? []).forEach((g, i) => {
      if (!(g in config.groups)) issues.push({ path: ["environments", env, "approvals", "from", i], message: `group "${g}" is not defined under groups:` });
    });
    if (spec.approvals !== undefined && spec.approvals.required > 0 && spec.approvals.from.length === 0) {
      issues.push({ path: ["environments", env, "approvals", "from"], message: "approvals.required is set, and from names no group whose approvals count" });
    }
  }
  for (const [name, stack] of Object.entries(config.stacks)) issues.push(...stackIssues(config, name, stack));
  const depCycle = findCycle(Object.keys(config.stacks), (s) => config.stacks[s]?.dependsOn ?? []);
  if (depCycle !== undefined) {
    issues.push({ path: ["stacks", depCycle[0] ?? "", "dependsOn"], message: `dependency cycle: ${depCycle.join(" -> ")}` });
  }
  issues.push(...previewIssues(config));
  return issues;
}

/** The `previews` section: its template environment and stacks exist, its templates give valid names. */
function previewIssues(config: Config): ReferenceIssue[] {
  const previews = config.previews;
  if (previews === undefined) return [];
  const issues: ReferenceIssue[] = [];
  const template = config.environments[previews.from];
  if (template === undefined) issues.push({ path: ["previews", "from"], message: `environment "${previews.from}" is not defined` });
  const templates: [YamlPath, string][] = [
    [["previews", "name"], previews.name],
    ...(previews.namespace === undefined ? [] : [[["previews", "namespace"], previews.namespace] as [YamlPath, string]]),
    ...(previews.url === undefined ? [] : [[["previews", "url"], previews.url] as [YamlPath, string]]),
    ...Object.entries(previews.vars).map(([k, v]): [YamlPath, string] => [["previews", "vars", k], v]),
  ];
  for (const [path, text] of templates) {
    const unknown = unknownPreviewVariables(text);
    if (unknown.length > 0) issues.push({ path, message: `unknown variable \${${unknown[0] ?? ""}}: a preview template may use \${pr}, \${branch} and \${sha}` });
  }
  // A sample pull request shows whether names come out as DNS labels.
  const sample = previewVariables({ number: 12345, branch: "feature", sha: "0123456789abcdef" });
  if (!previews.name.includes("${pr}")) {
    issues.push({ path: ["previews", "name"], message: "must contain ${pr}, so that each pull request gets its own environment" });
  } else if (!isDnsLabel(expandPreviewTemplate(previews.name, sample))) {
    issues.push({ path: ["previews", "name"], message: `must give a lowercase DNS label (a-z, 0-9, '-'; at most 63), and gives "${expandPreviewTemplate(previews.name, sample)}" for pull request 12345` });
  } else {
    const pattern = previewNamePattern(previews.name);
    for (const env of Object.keys(config.environments)) {
      if (pattern.test(env)) issues.push({ path: ["environments", env], message: `the name of environment "${env}" is one previews.name can give: rename one of them` });
    }
  }
  if (previews.namespace !== undefined && !isDnsLabel(expandPreviewTemplate(previews.namespace, sample))) {
    issues.push({ path: ["previews", "namespace"], message: "must give a lowercase DNS label (a Kubernetes namespace name)" });
  }
  // Credentials for previews are keyed previews/<target> in the agent configuration.
  if ("previews" in config.environments) issues.push({ path: ["environments", "previews"], message: "an environment cannot be named previews while previews: is set (the agent keys preview credentials previews/<target>)" });
  (previews.stacks ?? []).forEach((stack, i) => {
    const spec = config.stacks[stack];
    if (spec === undefined) issues.push({ path: ["previews", "stacks", i], message: `stack "${stack}" is not defined` });
    else if (template !== undefined && (template.targets[spec.target] === undefined || spec.environments[previews.from]?.enabled === false)) {
      issues.push({ path: ["previews", "stacks", i], message: `stack "${stack}" is not deployed to environment "${previews.from}", the previews' template` });
    }
  });
  return issues;
}

function stackIssues(config: Config, name: string, stack: Config["stacks"][string]): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  const providers = new Set<string>();
  for (const spec of Object.values(config.environments)) {
    const target = spec.targets[stack.target];
    if (target !== undefined) providers.add(target.provider);
  }
  if (providers.size === 0) {
    issues.push({ path: ["stacks", name, "target"], message: `target "${stack.target}" is not defined in any environment` });
  } else if (providers.size > 1) {
    issues.push({ path: ["stacks", name, "target"], message: `target "${stack.target}" has different providers across environments (${[...providers].join(", ")})` });
  }
  for (const [env, override] of Object.entries(stack.environments)) {
    const envSpec = config.environments[env];
    if (envSpec === undefined) {
      issues.push({ path: ["stacks", name, "environments", env], message: `environment "${env}" is not defined` });
    } else if (override.enabled && envSpec.targets[stack.target] === undefined) {
      issues.push({ path: ["stacks", name, "environments", env], message: `environment "${env}" has no target "${stack.target}"` });
    }
  }
  stack.dependsOn.forEach((dep, i) => {
    if (!(dep in config.stacks)) issues.push({ path: ["stacks", name, "dependsOn", i], message: `stack "${dep}" is not defined` });
    if (dep === name) issues.push({ path: ["stacks", name, "dependsOn", i], message: "a stack cannot depend on itself" });
  });
  return issues;
}

/** Returns one cycle as a list of names (first repeated at the end), or undefined. */
function findCycle(nodes: readonly string[], edges: (n: string) => readonly string[]): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "visiting") return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, "visiting");
    stack.push(n);
    for (const m of edges(n)) {
      if (!nodes.includes(m) || m === n) continue;
      const found = visit(m);
      if (found !== undefined) return found;
    }
    stack.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of nodes) {
    const found = visit(n);
    if (found !== undefined) return found;
  }
  return undefined;
}
