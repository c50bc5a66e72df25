import type { ActionSummary } from "../store/store.ts";

/** The marker of the one comment gitward keeps on each previewed pull request. */
export const previewMarker = "<!-- gitward:preview -->";

/** One stack of a preview, as the comment and the status show it. */
export interface PreviewStackState {
  readonly stack: string;
  readonly target: string;
  /** How its last sync (or removal) ended: succeeded, failed, refused, skipped, removed. */
  readonly result: string;
  readonly summary?: ActionSummary;
  readonly error?: string;
}

/** What the comment says about a deployed (or failed) preview. */
export interface DeployedComment {
  readonly environment: string;
  readonly sha: string;
  readonly url: string | undefined;
  readonly stacks: readonly PreviewStackState[];
  /** Why nothing was deployed (an invalid gitward.yaml, a refused head), when it was not. */
  readonly error?: string;
  readonly ttl?: string;
}

/** The pull request comment for a preview deployed at a head, or failed there. */
export function deployedComment(c: DeployedComment): string {
  const lines = [previewMarker, `### gitward preview \`${c.environment}\``, ""];
  if (c.url !== undefined) lines.push(`**Address:** ${c.url}`, "");
  lines.push(`**Head:** \`${c.sha.slice(0, 12)}\``);
  if (c.ttl !== undefined) lines.push(`Destroyed ${c.ttl} after the last push, or when the pull request closes.`);
  if (c.error !== undefined) lines.push("", `**Not deployed:** ${oneLine(c.error)}`);
  if (c.stacks.length > 0) {
    lines.push("", "| Stack | Target | Result |", "| --- | --- | --- |");
    for (const s of c.stacks) lines.push(`| ${s.stack} | ${s.target} | ${s.result}${s.error === undefined ? "" : `: ${oneLine(s.error)}`} |`);
  }
  return lines.join("\n");
}

/** The pull request comment once its preview is destroyed. */
export function destroyedComment(environment: string, sha: string, reason: string, removed: number): string {
  return [
    previewMarker, `### gitward preview \`${environment}\``, "",
    `**Destroyed** (${reason}): ${removed} object(s) removed, inventories deleted. Last deployed head: \`${sha.slice(0, 12)}\`.`,
  ].join("\n");
}

/** Text fit for one table cell: one line, no pipes, at most 300 characters. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").replace(/\|/g, "\\|").trim();
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat;
}
