import { compareFindings } from "../check/finding.ts";
import { ConfigError, formatConfigIssue } from "../config/config-error.ts";
import { GitwardError } from "../core/errors.ts";
import { planRevisions, type PlanOptions } from "../engine/plan-revisions.ts";
import type { PlanResult } from "./statuses.ts";

/** What planning a pull request gave, and the head commit it planned (undefined when head could not be resolved). */
export interface PullRequestPlan {
  readonly result: PlanResult;
  readonly headSha: string | undefined;
}

/**
 * Plans base → head as `gitward plan` does, but turns every reason for having no plan (head did
 * not render, an invalid gitward.yaml at head, a revision missing from the clone) into a
 * {@link PlanResult} the comment and the statuses report, rather than an exception. Only
 * unexpected (internal) errors still throw. `environments` are those to fail when head names none.
 */
export async function planPullRequest(opts: PlanOptions, environments: readonly string[]): Promise<PullRequestPlan> {
  try {
    const outcome = await planRevisions(opts);
    const findings = [...outcome.findings].sort(compareFindings);
    if (outcome.plan !== undefined) return { result: { ok: true, plan: { ...outcome.plan, findings } }, headSha: outcome.plan.head.sha };
    const failedStacks = new Map<string, string[]>();
    for (const inst of outcome.head.instances) if (!failedStacks.has(inst.environment)) failedStacks.set(inst.environment, []);
    for (const r of outcome.head.renders) if (!r.ok) failedStacks.get(r.instance.environment)?.push(r.instance.stack);
    const broken = [...failedStacks].filter(([, s]) => s.length > 0).map(([e]) => e);
    const reason = `head ${outcome.head.commit.sha.slice(0, 12)} did not render in ${broken.join(", ")}`;
    return { result: { ok: false, reason, environments: [...failedStacks.keys()], failedStacks, findings }, headSha: outcome.head.commit.sha };
  } catch (e: unknown) {
    if (!(e instanceof GitwardError)) throw e;
    const reason = e instanceof ConfigError ? `gitward.yaml at head is invalid: ${e.issues.map(formatConfigIssue).join("; ")}` : e.message;
    let headSha: string | undefined;
    try {
      headSha = (await opts.source.resolve(opts.head, opts.signal)).sha;
    } catch {
      headSha = undefined; // the head itself is what failed; the caller says so
    }
    return { result: { ok: false, reason, environments, failedStacks: new Map(), findings: [] }, headSha };
  }
}
