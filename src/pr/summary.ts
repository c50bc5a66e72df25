import type { Finding } from "../check/finding.ts";
import { formatRef } from "../core/objref.ts";
import type { ChangeCounts, Plan, RevisionInfo } from "../plan/change.ts";

/** Room kept for the "… N more" line a cut table ends with. */
const reserve = 200;

/**
 * Lines added while they fit in a character budget; a table that does not fit ends with a
 * line saying how many rows were left out, so the summary never silently drops anything.
 */
class Budget {
  readonly lines: string[] = [];
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Adds a line when it fits (keeping `keep` characters free); false when it does not. */
  add(line: string, keep = reserve): boolean {
    if (this.#used + line.length + 1 > this.limit - keep) return false;
    this.lines.push(line);
    this.#used += line.length + 1;
    return true;
  }

  /** Adds rows until one does not fit, then a line naming how many were left out. */
  table(header: readonly string[], rows: readonly string[], what: string): void {
    if (rows.length === 0) return;
    if (!header.every((h) => this.add(h))) return;
    let shown = 0;
    for (const row of rows) {
      if (!this.add(row)) break;
      shown++;
    }
    if (shown < rows.length) this.add(`\n_… and ${rows.length - shown} more ${what}: see the full plan._`, 0);
    this.add("", 0);
  }
}

/** What the summary says besides the plan: where the full plan is. */
export interface SummaryOptions {
  /** The most characters the summary may have. */
  readonly limit: number;
  /** Where the full plan is, e.g. "the CI artifact `gitward-plan.md`". */
  readonly fullPlanAt: string;
}

/**
 * The plan as a short comment, for a plan too large for one: the counts per environment, the
 * findings and exemptions, and per environment one row of counts per stack that changes; no
 * diffs. Stays within `limit`, cutting long tables with a line saying what was left out.
 */
export function planSummaryMarkdown(plan: Plan, opts: SummaryOptions): string {
  const b = new Budget(opts.limit);
  b.add("## gitward plan (summary)", 0);
  b.add("", 0);
  b.add(`Base ${rev(plan.base)} → head ${rev(plan.head)}`, 0);
  b.add("", 0);
  b.add(`The full plan is too large for one comment: it is in ${opts.fullPlanAt}.`, 0);
  b.add("", 0);
  b.table(
    ["| Environment | Create | Update | Delete | Orphan | Unchanged |", "|---|---:|---:|---:|---:|---:|"],
    plan.environments.map((e) => `| **${e.environment}** | ${cells(e.counts)} |`),
    "environments",
  );
  findingsTable(b, plan.findings);
  b.table(
    [`#### Policy exemptions (${plan.exemptions.length})`, "", "| Policy | Object | Environment/stack | Reason |", "|---|---|---|---|"],
    plan.exemptions.map((e) => `| \`${e.policy}\` | \`${formatRef(e.ref)}\` | ${e.environment}/${e.stack} | ${escapeCell(e.reason)} |`),
    "exemptions",
  );
  for (const e of plan.environments) {
    const changing = e.stacks.filter((s) => s.changes.length > 0);
    if (!b.add(`### ${e.environment}`) || !b.add("")) break;
    b.table(
      ["| Stack | Create | Update | Delete | Orphan | Unchanged |", "|---|---:|---:|---:|---:|---:|"],
      changing.map((s) => `| ${s.stack} | ${cells(s.counts)} |`),
      `changing stacks in ${e.environment}`,
    );
    const quiet = e.stacks.length - changing.length;
    b.add(`${quiet} stack${quiet === 1 ? "" : "s"} without changes.${(e.unread?.length ?? 0) > 0 ? ` ⚠️ ${e.unread?.length} could not be read.` : ""}`);
    b.add("");
  }
  return b.lines.join("\n").trimEnd() + "\n";
}

/** The findings as a table cut to the budget, errors first (the caller sorts them). */
export function findingsTable(b: { table: Budget["table"] }, findings: readonly Finding[]): void {
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.filter((f) => f.severity === "warning").length;
  b.table(
    [`#### Findings (${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"})`, "", "| Severity | Rule | Object | Environment/stack | Message |", "|---|---|---|---|---|"],
    findings.map((f) => {
      const sev = f.severity === "error" ? "❌ error" : f.severity === "warning" ? "⚠️ warning" : "ℹ️ info";
      const obj = f.ref === undefined || f.ref.kind === "" ? "" : `\`${formatRef(f.ref)}\``;
      const scope = f.environment === undefined ? "" : `${f.environment}${f.stack === undefined ? "" : `/${f.stack}`}`;
      return `| ${sev} | ${f.rule} | ${obj} | ${scope} | ${escapeCell(f.message)} |`;
    }),
    "findings",
  );
}

/** A budgeted list of lines, for other comment bodies that must fit a limit. */
export function budget(limit: number): { add: Budget["add"]; table: Budget["table"]; text: () => string } {
  const b = new Budget(limit);
  return { add: (l, k) => b.add(l, k), table: (h, r, w) => b.table(h, r, w), text: () => b.lines.join("\n").trimEnd() + "\n" };
}

function cells(c: ChangeCounts): string {
  return [c.create, c.update, c.delete, c.orphan, c.unchanged].join(" | ");
}

function rev(r: RevisionInfo | undefined): string {
  return r === undefined ? "_(nothing)_" : `\`${r.sha.slice(0, 12)}\` (${escapeCell(r.subject)})`;
}

/** Text safe in a markdown table cell. */
export function escapeCell(s: string): string {
  return s.replaceAll("|", "\\|").replaceAll("\n", " ").replaceAll("<", "&lt;");
}
