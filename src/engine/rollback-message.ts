import { shortSha } from "../source/git-command.ts";
import { rollbackTrailer } from "../source/rollback-trailer.ts";
import type { RevertedCommit } from "./rollback-undo.ts";

/** What a rollback commit's message says. */
export interface RollbackMessageParts {
  /** `env` or `env/stack`. */
  readonly where: string;
  readonly environment: string;
  readonly stack: string | undefined;
  readonly reverted: readonly RevertedCommit[];
  readonly to: RevertedCommit | undefined;
  readonly paths: readonly string[];
  readonly reason: string;
}

const maxSubjectLength = 120;
const maxShasInSubject = 5;

/** The rollback commit's message: what is reverted, why, and the trailer that source's `rollbackOf` finds it by. */
export function rollbackMessage(p: RollbackMessageParts): string {
  const shas = p.reverted.slice(0, maxShasInSubject).map((c) => shortSha(c.sha)).join(", ");
  const more = p.reverted.length > maxShasInSubject ? ` and ${p.reverted.length - maxShasInSubject} more` : "";
  const head = `Rollback ${p.where}: revert ${shas}${more}`;
  let subjects = p.reverted.map((c) => c.subject).join("; ");
  const room = maxSubjectLength - head.length - 3;
  if (subjects.length > room) subjects = `${subjects.slice(0, Math.max(0, room - 1)).trimEnd()}…`;
  const body = [
    p.to === undefined
      ? `Reverts ${p.reverted.length} commit(s)${p.paths.length === 0 ? "" : `, limited to ${p.paths.join(", ")}`}:`
      : `Restores ${p.paths.length === 0 ? "the repository" : p.paths.join(", ")} to ${p.to.sha} (${p.to.subject}), undoing:`,
    ...p.reverted.map((c) => `  ${c.sha} ${c.subject}`),
  ];
  const reason = p.reason.replace(/\r\n?/g, "\n").trim();
  return `${head} (${subjects})\n\n${body.join("\n")}\n\nReason: ${reason}\n\n${rollbackTrailer({ environment: p.environment, stack: p.stack })}\n`;
}
