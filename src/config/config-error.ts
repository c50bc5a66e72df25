import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { SourceLocation } from "../core/location.ts";
import { formatLocation } from "../core/location.ts";

/** One problem in gitward.yaml: where, which key, what. */
export interface ConfigIssue {
  readonly location: SourceLocation;
  /** Dotted key path, e.g. `stacks.web.environments.prod.path`. */
  readonly keyPath: string;
  readonly message: string;
}

/** Formats an issue as `gitward.yaml:12:7: stacks.web.path: directory not found`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = formatLocation(issue.location);
  return issue.keyPath === "" ? `${where}: ${issue.message}` : `${where}: ${issue.keyPath}: ${issue.message}`;
}

/** The error for an invalid gitward.yaml; it carries every issue found, not just the first. */
export class ConfigError extends GitwardError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(ErrorCode.Config, first === undefined ? "invalid configuration" : `${formatConfigIssue(first)}${more}`, {
      hint: "fix gitward.yaml; docs/configuration.md describes every key",
    });
    this.name = "ConfigError";
    this.issues = issues;
  }
}
