/**
 * The HTTP layer under gitbeaker for the GitLab client (`gitlab.ts`). gitbeaker's own requester
 * retries only 429 and 502, always ten times, a quarter of a millisecond apart and without
 * reading `Retry-After`; it never retries a 503, a 504 or a dropped connection, and its one
 * `queryTimeout` signal spans every page and retry of a call. This requester keeps gitbeaker's
 * request shape (URL, query, JSON body, auth headers) and replaces those policies: at most
 * `retries` retries of a 429, a 5xx or a network failure, waiting what GitLab asks for
 * (`Retry-After`, else `RateLimit-Reset`) or a doubling backoff, never more than 60 s, and one
 * timeout per attempt. What still fails is thrown as a {@link GitLabHttpError} or a
 * {@link GitLabNetworkError}, which `gitlab.ts` turns into a `ForgeError` naming the call.
 */
import type { MergeRequests } from "@gitbeaker/rest";
import { retryAfterMs } from "../core/retry-after.ts";

type ResourceConfig = NonNullable<ConstructorParameters<typeof MergeRequests>[0]>;
/** gitbeaker's requester factory, as its resources take it (`requesterFn`). */
export type RequesterFn = NonNullable<ResourceConfig["requesterFn"]>;
type ResourceOptions = Parameters<RequesterFn>[0];
type Requester = ReturnType<RequesterFn>;
type RequestOptions = NonNullable<Parameters<Requester["get"]>[1]>;
type Answer = Awaited<ReturnType<Requester["get"]>>;

/** The longest gitward waits before one retry; a forge asking for longer is given up on. */
export const MAX_RETRY_WAIT_MS = 60_000;
const FIRST_BACKOFF_MS = 500;

/** GitLab answered with an error status, after any retries. */
export class GitLabHttpError extends Error {
  readonly status: number;
  /** GitLab's `message` or `error` from the body, when it sent one. */
  readonly detail: string;
  /** Seconds GitLab asked to wait (429), when that is why no retry was made. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, statusText: string, detail: string, retryAfterSeconds?: number) {
    super(detail !== "" && detail.startsWith(String(status)) ? detail : `${status} ${statusText}${detail === "" ? "" : `: ${detail}`}`);
    this.name = "GitLabHttpError";
    this.status = status;
    this.detail = detail;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** No answer: connection refused or reset, DNS, TLS, or the per-request timeout. */
export class GitLabNetworkError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "GitLabNetworkError";
  }
}

/** How the requester retries and times out. */
export interface RequesterPolicy {
  /** Retries after a 429, a 5xx or a network failure; 0 = none. */
  readonly retries: number;
  /** Per attempt, in milliseconds. */
  readonly timeoutMs: number;
  /** Waits between attempts; a test may pass a faster one. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A gitbeaker `requesterFn` with gitward's retry and timeout policy. */
export function gitlabRequester(policy: RequesterPolicy): RequesterFn {
  return (resource: ResourceOptions): Requester => {
    const call = (method: string) => (endpoint: string, options?: RequestOptions) => send(resource, policy, method, endpoint, options ?? {});
    // gitbeaker types each method's body generically; the answer is JSON of whatever shape GitLab sent.
    return { get: call("GET"), post: call("POST"), put: call("PUT"), patch: call("PATCH"), delete: call("DELETE") } as unknown as Requester;
  };
}

async function send(resource: ResourceOptions, policy: RequesterPolicy, method: string, endpoint: string, options: RequestOptions): Promise<Answer> {
  const url = new URL(endpoint, resource.url.endsWith("/") ? resource.url : `${resource.url}/`);
  const query = queryString(options.searchParams ?? {});
  if (query !== "") url.search = query;
  const headers: Record<string, string> = { ...resource.headers, accept: "application/json" };
  for (const [name, value] of Object.entries(resource.authHeaders)) headers[name] = await value();
  if (options.sudo !== undefined) headers.sudo = String(options.sudo);
  let body: string | undefined;
  if (options.body !== undefined && !(options.body instanceof FormData)) {
    body = JSON.stringify(snakeKeys(options.body));
    headers["content-type"] = "application/json";
  }
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 0; ; attempt++) {
    const last = attempt >= policy.retries;
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(policy.timeoutMs) });
    } catch (e) {
      if (last) throw new GitLabNetworkError(networkReason(e, policy.timeoutMs), { cause: e });
      await sleep(backoff(attempt));
      continue;
    }
    if (response.ok) return { body: await readBody(response), headers: Object.fromEntries(response.headers.entries()), status: response.status };
    const retryable = response.status === 429 || response.status >= 500;
    const asked = response.status === 429 ? askedWaitMs(response.headers) : undefined;
    if (!retryable || last || (asked !== undefined && asked > MAX_RETRY_WAIT_MS)) {
      throw new GitLabHttpError(response.status, response.statusText, await errorDetail(response), asked === undefined ? undefined : Math.ceil(asked / 1000));
    }
    await response.body?.cancel();
    await sleep(asked ?? backoff(attempt));
  }
}

function backoff(attempt: number): number {
  return Math.min(MAX_RETRY_WAIT_MS, FIRST_BACKOFF_MS * 2 ** attempt);
}

/** What a 429 asks for: `Retry-After` (seconds), else `RateLimit-Reset` (a Unix time), in milliseconds. */
function askedWaitMs(headers: Headers): number | undefined {
  const after = retryAfterMs(headers.get("retry-after"), Date.now());
  if (after !== undefined) return after;
  const reset = Number(headers.get("ratelimit-reset") ?? Number.NaN);
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - Date.now());
  return undefined;
}

function networkReason(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return `no answer within ${timeoutMs} ms`;
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : undefined;
  const message = e instanceof Error ? e.message : String(e);
  return cause === undefined ? message : `${message} (${cause})`;
}

async function readBody(response: Response): Promise<Answer["body"]> {
  if (response.status === 204) return null;
  const text = await response.text();
  const type = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
  if (type === "application/json" || type.endsWith("+json")) return text === "" ? {} : (JSON.parse(text) as Answer["body"]);
  return text;
}

/** GitLab's reason from an error body: `{"message": …}` or `{"error": …}`, else the text, cut short. */
async function errorDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) {
      const { message, error } = parsed as { message?: unknown; error?: unknown };
      const reason = message ?? error;
      if (reason !== undefined) return (typeof reason === "string" ? reason : JSON.stringify(reason)).slice(0, 300);
    }
  } catch {
    // not JSON: the text itself
  }
  return text.trim().slice(0, 300);
}

/** gitbeaker passes camelCase option names (`perPage`); GitLab reads snake_case (`per_page`). */
function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), snakeKeys(v)]));
}

function queryString(params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const v of value) search.append(`${snake(key)}[]`, String(v));
    else search.append(snake(key), typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value));
  }
  return search.toString();
}
