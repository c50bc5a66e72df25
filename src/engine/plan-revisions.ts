import type { Finding } from "../check/finding.ts";
import { computePlan } from "../plan/compute-plan.ts";
import type { Plan } from "../plan/change.ts";
import { evaluateRevision, type EvaluateOptions, type RevisionEvaluation } from "./evaluate-revision.ts";

/** What planning between two revisions needs: the evaluation options, and the two revisions. */
export interface PlanOptions extends Omit<EvaluateOptions, "rev" | "allowMissingConfig"> {
  /** Undefined plans against nothing: every object is created. */
  readonly base: string | undefined;
  readonly head: string;
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
  const head = await evaluateRevision({ ...opts, rev: opts.head });
  if (head.renders.some((r) => !r.ok)) return { plan: undefined, head, findings: head.findings };
  // The base is already merged; only the proposed head must carry a trusted signature.
  const { verification: _unused, ...unverified } = opts;
  const base = opts.base === undefined ? undefined : await evaluateRevision({ ...unverified, rev: opts.base, allowMissingConfig: true });
  const baseProblems: Finding[] = (base?.renders ?? [])
    .filter((r) => !r.ok)
    .map((r) => ({
      severity: "warning" as const,
      rule: "plan.base-render-failed",
      message: `stack failed to render at base (${r.ok ? "" : r.error.message}); its objects are compared with nothing`,
      environment: r.instance.environment,
      stack: r.instance.stack,
    }));
  const findings = [...head.findings, ...baseProblems];
  const envs = head.config?.config.environments ?? {};
  const plan = computePlan(
    base === undefined || opts.base === undefined ? undefined : { rev: opts.base, commit: base.commit, renders: base.renders },
    { rev: opts.head, commit: head.commit, renders: head.renders },
    findings,
    (env) => envs[env]?.sync.prune ?? true,
  );
  return { plan, head, findings };
}
