/**
 * The agent's outbound notifications: a generic JSON webhook signed with HMAC-SHA256 (the form
 * the agent itself accepts on `/hooks/git`), or a Slack-compatible incoming webhook (`{"text"}`,
 * which Mattermost and others accept too). One owned background loop sends a bounded queue, one
 * delivery at a time, so a slow or dead receiver never holds up a sync. Target URLs and secrets
 * are credentials (a Slack URL is one): they are never logged, and never sent in a payload.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { isoNow, systemClock, type Clock } from "../core/clock.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { maskSecretsInText } from "../core/mask-secrets.ts";
import { readSecret, type AgentConfig } from "./config.ts";
import { retryAfterMs } from "../core/retry-after.ts";

/** What a notification is about. */
export type NotificationEventKind = "sync-failed" | "drift" | "gate-waiting";

/** One thing worth telling people about. */
export interface NotificationEvent {
  readonly kind: NotificationEventKind;
  readonly environment: string;
  readonly stack?: string;
  readonly revision?: string;
  /** One line for people, e.g. "prod/web: sync of abc123 failed: Deployment/web/api: apply failed (Invalid): …". */
  readonly message: string;
  /** Link to the agent (its configured url) when known. */
  readonly url?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A receiver, its secrets already read (see {@link notificationTargets}). */
export interface NotificationTarget {
  kind: "webhook" | "slack";
  url: string;
  /** kind webhook: the HMAC-SHA256 key of `X-Gitward-Signature`. */
  secret?: string;
  events: readonly NotificationEventKind[];
}

/** Options of {@link Notifier}. */
export interface NotifierOptions {
  readonly targets: readonly NotificationTarget[];
  readonly logger: Logger;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Per request, default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Deliveries waiting at most (one per event and target); the oldest go first. Default 1 000. */
  readonly maxQueue?: number;
  /** Further attempts after a network error, a timeout, a 5xx or a 429. Default 2. */
  readonly retries?: number;
}

const maxRetryAfterMs = 30_000;
const backoffBaseMs = 1_000;
const maxMessageChars = 4_000;
const maxDetailsBytes = 64 * 1024;
const slackEmoji: Readonly<Record<NotificationEventKind, string>> = {
  "sync-failed": ":x:",
  drift: ":warning:",
  "gate-waiting": ":hourglass_flowing_sand:",
};

interface Delivery {
  readonly target: Target;
  readonly kind: NotificationEventKind;
  readonly id: string;
  readonly body: Buffer;
}

interface Target extends NotificationTarget {
  /** host[:port], the only part of the URL that may be logged. */
  readonly host: string;
}

type Attempt = { ok: true } | { ok: false; retryable: boolean; reason: string; retryAfterMs?: number };

/**
 * Sends notifications to the configured targets in the background. `notify` queues and returns;
 * `flush` and `close` are for tests and shutdown. The sending loop starts with the first queued
 * delivery and ends when the queue is empty; it is owned here (flush and close await it).
 */
export class Notifier {
  readonly #targets: readonly Target[];
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #maxQueue: number;
  readonly #retries: number;
  /** Every target URL (and its path) and secret: masked in whatever is sent or logged. */
  readonly #secretValues: ReadonlySet<string>;
  readonly #queue: Delivery[] = [];
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #closed = false;
  #overflowWarned = false;

  constructor(o: NotifierOptions) {
    this.#targets = o.targets.map((t) => ({ ...t, host: hostOf(t.url) }));
    this.#log = o.logger;
    this.#clock = o.clock ?? systemClock();
    this.#timeoutMs = o.timeoutMs ?? 10_000;
    this.#maxQueue = Math.max(1, o.maxQueue ?? 1_000);
    this.#retries = Math.max(0, o.retries ?? 2);
    this.#secretValues = new Set(o.targets.flatMap((t) => [t.url, ...urlSecretParts(t.url), ...(t.secret === undefined ? [] : [t.secret])]).filter((s) => s !== ""));
  }

  /** Queues the event for every target subscribed to its kind; never throws, never blocks the caller. */
  notify(event: NotificationEvent): void {
    try {
      if (this.#closed) {
        this.#log.debug({ notification: event.kind }, "notifier closed: notification not sent");
        return;
      }
      const targets = this.#targets.filter((t) => t.events.includes(event.kind));
      if (targets.length === 0) return;
      const at = isoNow(this.#clock);
      const generic = targets.some((t) => t.kind === "webhook") ? Buffer.from(JSON.stringify(this.#genericPayload(event, at))) : undefined;
      for (const target of targets) {
        const body = target.kind === "slack" ? Buffer.from(JSON.stringify({ text: this.#slackText(event) })) : (generic ?? Buffer.alloc(0));
        this.#enqueue({ target, kind: event.kind, id: randomUUID(), body });
      }
      this.#ensureLoop();
    } catch (err: unknown) {
      this.#log.error({ notification: event.kind, err: this.#reason(err) }, "cannot queue notification");
    }
  }

  /** Resolves when everything queued was sent or given up (for tests and shutdown), or after `timeoutMs` (default 60 000). */
  async flush(timeoutMs = 60_000): Promise<void> {
    let expired = false;
    let wake: () => void = () => undefined;
    const deadline = new Promise<void>((resolve) => (wake = resolve));
    const cancel = this.#clock.timer(() => {
      expired = true;
      wake();
    }, timeoutMs);
    try {
      while (this.#loop !== undefined && !expired) await Promise.race([this.#loop, deadline]);
    } finally {
      cancel();
    }
  }

  /** Stops: drops what is queued after flushing for at most `graceMs` (default 5 000), cancelling a request in flight. */
  async close(graceMs = 5_000): Promise<void> {
    this.#closed = true;
    await this.flush(graceMs);
    const dropped = this.#queue.length;
    this.#queue.length = 0;
    const inFlight = this.#loop !== undefined;
    this.#stop.abort(new Error("notifier closed"));
    await this.#loop;
    if (dropped > 0 || inFlight) this.#log.warn({ dropped, inFlight }, "notifier closed before every notification was sent");
  }

  #enqueue(d: Delivery): void {
    if (this.#queue.length >= this.#maxQueue) {
      const oldest = this.#queue.shift();
      // One warning a burst: the queue being full is the news, not each dropped delivery.
      if (!this.#overflowWarned && oldest !== undefined) {
        this.#overflowWarned = true;
        this.#log.warn({ maxQueue: this.#maxQueue, notification: oldest.kind, target: oldest.target.kind, host: oldest.target.host }, "notification queue full: dropping the oldest");
      }
    }
    this.#queue.push(d);
  }

  #ensureLoop(): void {
    if (this.#loop !== undefined) return;
    this.#loop = this.#run()
      .catch((err: unknown) => this.#log.error({ err: this.#reason(err) }, "notification sender failed"))
      .finally(() => {
        this.#loop = undefined;
        if (this.#queue.length > 0 && !this.#stop.signal.aborted) this.#ensureLoop();
      });
  }

  async #run(): Promise<void> {
    for (let d = this.#queue.shift(); d !== undefined; d = this.#queue.shift()) {
      if (this.#queue.length === 0) this.#overflowWarned = false;
      await this.#deliver(d);
    }
  }

  /** Sends one delivery with its retries; logs once when it is given up. */
  async #deliver(d: Delivery): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.#send(d);
      if (result.ok) {
        this.#log.debug({ notification: d.kind, target: d.target.kind, host: d.target.host, delivery: d.id, attempts: attempt + 1 }, "notification sent");
        return;
      }
      const retry = result.retryable && attempt < this.#retries && !this.#stop.signal.aborted;
      if (retry) {
        try {
          await this.#clock.sleep(result.retryAfterMs ?? Math.min(maxRetryAfterMs, backoffBaseMs * 2 ** attempt), this.#stop.signal);
          continue;
        } catch {
          // Closed while waiting: give up now, logged below.
        }
      }
      this.#log.warn(
        { notification: d.kind, target: d.target.kind, host: d.target.host, delivery: d.id, attempts: attempt + 1, reason: result.reason },
        "notification not delivered",
      );
      return;
    }
  }

  async #send(d: Delivery): Promise<Attempt> {
    const timeout = new AbortController();
    const cancel = this.#clock.timer(() => timeout.abort(new Error("timeout")), this.#timeoutMs);
    try {
      const res = await fetch(d.target.url, {
        method: "POST",
        headers: this.#headers(d),
        body: d.body,
        // A redirect would carry the body (and its signature) somewhere nobody configured.
        redirect: "manual",
        signal: AbortSignal.any([timeout.signal, this.#stop.signal]),
      });
      const text = await readSome(res, 300);
      if (res.status >= 200 && res.status < 300) return { ok: true };
      const reason = `HTTP ${res.status}${text === "" ? "" : `: ${this.#mask(text.replace(/\s+/g, " ").trim())}`}`;
      const retryAfterMs = retryAfter(res.headers.get("retry-after"), this.#clock);
      return { ok: false, retryable: res.status >= 500 || res.status === 429, reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    } catch (err: unknown) {
      if (this.#stop.signal.aborted) return { ok: false, retryable: false, reason: "notifier closed" };
      if (timeout.signal.aborted) return { ok: false, retryable: true, reason: `no answer within ${this.#timeoutMs} ms` };
      return { ok: false, retryable: true, reason: this.#reason(err) };
    } finally {
      cancel();
    }
  }

  #headers(d: Delivery): Record<string, string> {
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "gitward" };
    if (d.target.kind === "slack") return headers;
    headers["x-gitward-event"] = d.kind;
    headers["x-gitward-delivery"] = d.id;
    if (d.target.secret !== undefined && d.target.secret !== "") {
      headers["x-gitward-signature"] = `sha256=${createHmac("sha256", d.target.secret).update(d.body).digest("hex")}`;
    }
    return headers;
  }

  #genericPayload(e: NotificationEvent, at: string): Record<string, unknown> {
    const details = e.details === undefined ? undefined : this.#details(e.details);
    return {
      event: e.kind,
      environment: this.#mask(e.environment),
      ...(e.stack === undefined ? {} : { stack: this.#mask(e.stack) }),
      ...(e.revision === undefined ? {} : { revision: this.#mask(e.revision) }),
      message: this.#message(e.message),
      ...(e.url === undefined ? {} : { url: this.#mask(e.url) }),
      ...(details === undefined ? {} : { details }),
      at,
      agent: "gitward",
    };
  }

  #slackText(e: NotificationEvent): string {
    const link = e.url === undefined ? "" : ` ${slackEscape(this.#mask(e.url))}`;
    return `${slackEmoji[e.kind]} *gitward* ${slackEscape(this.#message(e.message))}${link}`;
  }

  #message(text: string): string {
    const one = this.#mask(text);
    return one.length > maxMessageChars ? `${one.slice(0, maxMessageChars - 1)}…` : one;
  }

  /** JSON-safe and masked; too large a result is replaced by a note rather than sent or refused. */
  #details(details: Readonly<Record<string, unknown>>): unknown {
    const safe = jsonSafe(details, (s) => this.#mask(s), 0);
    return Buffer.byteLength(JSON.stringify(safe)) > maxDetailsBytes ? { truncated: `details over ${maxDetailsBytes} bytes left out` } : safe;
  }

  #mask(text: string): string {
    return maskSecretsInText(text, { secretValues: this.#secretValues });
  }

  /** Why a request failed, without the URL that some errors quote ("Failed to parse URL from …"). */
  #reason(err: unknown): string {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    const code = (cause as { code?: unknown } | null)?.code;
    if (typeof code === "string") return code;
    return this.#mask(cause instanceof Error ? cause.message : String(cause));
  }
}

/**
 * Reads the secrets of the configured notifications (the URLs, the HMAC keys) into targets.
 * Errors name the notification by its index and its secret's source, never its value.
 */
export async function notificationTargets(config: AgentConfig["notifications"]): Promise<NotificationTarget[]> {
  const targets: NotificationTarget[] = [];
  for (const [i, n] of config.entries()) {
    const where = `notifications[${i}]`;
    const source = (ref: { env?: string | undefined; file?: string | undefined }): string => (ref.env !== undefined ? `environment variable ${ref.env}` : `file ${ref.file ?? ""}`);
    const url = await readSecret(n.url);
    if (url === undefined || url === "") throw new GitwardError(ErrorCode.Config, `${where}.url: ${source(n.url)} is empty`);
    if (!isHttpUrl(url)) throw new GitwardError(ErrorCode.Config, `${where}.url: the value of ${source(n.url)} is not an http(s) URL`);
    if (n.kind === "slack" && n.secret !== undefined) {
      throw new GitwardError(ErrorCode.Config, `${where}.secret: a slack notification is not signed (its URL is the secret); remove secret or use kind webhook`);
    }
    const secret = n.secret === undefined ? undefined : await readSecret(n.secret);
    if (n.secret !== undefined && (secret === undefined || secret === "")) throw new GitwardError(ErrorCode.Config, `${where}.secret: ${source(n.secret)} is empty`);
    targets.push({ kind: n.kind, url, events: n.events, ...(secret === undefined ? {} : { secret }) });
  }
  return targets;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.host !== "";
  } catch {
    return false;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(invalid URL)";
  }
}

/** The parts of a URL that carry its credential: the path and query (Slack's token), and a password. */
function urlSecretParts(url: string): string[] {
  try {
    const u = new URL(url);
    const parts = [`${u.pathname}${u.search}`, u.search.slice(1), u.password, u.href];
    // A bare "/" or a short path ("/hook") is no secret and would mask ordinary text.
    return parts.filter((p) => p.length >= 8);
  } catch {
    return [];
  }
}

/** Slack reads `&`, `<` and `>` as markup (`<!channel>` pings everyone); text from syncs is escaped. */
function slackEscape(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** A copy that JSON.stringify accepts: strings masked, bigints as strings, depth and width capped (a cycle ends at the cap). */
function jsonSafe(v: unknown, mask: (s: string) => string, depth: number): unknown {
  if (typeof v === "string") return mask(v);
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "boolean" || v === null) return v;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (typeof v !== "object") return null;
  if (depth >= 8) return "[too deep]";
  if (Array.isArray(v)) return v.slice(0, 1000).map((x: unknown) => jsonSafe(x, mask, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v).slice(0, 1000)) {
    if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
    out[mask(k)] = jsonSafe(x, mask, depth + 1);
  }
  return out;
}

/** Retry-After as seconds or an HTTP date, in ms, capped at 30 s; undefined when absent or unreadable. */
function retryAfter(value: string | null, clock: Clock): number | undefined {
  return retryAfterMs(value, clock.date().getTime(), maxRetryAfterMs);
}

/** The start of a response body (a reason like Slack's `invalid_payload`), the rest discarded. */
async function readSome(res: Response, maxChars: number): Promise<string> {
  if (res.body === null) return "";
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxChars) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, maxChars);
}
