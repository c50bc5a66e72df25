import type { Finding } from "../check/finding.ts";
import type { CommitStatus } from "../forge/forge.ts";
import { hasChanges, type ChangeCounts, type Plan } from "../plan/change.ts";
import { POLICY_RULE_PREFIX } from "../policy/index.ts";

/**
 * What planning a pull request gave: a plan, or why none was made (head did not render, its
 * gitward.yaml is invalid, a revision is missing), with the environments that then all fail.
 */
export type PlanResult =
  | { readonly ok: true; readonly plan: Plan }
  | {
      readonly ok: false;
      /** One line: why there is no plan. */
      readonly reason: string;
      /** The environments to mark failed: those head names, or those asked for with `-e`. */
      readonly environments: readonly string[];
      /** Environment → the stacks that did not render there. */
      readonly failedStacks: ReadonlyMap<string, readonly string[]>;
      readonly findings: readonly Finding[];
    };

/** One commit status gitward sets, and the environment it is about (undefined: the whole plan). */
export interface EnvironmentStatus {
  readonly environment: string | undefined;
  readonly status: CommitStatus;
}

/**
 * The context of an environment's plan status, the name branch protection requires:
 * `gitward/plan/<env>`, or `gitward/plan/<id>/<env>` with `--marker-id` (several repositories
 * or configurations in one pull request must not overwrite each other's statuses).
 */
export function statusContext(environment: string | undefined, markerId?: string): string {
  const base = markerId === undefined ? "gitward/plan" : `gitward/plan/${markerId}`;
  return environment === undefined ? base : `${base}/${environment}`;
}

/** GitHub cuts descriptions at 140 characters; every forge gets the same short line. */
const maxDescription = 140;

/**
 * The commit statuses of a plan, one per environment: `success` with "no changes" or the
 * counts, `failure` when the environment has error findings (policy denials named apart) or
 * the plan could not be made. With no plan and no environment known, one `gitward/plan` status.
 */
export function planStatuses(result: PlanResult, opts: { targetUrl?: string | undefined; markerId?: string | undefined } = {}): EnvironmentStatus[] {
  const make = (environment: string | undefined, state: CommitStatus["state"], description: string): EnvironmentStatus => ({
    environment,
    status: { context: statusContext(environment, opts.markerId), state, description: cut(description), ...(opts.targetUrl === undefined ? {} : { targetUrl: opts.targetUrl }) },
  });
  if (!result.ok) {
    if (result.environments.length === 0) return [make(undefined, "failure", `no plan: ${result.reason}`)];
    return result.environments.map((env) => {
      const stacks = result.failedStacks.get(env) ?? [];
      const why = stacks.length > 0 ? `did not render: ${stacks.join(", ")}` : `no plan: ${result.reason}`;
      return make(env, "failure", why);
    });
  }
  return result.plan.environments.map((e) => {
    const errors = errorsOf(result.plan.findings, e.environment);
    if (errors.length > 0) return make(e.environment, "failure", errorText(errors));
    if ((e.unread?.length ?? 0) > 0) return make(e.environment, "failure", `could not read: ${(e.unread ?? []).map((u) => u.stack).join(", ")}`);
    return make(e.environment, "success", hasChanges(e.counts) ? countsText(e.counts) : "no changes");
  });
}

/** The error findings that fail an environment: its own, and those about no environment (they fail every one). */
export function errorsOf(findings: readonly Finding[], environment: string): Finding[] {
  return findings.filter((f) => f.severity === "error" && (f.environment === undefined || f.environment === environment));
}

/** "3 to create, 1 to update, 0 to delete". */
export function countsText(c: ChangeCounts): string {
  return `${c.create} to create, ${c.update} to update, ${c.delete} to delete`;
}

function errorText(errors: readonly Finding[]): string {
  const denials = errors.filter((f) => f.rule.startsWith(POLICY_RULE_PREFIX));
  const others = errors.length - denials.length;
  const parts: string[] = [];
  if (denials.length > 0) {
    const names = [...new Set(denials.map((f) => f.rule.slice(POLICY_RULE_PREFIX.length)))];
    parts.push(`${denials.length} policy denial${denials.length === 1 ? "" : "s"} (${names.join(", ")})`);
  }
  if (others > 0) parts.push(`${others} error finding${others === 1 ? "" : "s"}`);
  return parts.join(", ");
}

function cut(s: string): string {
  return s.length <= maxDescription ? s : `${s.slice(0, maxDescription - 1)}…`;
}
