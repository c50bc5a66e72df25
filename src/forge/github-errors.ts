/**
 * GitHub's failures as {@link ForgeError}s: the kind from the HTTP status (and, for 403 and 429,
 * from the rate-limit headers that tell a rate limit from a missing permission), the message
 * naming the call and the repository, and the token never in it.
 */
import { ForgeError, ForgeErrorKind, forgeErrorKindOf } from "./forge.ts";

/** Where a failure happened: the repository (`acme/infra`) and the call (`listing reviews of #42`). */
export interface GitHubCallContext {
  readonly repository: string;
  readonly apiUrl: string;
  /** Scrubbed from every message, in case a library ever echoes it. */
  readonly token: string;
}

/** Whether a 403 or 429 answer is GitHub's primary or secondary rate limit rather than a refusal. */
export function isRateLimit(status: number, headers: Readonly<Record<string, unknown>>, message: string): boolean {
  if (status !== 403 && status !== 429) return false;
  return headers["x-ratelimit-remaining"] === "0" || headers["retry-after"] !== undefined || /rate limit/i.test(message);
}

/** `e`, thrown by Octokit during `action`, as a ForgeError. */
export function gitHubError(ctx: GitHubCallContext, action: string, e: unknown): ForgeError {
  if (e instanceof ForgeError) return e;
  const where = `GitHub ${ctx.repository}: ${action}`;
  const scrub = (text: string): string => (ctx.token === "" ? text : text.replaceAll(ctx.token, "***"));
  const http = httpErrorOf(e);
  if (http?.response !== undefined) {
    const { status } = http;
    const data: unknown = http.response.data;
    const said = typeof data === "object" && data !== null && "message" in data && typeof data.message === "string" ? data.message : "";
    const kind = kindOf(status, http.response.headers, said);
    const detail = kind === ForgeErrorKind.RateLimited ? rateLimitDetail(said, http.response.headers) : said;
    return new ForgeError(kind, scrub(`${where}: ${status}${detail === "" ? "" : ` ${detail}`}`), { status, cause: e });
  }
  // No answer: Octokit reports connection failures, DNS and timeouts as a RequestError without a response.
  const reason = e instanceof Error ? e.message : String(e);
  if (http !== undefined || (e instanceof Error && (e.name === "AbortError" || e.name === "TimeoutError"))) {
    return new ForgeError(ForgeErrorKind.Unreachable, scrub(`${where}: no answer from ${ctx.apiUrl}: ${reason}`), { cause: e });
  }
  return new ForgeError(ForgeErrorKind.Invalid, scrub(`${where}: unreadable answer: ${reason}`), { cause: e });
}

/** Octokit's RequestError (named HttpError), read by its shape so that no transitive package is imported. */
interface HttpError {
  readonly status: number;
  readonly response?: { readonly data: unknown; readonly headers: Readonly<Record<string, unknown>> } | undefined;
}

function httpErrorOf(e: unknown): HttpError | undefined {
  if (!(e instanceof Error) || e.name !== "HttpError" || !("status" in e) || typeof e.status !== "number") return undefined;
  return e as Error & HttpError;
}

function kindOf(status: number, headers: Readonly<Record<string, unknown>>, message: string): ForgeErrorKind {
  // GitHub answers a rate limit with 403 as well as 429.
  return status !== 401 && isRateLimit(status, headers, message) ? ForgeErrorKind.RateLimited : forgeErrorKindOf(status);
}

/** The rate limit's message, with when it lifts, as GitHub's headers say. */
function rateLimitDetail(message: string, headers: Readonly<Record<string, unknown>>): string {
  const reset = Number(headers["x-ratelimit-reset"]);
  const retryAfter = Number(headers["retry-after"]);
  const when = Number.isFinite(retryAfter) && retryAfter > 0
    ? ` (retry after ${retryAfter} s)`
    : Number.isFinite(reset) && reset > 0 ? ` (resets at ${new Date(reset * 1000).toISOString()})` : "";
  return `${message === "" ? "rate limited" : message}${when}`;
}
