import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { GitwardErrorOptions } from "../core/errors.ts";

/**
 * A problem with the state database the operator can act on: a file that is not a database,
 * a schema newer than this gitward, a lock held too long, a full disk. Reported as a
 * configuration error because the state location is the operator's setting.
 */
export function stateError(location: string, detail: string, options: GitwardErrorOptions = {}): GitwardError {
  return new GitwardError(ErrorCode.Config, `state ${location}: ${detail}`, options);
}

/** A call the store refuses because the caller passed something invalid: a bug in gitward, not the operator's. */
export function invalidCall(detail: string): GitwardError {
  return new GitwardError(ErrorCode.Internal, `store: ${detail}`);
}

/**
 * The state store could not be reached for as long as a call may wait (PostgreSQL down, a
 * failover, a partition). The write did not happen, or its outcome is unknown: a caller that
 * holds it to try again later (the agent's recorder) must make it idempotent.
 */
export class StoreUnavailableError extends GitwardError {
  constructor(location: string, detail: string, options: GitwardErrorOptions = {}) {
    super(ErrorCode.Config, `state ${location}: ${detail}`, options);
    this.name = "StoreUnavailableError";
  }
}
