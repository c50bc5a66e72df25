import type { Finding } from "../check/finding.ts";
import { formatLocation } from "../core/location.ts";
import { formatRef } from "../core/objref.ts";
import { unreadCount, type Change, type ChangeCounts, type Plan, type RevisionInfo } from "./change.ts";

/** Colour functions; pass identity functions for plain text. */
export interface TextStyle {
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly red: (s: string) => string;
  readonly cyan: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
}

const symbol = { create: "+", update: "~", delete: "-", orphan: "!", "no-op": " " } as const;

/** The plan as text for a terminal or a CI log. */
export function planToText(plan: Plan, style: TextStyle): string {
  const out: string[] = [];
  out.push(style.bold(`Plan: ${rev(plan.base)} -> ${rev(plan.head)}`));
  for (const env of plan.environments) {
    out.push("", style.bold(`Environment ${env.environment}`) + style.dim(`  (${countsText(env.counts, env.unread?.length ?? 0)})`));
    for (const stack of env.stacks) {
      out.push(`  Stack ${style.cyan(stack.stack)} ${style.dim(`(${stack.provider} target ${stack.target}, ${stack.dir})`)}`);
      if (stack.note !== undefined) out.push(style.dim(`    ${stack.note}`));
      if (stack.changes.length === 0) out.push(style.dim(`    no changes (${stack.counts.unchanged} unchanged)`));
      for (const c of stack.changes) out.push(...changeLines(c, style));
    }
    for (const u of env.unread ?? []) out.push(`  Stack ${style.cyan(u.stack)} ${style.red("could not be read")}: ${u.message.split("\n")[0] ?? ""}`);
  }
  const notes = (findingsText(plan.findings, style) + exemptionsText(plan.exemptions, style)).trimEnd();
  out.push("", notes, ...(notes === "" ? [] : [""]), style.bold(`Summary: ${countsText(plan.counts, unreadCount(plan))}`));
  return out.filter((l, i, a) => !(l === "" && a[i - 1] === "")).join("\n") + "\n";
}

function changeLines(c: Change, style: TextStyle): string[] {
  const paint = c.action === "create" ? style.green : c.action === "update" ? style.yellow : style.red;
  const moved = c.previousStack === undefined ? "" : ` (moved from stack ${c.previousStack})`;
  const orphan = c.action === "orphan" ? " (kept: not pruned)" : c.replace !== undefined ? ` ${style.red(`(replace: ${c.replace})`)}` : "";
  const secret = c.secret === undefined ? "" : ` ${style.yellow(c.secret === "changed" ? "(secret changed)" : "(re-encrypted only)")}`;
  const lines = [`    ${paint(`${symbol[c.action]} ${formatRef(c.ref)}`)}  ${style.dim(formatLocation(c.source))}${moved}${orphan}${secret}`];
  if (c.diff !== undefined && c.diff !== "") {
    for (const l of c.diff.split("\n")) {
      const painted = l.startsWith("+") ? style.green(l) : l.startsWith("-") ? style.red(l) : l.startsWith("@@") ? style.cyan(l) : style.dim(l);
      lines.push(`        ${painted}`);
    }
  }
  return lines;
}

/** Findings as text lines, worst first; empty string when there are none. */
export function findingsText(findings: readonly Finding[], style: TextStyle): string {
  if (findings.length === 0) return "";
  const lines = findings.map((f) => {
    const sev = f.severity === "error" ? style.red("error") : f.severity === "warning" ? style.yellow("warning") : style.dim("info");
    const where = f.location === undefined ? "" : `${formatLocation(f.location)}: `;
    const what = f.ref === undefined || f.ref.kind === "" ? "" : `${formatRef(f.ref)}: `;
    const scope = f.environment === undefined ? "" : style.dim(` [${f.environment}/${f.stack ?? ""}]`);
    const hint = f.hint === undefined ? "" : `\n  ${style.dim("hint")}: ${f.hint}`;
    return `${where}${sev}: ${what}${f.message} (${f.rule})${scope}${hint}`;
  });
  return lines.join("\n") + "\n";
}

/** Policy exemptions as text lines; empty string when there are none. */
export function exemptionsText(exemptions: Plan["exemptions"], style: TextStyle): string {
  if (exemptions.length === 0) return "";
  const lines = exemptions.map(
    (e) => `${formatLocation(e.location)}: ${style.yellow("exempt")}: ${formatRef(e.ref)} from ${e.policy}: ${e.reason}${style.dim(` [${e.environment}/${e.stack}]`)}`,
  );
  return lines.join("\n") + "\n";
}

/**
 * `2 to create, 1 to update, 0 to delete, 5 unchanged`, then `; could not read 1 stack(s)` when
 * `unread` stacks are in no count. Counts that are all zero because nothing could be read are
 * left out: they would read as "nothing to do".
 */
export function countsText(c: ChangeCounts, unread = 0): string {
  const parts = [`${c.create} to create`, `${c.update} to update`, `${c.delete} to delete`];
  if (c.orphan > 0) parts.push(`${c.orphan} orphaned`);
  parts.push(`${c.unchanged} unchanged`);
  if (unread === 0) return parts.join(", ");
  const unreadText = `could not read ${unread} stack(s)`;
  return c.create + c.update + c.delete + c.orphan + c.unchanged === 0 ? unreadText : `${parts.join(", ")}; ${unreadText}`;
}

function rev(r: RevisionInfo | undefined): string {
  return r === undefined ? "(nothing)" : `${r.rev} (${r.sha.slice(0, 12)})`;
}
