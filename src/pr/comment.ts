import type { ForgeKind } from "../forge/forge.ts";
import type { Plan } from "../plan/change.ts";
import { planToMarkdown } from "../plan/format-markdown.ts";
import { planToText } from "../plan/format-text.ts";
import type { PlanResult } from "./statuses.ts";
import { budget, escapeCell, findingsTable, planSummaryMarkdown } from "./summary.ts";

/**
 * The most characters a comment may have on each forge: GitHub refuses bodies over 65,536
 * characters; GitLab notes stop at 1,000,000; Gitea documents no limit (its API description
 * has none and the column is LONGTEXT), so it gets GitHub's, which its web UI handles well.
 */
export const commentLimits: Readonly<Record<ForgeKind, number>> = { github: 65_536, gitlab: 1_000_000, gitea: 65_536 };

/** The hidden marker that finds gitward's plan comment again: `<!-- gitward:plan -->` or `<!-- gitward:plan:ID -->`. */
export function planMarker(markerId?: string): string {
  return markerId === undefined ? "<!-- gitward:plan -->" : `<!-- gitward:plan:${markerId} -->`;
}

/** What `--marker-id` may be: it goes into an HTML comment and a status context. */
export const markerIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The comment to post and the full plan for the artifact. */
export interface PlanComment {
  /** The comment, marker first, within the forge's limit. */
  readonly body: string;
  /** True when the plan did not fit and `body` is the summary. */
  readonly summarized: boolean;
  /** The whole plan as markdown, for `--plan-file`. */
  readonly fullPlan: string;
}

/** What {@link planComment} needs besides the result. */
export interface PlanCommentOptions {
  readonly marker: string;
  /** The forge's limit, or `--max-comment-chars`. */
  readonly limit: number;
  /** Where the full plan will be, said by the summary: e.g. "the CI artifact `gitward-plan.md`". */
  readonly fullPlanAt: string;
}

/** Notes planToMarkdown adds when it had to leave diffs out or cut: the plan did not fit its own limit. */
const degradedNotes = ["_Diffs left out: the plan is too large for one comment.", "_Truncated: run `gitward plan` for the full output._"];

/**
 * The plan comment: the markdown plan when it fits in `limit` whole, else a summary per
 * environment and stack that points to the full plan; for a plan that could not be made, why,
 * with the error findings.
 */
export function planComment(result: PlanResult, opts: PlanCommentOptions): PlanComment {
  const room = opts.limit - opts.marker.length - 1;
  if (!result.ok) {
    const text = failureMarkdown(result, room);
    return { body: `${opts.marker}\n${text}`, summarized: false, fullPlan: failureMarkdown(result, Number.MAX_SAFE_INTEGER) };
  }
  const md = planToMarkdown(result.plan);
  const degraded = degradedNotes.some((n) => md.includes(n));
  if (!degraded && md.length <= room) return { body: `${opts.marker}\n${md}`, summarized: false, fullPlan: md };
  const summary = planSummaryMarkdown(result.plan, { limit: room, fullPlanAt: opts.fullPlanAt });
  return { body: `${opts.marker}\n${summary}`, summarized: true, fullPlan: degraded ? fullPlanDocument(result.plan) : md };
}

/**
 * The whole plan for the artifact when planToMarkdown had to cut it: the summary, then the
 * text plan, which has every diff, in a code block.
 */
export function fullPlanDocument(plan: Plan): string {
  const summary = planSummaryMarkdown(plan, { limit: Number.MAX_SAFE_INTEGER, fullPlanAt: "this file, below" });
  const text = planToText(plan, { green: String, yellow: String, red: String, cyan: String, dim: String, bold: String });
  const fence = "`".repeat(Math.max(3, ...(text.match(/`+/g) ?? []).map((m) => m.length + 1)));
  return `${summary}\n## Full plan\n\n${fence}text\n${text}${fence}\n`;
}

function failureMarkdown(result: Extract<PlanResult, { ok: false }>, limit: number): string {
  const b = budget(limit);
  b.add("## gitward plan", 0);
  b.add("", 0);
  b.add(`❌ **No plan was made**: ${escapeCell(result.reason)}`, 0);
  b.add("", 0);
  const failed = [...result.failedStacks].filter(([, stacks]) => stacks.length > 0);
  b.table(
    ["| Environment | Stacks that did not render |", "|---|---|"],
    failed.map(([env, stacks]) => `| **${env}** | ${stacks.join(", ")} |`),
    "environments",
  );
  findingsTable(b, result.findings.filter((f) => f.severity === "error"));
  return b.text();
}
