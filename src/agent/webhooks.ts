/**
 * Verification of the webhooks that ask the agent to fetch now (`POST /hooks/git`):
 * GitHub, Gitea and GitLab push events, and a generic form signed with HMAC-SHA256 for
 * anything else (a CI job, a script). The forges' pull-request and review events are verified
 * the same way and parsed by pr-events.ts. Pure and framework-free: the HTTP layer hands over
 * the headers and the raw body, and answers with the status this module returns.
 *
 * The caller must cap the body before calling (the signature covers the raw bytes, so the
 * whole body is read first): {@link webhookBodyLimitBytes} is a sensible limit. A webhook
 * is only a hint to fetch; the agent still resolves the branch itself, so a forged `after`
 * could at worst trigger an early fetch, never deploy a commit the branch does not have.
 *
 * The generic form: `X-Gitward-Signature: sha256=<hex HMAC-SHA256 of the body>`, an optional
 * `X-Gitward-Event` (default `push`; anything else is accepted and ignored, e.g. `ping`), and
 * a JSON body `{ "ref": "refs/heads/main", "after": "<sha>", "before"?: "<sha>",
 * "repository"?: "<url or name>", "pusher"?: "<who>", "commits"?: <count> }`, and an optional
 * `X-Gitward-Delivery` id (as GitHub's `X-GitHub-Delivery`), which the caller uses to ignore replays.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { parsePullRequestEvent, payloadRepositories, type PullRequestEvent } from "./pr-events.ts";

export type { PullRequestAction, PullRequestEvent } from "./pr-events.ts";

/** A body limit for webhook requests: GitHub caps payloads at 25 MB, but a push of 2,048 commits fits in far less. */
export const webhookBodyLimitBytes = 5 * 1024 * 1024;

/** Where a webhook came from, told apart by its headers. */
export const WebhookSource = {
  GitHub: "github",
  GitLab: "gitlab",
  Gitea: "gitea",
  Generic: "generic",
} as const;
/** One of {@link WebhookSource}. */
export type WebhookSource = (typeof WebhookSource)[keyof typeof WebhookSource];

/** The secret (GitLab: the token) configured for each source; a source without one is refused. */
export interface WebhookSecrets {
  readonly github?: string;
  readonly gitlab?: string;
  readonly gitea?: string;
  readonly generic?: string;
}

/** A push to a ref, reduced to what the agent needs to decide whether to fetch. */
export interface PushEvent {
  /** The full ref pushed, e.g. `refs/heads/main` or `refs/tags/v1`. */
  readonly ref: string;
  /** The branch name when a branch was pushed; undefined for tags and other refs. */
  readonly branch?: string;
  /** The commit the ref points to after the push (all zeros when it was deleted). */
  readonly after: string;
  readonly before?: string;
  /** True when the push deleted the ref. */
  readonly deleted: boolean;
  /** Every clone URL and name of the repository in the payload, to match against the agent's sources. */
  readonly repositories: readonly string[];
  /** Who pushed, as the forge names them. */
  readonly pusher?: string;
  /** How many commits the push brought, when the payload says. */
  readonly commits?: number;
}

/** A verified webhook: its source, its event type and, for a push, the push; for a pull-request or review event, that. */
export interface WebhookAccepted {
  readonly ok: true;
  readonly source: WebhookSource;
  /** The event type as the forge names it (`push`, `ping`, `Push Hook`, …). */
  readonly eventType: string;
  /** The push, or undefined for an event that is not a push (ping, issues, …). */
  readonly event: PushEvent | undefined;
  /** The pull-request or review event; absent for other events and for actions gitward does not act on (assigned, …). */
  readonly pullRequest?: PullRequestEvent;
  /** The forge's id of this delivery (`X-GitHub-Delivery`, `X-Gitea-Delivery`, `X-Gitlab-Event-UUID`, `X-Gitward-Delivery`), when sent. */
  readonly delivery?: string;
}

/** A refused webhook: 401 when it could not be authenticated, 400 when its authenticated body is malformed (a push or pull-request event without what it must have). */
export interface WebhookRejected {
  readonly ok: false;
  readonly status: 401 | 400;
  /** Why, safe to return to the caller and to log: it never contains a secret. */
  readonly reason: string;
}

/** The outcome of {@link verifyWebhook}. */
export type WebhookVerdict = WebhookAccepted | WebhookRejected;

/** Request headers as Node's http module gives them. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Authenticates a webhook request and parses its push, pull-request or review event. The source is told by its
 * headers (Gitea first, since Gitea also sends GitHub's headers); the signature (an HMAC-SHA256
 * of the raw body) or GitLab's token is compared in constant time with the source's secret.
 */
export function verifyWebhook(headers: WebhookHeaders, rawBody: Buffer, secrets: WebhookSecrets): WebhookVerdict {
  const h = headerReader(headers);
  const source = detectSource(h);
  if (source === undefined) {
    return reject(401, "not a recognised webhook: no X-Hub-Signature-256, X-Gitea-Signature, X-Gitlab-Token or X-Gitward-Signature header");
  }
  const secret = secrets[source];
  if (secret === undefined || secret === "") return reject(401, `no secret configured for ${source} webhooks`);
  const auth = authenticate(source, h, rawBody, secret);
  if (auth !== undefined) return auth;
  const delivery = deliveryOf(source, h);
  if (typeof delivery !== "string" && delivery !== undefined) return delivery;
  const verdict = parseEvent(source, h, rawBody);
  return verdict.ok && delivery !== undefined ? { ...verdict, delivery } : verdict;
}

/** Where each source names its delivery. */
const deliveryHeaders: Readonly<Record<WebhookSource, string>> = {
  github: "X-GitHub-Delivery",
  gitea: "X-Gitea-Delivery",
  gitlab: "X-Gitlab-Event-UUID",
  generic: "X-Gitward-Delivery",
};

/** The delivery id: undefined when absent, a rejection when repeated or not a plain token. */
function deliveryOf(source: WebhookSource, h: HeaderReader): string | WebhookRejected | undefined {
  const header = deliveryHeaders[source];
  const value = h(header);
  if (value === null) return reject(400, `${header} header is repeated`);
  if (value === undefined || value === "") return undefined;
  return /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : reject(400, `${header} must be 1 to 128 letters, digits or . _ : -`);
}

type HeaderReader = (name: string) => string | undefined | null;

/** Case-insensitive header access; `null` when a header is repeated, which no forge does. */
function headerReader(headers: WebhookHeaders): HeaderReader {
  const lower = new Map<string, string | readonly string[]>();
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) lower.set(k.toLowerCase(), v);
  return (name) => {
    const v = lower.get(name.toLowerCase());
    if (v === undefined || typeof v === "string") return v;
    return v.length === 1 ? v[0] : null;
  };
}

function detectSource(h: HeaderReader): WebhookSource | undefined {
  if (h("x-gitea-event") !== undefined || h("x-gitea-signature") !== undefined) return WebhookSource.Gitea;
  if (h("x-github-event") !== undefined || h("x-hub-signature-256") !== undefined) return WebhookSource.GitHub;
  if (h("x-gitlab-event") !== undefined || h("x-gitlab-token") !== undefined) return WebhookSource.GitLab;
  if (h("x-gitward-signature") !== undefined) return WebhookSource.Generic;
  return undefined;
}

const signatureHeaders: Readonly<Record<WebhookSource, { name: string; prefix: string }>> = {
  github: { name: "X-Hub-Signature-256", prefix: "sha256=" },
  gitea: { name: "X-Gitea-Signature", prefix: "" },
  generic: { name: "X-Gitward-Signature", prefix: "sha256=" },
  gitlab: { name: "X-Gitlab-Token", prefix: "" },
};

/** Undefined when authentic, else the rejection. */
function authenticate(source: WebhookSource, h: HeaderReader, body: Buffer, secret: string): WebhookRejected | undefined {
  const { name, prefix } = signatureHeaders[source];
  const value = h(name);
  if (value === null) return reject(401, `${name} header is repeated`);
  if (value === undefined || value === "") return reject(401, `${name} header is missing`);
  if (source === WebhookSource.GitLab) {
    return tokenEquals(value, secret) ? undefined : reject(401, `${name} does not match the configured token`);
  }
  const hex = value.startsWith(prefix) ? value.slice(prefix.length) : undefined;
  if (hex === undefined || !/^[0-9a-f]{64}$/i.test(hex)) {
    return reject(401, `${name} is malformed: expected ${prefix}<64 hex digits of HMAC-SHA256>`);
  }
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(hex, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? undefined
    : reject(401, `${name} does not match the body signed with the configured secret`);
}

/** Constant time whatever the lengths: both sides are hashed to 32 bytes before comparing. */
function tokenEquals(given: string, secret: string): boolean {
  const a = createHash("sha256").update(given, "utf8").digest();
  const b = createHash("sha256").update(secret, "utf8").digest();
  return timingSafeEqual(a, b);
}

function reject(status: 401 | 400, reason: string): WebhookRejected {
  return { ok: false, status, reason };
}

function accept(source: WebhookSource, eventType: string, event: PushEvent | undefined, pullRequest?: PullRequestEvent): WebhookAccepted {
  return { ok: true, source, eventType, event, ...(pullRequest === undefined ? {} : { pullRequest }) };
}

/** Where each source names the event, and what it calls a push. */
const eventHeaders: Readonly<Record<WebhookSource, { header: string; push: readonly string[]; optional?: true }>> = {
  github: { header: "X-GitHub-Event", push: ["push"] },
  gitea: { header: "X-Gitea-Event", push: ["push"] },
  gitlab: { header: "X-Gitlab-Event", push: ["Push Hook", "Tag Push Hook", "System Hook"] },
  // Generic senders may leave the event out: a push is what they are for.
  generic: { header: "X-Gitward-Event", push: ["push"], optional: true },
};

function parseEvent(source: WebhookSource, h: HeaderReader, body: Buffer): WebhookVerdict {
  const { header, push, optional } = eventHeaders[source];
  const given = h(header);
  // Checked before defaulting: `??` would take a repeated header (null) for a missing one.
  if (given === null) return reject(400, `${header} header is repeated`);
  const eventType = given ?? (optional === true ? "push" : undefined);
  if (eventType === undefined || eventType === "") return reject(400, `${header} header is missing`);
  const payload = parseBody(h, body);
  if (typeof payload === "string") return reject(400, payload);
  // A GitLab system hook carries every kind of event; only its pushes are pushes.
  const systemNonPush = eventType === "System Hook" && !["push", "tag_push"].includes(String(payload["object_kind"]));
  if (!push.includes(eventType) || systemNonPush) {
    if (source === WebhookSource.Generic) return accept(source, eventType, undefined);
    const pr = parsePullRequestEvent(source, eventType, payload);
    return pr.ok ? accept(source, eventType, undefined, pr.event) : reject(400, `${source} ${eventType} payload: ${pr.reason}`);
  }
  const event = pushOf(source, payload);
  return typeof event === "string" ? reject(400, `${source} push payload: ${event}`) : accept(source, eventType, event);
}

type Json = Readonly<Record<string, unknown>>;

/** The JSON payload; GitHub and Gitea may also send it form-encoded as `payload=`. Returns the reason on failure. */
function parseBody(h: HeaderReader, body: Buffer): Json | string {
  let text = body.toString("utf8");
  const contentType = h("content-type") ?? "";
  if (/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    const payload = new URLSearchParams(text).get("payload");
    if (payload === null) return "form-encoded body has no payload field";
    text = payload;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "body is not valid JSON";
  }
  return isObject(value) ? value : "body is not a JSON object";
}

function pushOf(source: WebhookSource, p: Json): PushEvent | string {
  const ref = str(p["ref"]);
  const after = str(p["after"]);
  if (ref === undefined || ref === "") return "ref is missing";
  if (after === undefined || !/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(after)) return "after is not a commit id";
  const before = str(p["before"]);
  const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : undefined;
  const details = source === WebhookSource.GitLab ? gitlabDetails(p) : source === WebhookSource.Generic ? genericDetails(p) : githubDetails(p);
  return {
    ref,
    ...(branch === undefined || branch === "" ? {} : { branch }),
    after,
    ...(before === undefined ? {} : { before }),
    deleted: /^0+$/.test(after),
    repositories: details.repositories,
    ...(details.pusher === undefined || details.pusher === "" ? {} : { pusher: details.pusher }),
    ...(details.commits === undefined ? {} : { commits: details.commits }),
  };
}

interface Details {
  readonly repositories: readonly string[];
  readonly pusher: string | undefined;
  readonly commits: number | undefined;
}

/** GitHub's push payload, which Gitea follows (Gitea adds `total_commits` and names the pusher `login`). */
function githubDetails(p: Json): Details {
  const pusher = obj(p["pusher"]);
  return {
    repositories: payloadRepositories("github", p),
    pusher: str(pusher["login"]) ?? str(pusher["username"]) ?? str(pusher["name"]),
    commits: count(p["total_commits"]) ?? (Array.isArray(p["commits"]) ? p["commits"].length : undefined),
  };
}

function gitlabDetails(p: Json): Details {
  return {
    repositories: payloadRepositories("gitlab", p),
    pusher: str(p["user_username"]) ?? str(p["user_name"]),
    commits: count(p["total_commits_count"]) ?? (Array.isArray(p["commits"]) ? p["commits"].length : undefined),
  };
}

/** The generic payload: `{ "ref", "after", "before"?, "repository"?, "pusher"?, "commits"? }`. */
function genericDetails(p: Json): Details {
  const repository = str(p["repository"]);
  return { repositories: repository === undefined || repository === "" ? [] : [repository], pusher: str(p["pusher"]), commits: count(p["commits"]) };
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Json {
  return isObject(v) ? v : {};
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function count(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;
}
