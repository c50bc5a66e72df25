import { ErrorCode, GitwardError } from "../../../core/errors.ts";

/**
 * The code of a failure the target root answered with (permission denied, disk full, a corrupt
 * state file). ErrorCode has no code for targets yet; `cluster` ("answered with an error") is
 * the closest, and keeping the choice here makes it one edit to change.
 */
export const targetErrorCode = ErrorCode.Cluster;

/** The errno code of a Node.js system error (`ENOENT`), or undefined for anything else. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** True when the error is one of the given errno codes. */
export function isErrno(e: unknown, ...codes: readonly string[]): boolean {
  const code = errnoCode(e);
  return code !== undefined && codes.includes(code);
}

/**
 * Wraps a file system failure as a GitwardError that names the path and the action:
 * `conf.d/a.conf: cannot write: EACCES: permission denied, open '…'`. A GitwardError passes through.
 */
export function ioError(path: string, action: string, cause: unknown): GitwardError {
  if (cause instanceof GitwardError) return cause;
  return new GitwardError(targetErrorCode, `${path}: cannot ${action}`, { cause });
}
