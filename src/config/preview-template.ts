/**
 * The variables of a preview environment and how they are expanded in the `previews` section
 * of gitward.yaml: `${pr}` (the pull request's number), `${branch}` (its head branch as a DNS
 * label) and `${sha}` (the first 12 hex digits of its head). Pure, shared by the configuration
 * checks and the preview manager.
 */

/** The pull request a preview deploys, as the forge gives it. */
export interface PreviewPullRequest {
  readonly number: number;
  readonly branch: string;
  readonly sha: string;
}

/** The variables a preview template may use. */
export const previewVariableNames = ["pr", "branch", "sha"] as const;

/** The values of `${pr}`, `${branch}` and `${sha}` for one pull request. */
export function previewVariables(pr: PreviewPullRequest): Readonly<Record<(typeof previewVariableNames)[number], string>> {
  return { pr: String(pr.number), branch: branchLabel(pr.branch), sha: pr.sha.slice(0, 12).toLowerCase() };
}

/**
 * A branch name as a DNS label: lower case, every run of other characters a single `-`, no
 * `-` at either end, at most 40 characters (so that a name built around it can still fit 63).
 */
export function branchLabel(branch: string): string {
  const label = branch.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 40).replace(/^-+|-+$/g, "");
  return label === "" ? "branch" : label;
}

const reference = /\$\{([^}]*)\}/g;

/** The `${...}` names of a template that are not preview variables; empty when it is valid. */
export function unknownPreviewVariables(template: string): string[] {
  const known: readonly string[] = previewVariableNames;
  return [...template.matchAll(reference)].map((m) => m[1] ?? "").filter((n) => !known.includes(n));
}

/** Expands `${pr}`, `${branch}` and `${sha}` in a template; other text is kept as written. */
export function expandPreviewTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(reference, (whole, n: string) => vars[n] ?? whole);
}

/** A lowercase DNS label (RFC 1123), as environment names and namespaces must be. */
export function isDnsLabel(text: string): boolean {
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(text);
}

/**
 * A pattern matching every name the template can give, capturing the pull request's number:
 * how previews are found again after a restart (from history or the targets' inventories).
 */
export function previewNamePattern(template: string): RegExp {
  const parts = template.split(reference);
  // split with one capture group alternates text and variable names.
  const body = parts.map((p, i) => {
    if (i % 2 === 0) return p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return p === "pr" ? "(?<pr>[0-9]+)" : p === "sha" ? "[0-9a-f]{1,12}" : "[a-z0-9-]+";
  }).join("");
  return new RegExp(`^${body}$`);
}

/** The pull request number a preview environment's name gives, or undefined when the name is not a preview's. */
export function previewNumberOf(template: string, environment: string): number | undefined {
  const m = previewNamePattern(template).exec(environment);
  const n = m?.groups?.["pr"];
  return n === undefined ? undefined : Number(n);
}
