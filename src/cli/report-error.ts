import { GitwardError } from "../core/errors.ts";
import { ConfigError, formatConfigIssue } from "../config/config-error.ts";
import type { Colors } from "./colors.ts";

/**
 * Prints an error for a person: one line with the cause (every issue for a bad
 * gitward.yaml), a hint line, and the stack trace only with --debug.
 */
export function reportError(e: unknown, debug: boolean, colors: Colors, write: (s: string) => void): void {
  if (e instanceof ConfigError) {
    for (const issue of e.issues) write(`${colors.red("error")}: ${formatConfigIssue(issue)}\n`);
  } else if (e instanceof GitwardError) {
    write(`${colors.red("error")}: ${e.message}\n`);
  } else {
    const msg = e instanceof Error ? e.message : String(e);
    write(`${colors.red("error")}: internal error: ${msg}\n`);
    if (!debug) write(`${colors.dim("hint")}: run again with --debug for details, and report it\n`);
  }
  if (e instanceof GitwardError && e.hint !== undefined) write(`${colors.dim("hint")}: ${e.hint}\n`);
  if (debug && e instanceof Error && e.stack !== undefined) write(`${e.stack}\n`);
}
