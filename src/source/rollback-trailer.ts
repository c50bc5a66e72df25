import type { Commit } from "./types.ts";
import { parseTrailers } from "./trailers.ts";

/** The trailer key that marks a rollback commit. */
export const rollbackTrailerKey = "Gitward-Rollback";

/** What a rollback commit rolled back: an environment, or one stack of it. */
export interface RollbackScope {
  readonly environment: string;
  /** Absent when the whole environment was rolled back (`stack=*`). */
  readonly stack?: string;
}

// The names gitward.yaml allows for environments and stacks.
const name = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The trailer line that ends a rollback commit's message: `Gitward-Rollback: env=<environment> stack=<stack or *>`. */
export function rollbackTrailer(scope: { readonly environment: string; readonly stack?: string | undefined }): string {
  return `${rollbackTrailerKey}: env=${scope.environment} stack=${scope.stack ?? "*"}`;
}

/**
 * What a commit rolled back, read from its `Gitward-Rollback` trailer (found by git's
 * trailer rules: the last paragraph of the message, other trailers such as Signed-off-by
 * beside it, the key in any case); undefined for any other commit. The value is
 * `env=<environment> stack=<stack or *>` in any order, other `key=value` words ignored;
 * `stack=*`, or no stack, means the whole environment. With several such trailers the
 * last counts; a malformed one (no environment, a name gitward.yaml would refuse, a key
 * given twice, a word that is not `key=value`) marks no rollback. The subject line is
 * never read.
 */
export function rollbackOf(commit: Pick<Commit, "message">): RollbackScope | undefined {
  const key = rollbackTrailerKey.toLowerCase();
  const trailer = parseTrailers(commit.message).findLast((t) => t.key.toLowerCase() === key);
  return trailer === undefined ? undefined : parseScope(trailer.value);
}

function parseScope(value: string): RollbackScope | undefined {
  const words = new Map<string, string>();
  for (const word of value.split(/\s+/).filter((w) => w !== "")) {
    const eq = word.indexOf("=");
    if (eq < 1) return undefined;
    const k = word.slice(0, eq);
    if (words.has(k)) return undefined;
    words.set(k, word.slice(eq + 1));
  }
  const environment = words.get("env");
  const stack = words.get("stack") ?? "*";
  if (environment === undefined || !name.test(environment)) return undefined;
  if (stack === "*") return { environment };
  return name.test(stack) ? { environment, stack } : undefined;
}
