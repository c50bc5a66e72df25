/**
 * The HTTP side of the Gitea/Forgejo client: one request with the token header, a timeout,
 * retries for rate limits, 502/503/504 and network failures, zod-checked bodies, and lists read
 * page by page. Every failure becomes a {@link ForgeError} whose message names the repository and
 * the call (`Gitea acme/infra: listing reviews of #42: 401 Unauthorized`), never the token.
 */
import { setTimeout as delay } from "node:timers/promises";
import { STATUS_CODES } from "node:http";
import type { z } from "zod";
import { ForgeError, forgeErrorKindOf, type ForgeErrorKind } from "./forge.ts";
import { retryAfterMs } from "../core/retry-after.ts";

/** How to reach one Gitea repository's API; the defaults are {@link ForgeSettings}'. */
export interface GiteaHttpOptions {
  /** `https://HOST/api/v1`, with or without a trailing slash. */
  readonly apiUrl: string;
  readonly token: string;
  /** `owner/name`, for messages. */
  readonly repository: string;
  readonly retries: number;
  readonly timeoutMs: number;
}

/** One call: `what` names it in messages (`listing reviews of #42`). */
export interface GiteaCall {
  readonly what: string;
  readonly method?: "GET" | "POST" | "PATCH";
  /** Below the API base, each segment already encoded (see {@link seg}). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** A response: its parsed body and headers. */
export interface GiteaResponse<T> {
  readonly data: T;
  readonly headers: Headers;
}

/** Gitea's largest page (`[api] MAX_RESPONSE_ITEMS`, 50 by default); asking for more gets 50. */
export const GITEA_PAGE_SIZE = 50;
/** A bound on pages read for one list, so a forge that never ends a list cannot loop us forever. */
const MAX_PAGES = 1000;
/** The longest wait a `Retry-After` may ask of us. */
const MAX_RETRY_AFTER_MS = 60_000;
const BACKOFF_BASE_MS = 250;

/** A path segment, percent-encoded (owner, repository, sha, team names). */
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}

/** Talks to one Gitea API; see the module comment. */
export class GiteaHttp {
  readonly #options: GiteaHttpOptions;
  readonly #base: string;

  constructor(options: GiteaHttpOptions) {
    this.#options = options;
    this.#base = options.apiUrl.replace(/\/+$/, "");
  }

  /** One request, retried as the module comment says; the body is checked with `schema` (undefined: not read). */
  async request<S extends z.ZodType>(call: GiteaCall, schema: S | undefined): Promise<GiteaResponse<z.output<S> | undefined>> {
    const res = await this.#send(call);
    if (schema === undefined) {
      await res.body?.cancel();
      return { data: undefined, headers: res.headers };
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch (e) {
      throw this.#error("invalid", call, `${res.status} with a body that is not JSON`, res.status, e);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined ? "" : ` at ${issue.path.join(".") || "(top)"}: ${issue.message}`;
      throw this.#error("invalid", call, `unexpected response${where}`, res.status, parsed.error);
    }
    return { data: parsed.data, headers: res.headers };
  }

  /** One request whose body must be there (every call but those answering nothing). */
  async get<S extends z.ZodType>(call: GiteaCall, schema: S): Promise<GiteaResponse<z.output<S>>> {
    const r = await this.request(call, schema);
    return r as GiteaResponse<z.output<S>>;
  }

  /**
   * Every item of a list, `limit` 50 a page. The next page is the `Link` header's `rel="next"`
   * when Gitea sends one (not every list endpoint does); otherwise the list ends at a short page
   * or once `X-Total-Count` items were read.
   */
  async list<S extends z.ZodType>(call: GiteaCall, item: S): Promise<z.output<S>[]> {
    const all: z.output<S>[] = [];
    const arraySchema = (item as z.ZodType).array() as z.ZodType<z.output<S>[]>;
    let page = 1;
    for (let n = 0; n < MAX_PAGES; n++) {
      const { data, headers } = await this.get({ ...call, query: { ...call.query, page: String(page), limit: String(GITEA_PAGE_SIZE) } }, arraySchema);
      all.push(...data);
      const next = nextPage(headers, page, data.length, all.length);
      if (next === undefined) return all;
      page = next;
    }
    throw this.#error("invalid", call, `more than ${MAX_PAGES} pages`, undefined);
  }

  async #send(call: GiteaCall): Promise<Response> {
    const url = new URL(`${this.#base}${call.path}`);
    for (const [k, v] of Object.entries(call.query ?? {})) url.searchParams.set(k, v);
    const method = call.method ?? "GET";
    const headers: Record<string, string> = {
      Authorization: `token ${this.#options.token}`,
      "User-Agent": "gitward",
      Accept: "application/json",
    };
    if (call.body !== undefined) headers["Content-Type"] = "application/json";
    for (let attempt = 0; ; attempt++) {
      const retriesLeft = attempt < this.#options.retries;
      let res: Response;
      try {
        res = await fetch(url, {
          method, headers, signal: AbortSignal.timeout(this.#options.timeoutMs),
          ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        });
      } catch (e) {
        if (retriesLeft) {
          await delay(backoff(attempt));
          continue;
        }
        throw this.#error("unreachable", call, networkReason(e, this.#options.timeoutMs), undefined, e);
      }
      if (res.ok) return res;
      const transient = res.status === 429 || res.status === 502 || res.status === 503 || res.status === 504;
      if (transient && retriesLeft) {
        await res.body?.cancel();
        await delay(res.status === 429 ? retryAfter(res.headers, attempt) : backoff(attempt));
        continue;
      }
      throw this.#error(forgeErrorKindOf(res.status), call, `${res.status} ${STATUS_CODES[res.status] ?? ""}`.trimEnd() + (await forgeMessage(res, this.#options.token)), res.status);
    }
  }

  #error(kind: ForgeErrorKind, call: GiteaCall, reason: string, status: number | undefined, cause?: unknown): ForgeError {
    const message = mask(`Gitea ${this.#options.repository}: ${call.what}: ${reason}`, this.#options.token);
    return new ForgeError(kind, message, { status, cause });
  }
}

/** The page after `page`, or undefined when the list has ended. */
function nextPage(headers: Headers, page: number, got: number, total: number): number | undefined {
  if (got === 0) return undefined;
  const link = headers.get("link");
  if (link !== null && link.trim() !== "") {
    const next = /<([^>]*)>\s*;\s*rel="?next"?/.exec(link)?.[1];
    if (next === undefined) return undefined;
    // Only the page number is taken: Gitea writes its ROOT_URL there, which may not be how we reach it.
    const p = Number(new URL(next, "http://link.invalid/").searchParams.get("page"));
    return Number.isInteger(p) && p > page ? p : page + 1;
  }
  const count = Number(headers.get("x-total-count") ?? Number.NaN);
  if (Number.isFinite(count)) return total < count ? page + 1 : undefined;
  return got < GITEA_PAGE_SIZE ? undefined : page + 1;
}


/** Gitea's own words (`{"message": …}`), short, as a suffix; the token is masked by the caller too. */
async function forgeMessage(res: Response, token: string): Promise<string> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    return "";
  }
  let message: unknown;
  try {
    message = (JSON.parse(text) as { message?: unknown }).message;
  } catch {
    return "";
  }
  if (typeof message !== "string" || message.trim() === "") return "";
  const short = message.length > 200 ? `${message.slice(0, 200)}…` : message;
  return ` (${mask(short, token)})`;
}

/** `text` with the token replaced, should a forge or a proxy ever echo it. */
function mask(text: string, token: string): string {
  return token.length < 4 ? text : text.replaceAll(token, "***");
}

function networkReason(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return `no answer within ${timeoutMs} ms`;
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const text = cause instanceof Error ? cause.message : String(cause);
  return `unreachable: ${typeof code === "string" && !text.includes(code) ? `${code} ` : ""}${text}`;
}

function backoff(attempt: number): number {
  return Math.min(8000, BACKOFF_BASE_MS * 2 ** attempt);
}

/** `Retry-After` in seconds or as an HTTP date, at most a minute; the backoff when absent. */
function retryAfter(headers: Headers, attempt: number): number {
  return retryAfterMs(headers.get("retry-after"), Date.now(), MAX_RETRY_AFTER_MS) ?? backoff(attempt);
}
