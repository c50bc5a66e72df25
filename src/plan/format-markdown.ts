import type { Finding } from "../check/finding.ts";
import { formatLocation } from "../core/location.ts";
import { formatRef } from "../core/objref.ts";
import type { Change, ChangeCounts, EnvironmentPlan, Plan, RevisionInfo, StackPlan } from "./change.ts";

/** GitHub refuses comments over 65 536 characters; stay well below with room for a note. */
const maxLength = 60_000;
/** Lines of one diff, or of one new object's YAML, shown before the rest is cut. */
const maxDiffLines = 150;
const icon = { create: "🟢 create", update: "🟡 update", delete: "🔴 delete", orphan: "⚪ orphan", "no-op": "no-op" } as const;

/**
 * The plan as a pull-request comment, readable on GitHub and GitLab: a summary table per
 * environment, the findings, then per environment a collapsible section per stack that changes,
 * with its diffs and the YAML of new objects, and one line naming the stacks that do not.
 */
export function planToMarkdown(plan: Plan): string {
  const head = [
    "## gitward plan",
    "",
    `Base ${rev(plan.base)} → head ${rev(plan.head)}`,
    "",
    "| Environment | Create | Update | Delete | Orphan | Unchanged |",
    "|---|---:|---:|---:|---:|---:|",
    ...plan.environments.map((e) => `| **${e.environment}** | ${cells(e.counts)} |`),
    "",
  ];
  const findings = [findingsMarkdown(plan.findings), exemptionsMarkdown(plan)].filter((s) => s !== "").join("\n");
  const sections = plan.environments.map((e) => environmentSection(e, true));
  let body = [...head, findings, ...sections].join("\n");
  if (body.length > maxLength) {
    const compact = plan.environments.map((e) => environmentSection(e, false));
    body = [...head, findings, ...compact, "_Diffs left out: the plan is too large for one comment. Run `gitward plan` for the full output._"].join("\n");
  }
  if (body.length > maxLength) body = body.slice(0, maxLength) + "\n\n_Truncated: run `gitward plan` for the full output._";
  return body + "\n";
}

/** An environment's stacks that change, each in its own section, then one line for those that do not. */
function environmentSection(e: EnvironmentPlan, withDiffs: boolean): string {
  const changing = e.stacks.filter((s) => s.changes.length > 0 || s.note !== undefined);
  const quiet = e.stacks.filter((s) => s.changes.length === 0 && s.note === undefined).map((s) => s.stack);
  const lines = [`### ${e.environment}`, "", ...changing.map((s) => stackSection(s, withDiffs))];
  if (quiet.length > 0) lines.push(`no changes: ${quiet.join(", ")}`, "");
  for (const u of e.unread ?? []) lines.push(`⚠️ could not read stack **${u.stack}**: ${escapeCell(u.message)}`, "");
  return lines.join("\n");
}

function stackSection(s: StackPlan, withDiffs: boolean): string {
  const lines = [`<details><summary><b>${s.stack}</b> (${s.provider} target <code>${s.target}</code>): ${summaryText(s.counts)}</summary>`, ""];
  if (s.note !== undefined) lines.push(`_${escapeCell(s.note)}_`, "");
  lines.push("| Change | Object | Source |", "|---|---|---|");
  for (const c of s.changes) {
    const what = c.replace === undefined ? icon[c.action] : "🟠 **replace**";
    const why = c.replace !== undefined ? ` (${escapeCell(c.replace)})` : c.secret === "changed" ? " (secret changed)" : c.secret === "re-encrypted" ? " (re-encrypted only)" : "";
    lines.push(`| ${what} | \`${formatRef(c.ref)}\`${moved(c)}${why} | \`${formatLocation(c.source)}\` |`);
  }
  lines.push("");
  if (withDiffs) for (const c of s.changes) lines.push(...changeBlock(c));
  lines.push("</details>", "");
  return lines.join("\n");
}

/** What a change holds for a reviewer: the diff of an update, the YAML of a new object. */
function changeBlock(c: Change): string[] {
  if (c.diff !== undefined && c.diff !== "") return codeBlock(c, c.diff, "diff");
  if (c.yaml !== undefined && c.yaml !== "") return codeBlock(c, c.yaml, "yaml");
  return [];
}

function codeBlock(c: Change, text: string, language: string): string[] {
  const all = text.split("\n");
  const shown = all.slice(0, maxDiffLines);
  const cut = all.length > shown.length ? [`... ${all.length - shown.length} more lines`] : [];
  // A fence longer than any backtick run inside keeps the block from closing it early.
  const fence = "`".repeat(Math.max(3, ...(text.match(/`+/g) ?? []).map((m) => m.length + 1)));
  return [`\`${formatRef(c.ref)}\``, "", `${fence}${language}`, ...shown, ...cut, fence, ""];
}

function findingsMarkdown(findings: readonly Finding[]): string {
  if (findings.length === 0) return "";
  const rows = findings.map((f) => {
    const sev = f.severity === "error" ? "❌ error" : f.severity === "warning" ? "⚠️ warning" : "ℹ️ info";
    const obj = f.ref === undefined || f.ref.kind === "" ? "" : `\`${formatRef(f.ref)}\``;
    const where = f.location === undefined ? "" : `\`${formatLocation(f.location)}\``;
    const scope = f.environment === undefined ? "" : `${f.environment}${f.stack === undefined ? "" : `/${f.stack}`}`;
    return `| ${sev} | ${f.rule} | ${obj} | ${scope} | ${where} | ${escapeCell(f.message)} |`;
  });
  return ["#### Findings", "", "| Severity | Rule | Object | Environment/stack | Source | Message |", "|---|---|---|---|---|---|", ...rows, ""].join("\n");
}

function exemptionsMarkdown(plan: Plan): string {
  if (plan.exemptions.length === 0) return "";
  const rows = plan.exemptions.map(
    (e) => `| \`${e.policy}\` | \`${formatRef(e.ref)}\` | ${e.environment}/${e.stack} | \`${formatLocation(e.location)}\` | ${escapeCell(e.reason)} |`,
  );
  return ["#### Policy exemptions", "", "| Policy | Object | Environment/stack | Source | Reason |", "|---|---|---|---|---|", ...rows, ""].join("\n");
}

function cells(c: ChangeCounts): string {
  return [c.create, c.update, c.delete, c.orphan, c.unchanged].join(" | ");
}

function summaryText(c: ChangeCounts): string {
  const parts: string[] = [];
  if (c.create > 0) parts.push(`${c.create} to create`);
  if (c.update > 0) parts.push(`${c.update} to update`);
  if (c.delete > 0) parts.push(`${c.delete} to delete`);
  if (c.orphan > 0) parts.push(`${c.orphan} orphaned`);
  return parts.length === 0 ? "no changes" : parts.join(", ");
}

function moved(c: Change): string {
  return c.previousStack === undefined ? "" : ` (from ${c.previousStack})`;
}

function rev(r: RevisionInfo | undefined): string {
  return r === undefined ? "_(nothing)_" : `\`${r.sha.slice(0, 12)}\` (${escapeCell(r.subject)})`;
}

function escapeCell(s: string): string {
  return s.replaceAll("|", "\\|").replaceAll("\n", " ").replaceAll("<", "&lt;");
}
