import type { Finding } from "../check/finding.ts";
import { computePlan } from "../plan/compute-plan.ts";
import type { Plan } from "../plan/change.ts";
import { ConfigError, formatConfigIssue } from "../config/config-error.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { Commit } from "../source/types.ts";
import { evaluateRevision, type EvaluateOptions, type RevisionEvaluation } from "./evaluate-revision.ts";
import { terraformOutputs } from "./outputs.ts";

/** What planning between two revisions needs: the evaluation options, and the two revisions. */
export interface PlanOptions extends Omit<EvaluateOptions, "rev" | "asBase"> {
  /** Undefined plans against nothing: every object is created. */
  readonly base: string | undefined;
  readonly head: string;
  /** gitward's cache directory, for the working directories of Terraform plans. */
  readonly cacheDir?: string;
}

/** The outcome of planning: the plan when head rendered, and head's evaluation either way. */
export interface PlanOutcome {
  /** Undefined when head failed to render: a partial plan would show false deletes. */
  readonly plan: Plan | undefined;
  readonly head: RevisionEvaluation;
  readonly findings: readonly Finding[];
}

/**
 * The offline plan of a pull request: evaluates head (Source, Render, Check), then base,
 * and compares them. Stacks unchanged between the two render once, through the cache.
 */
export async function planRevisions(opts: PlanOptions): Promise<PlanOutcome> {
  // Outputs other stacks read: as the producers' plans leave them at head, as they are at base.
  const cache = opts.cacheDir === undefined ? {} : { cacheDir: opts.cacheDir };
  const head = await evaluateRevision({ ...opts, rev: opts.head, outputs: terraformOutputs({ planned: true, ...cache }) });
  if (head.renders.some((r) => !r.ok)) return { plan: undefined, head, findings: head.findings };
  const { verification: _unused, ...unverified } = opts;
  const base = opts.base === undefined ? undefined : await evaluateBase({ ...unverified, rev: opts.base, asBase: true, outputs: terraformOutputs({ planned: false, ...cache }) });
  const baseProblems: Finding[] = base?.problems ?? [];
  const findings = [...head.findings, ...baseProblems];
  const envs = head.config?.config.environments ?? {};
  const compared = computePlan(
    base === undefined || opts.base === undefined ? undefined : { rev: opts.base, commit: base.commit, renders: base.renders },
    { rev: opts.head, commit: head.commit, renders: head.renders },
    findings,
    head.exemptions,
    (env) => envs[env]?.sync.prune ?? true,
  );
  // Terraform stacks are planned by Terraform itself (or validated only, without credentials).
  if (!head.renders.some((r) => r.ok && r.instance.target.provider === "terraform")) return { plan: compared, head, findings };
  const { planTerraformStacks } = await import("../plan/terraform-plan.ts");
  const tf = await planTerraformStacks(compared, head.renders, {
    ...(opts.cacheDir === undefined ? {} : { cacheDir: opts.cacheDir }), ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  return { plan: tf.plan, head, findings: [...findings, ...tf.findings] };
}

/**
 * Evaluates the base of a plan. The base is already merged and may be broken (the PR under
 * review may be the fix), so its problems become warnings and what did not render is
 * compared with nothing, rather than stopping the plan.
 */
async function evaluateBase(opts: EvaluateOptions): Promise<{ commit: Commit; renders: RevisionEvaluation["renders"]; problems: Finding[] }> {
  try {
    const base = await evaluateRevision(opts);
    const problems = base.renders.filter((r) => !r.ok).map((r): Finding => ({
      severity: "warning",
      rule: "plan.base-render-failed",
      message: `at base ${opts.rev}: the stack did not render (${r.ok ? "" : r.error.message}); its objects are compared with nothing`,
      environment: r.instance.environment,
      stack: r.instance.stack,
    }));
    return { commit: base.commit, renders: base.renders, problems };
  } catch (e: unknown) {
    if (!(e instanceof GitwardError) || e.code !== ErrorCode.Config) throw e;
    const commit = await opts.source.resolve(opts.rev, opts.signal);
    const why = e instanceof ConfigError ? e.issues.map(formatConfigIssue).join("; ") : e.message;
    const problem: Finding = { severity: "warning", rule: "plan.base-invalid", message: `at base ${opts.rev}: gitward.yaml is invalid (${why}); everything is compared with nothing` };
    return { commit, renders: [], problems: [problem] };
  }
}
