import type http from "node:http";
import https from "node:https";
import { GitwardError } from "../../core/errors.ts";
import type { KObject } from "../../core/object.ts";
import { isRecord } from "../../core/object.ts";
import type { Clock } from "../../core/clock.ts";
import { systemClock } from "../../core/clock.ts";
import type { RequestContext } from "./errors.ts";
import { classifyResponse, classifyTransportError, KubeApiError } from "./errors.ts";
import { send, warningsOf } from "./http-transport.ts";
import { nodeHttp } from "./node-http.ts";
import type { KubeconfigOptions, KubeCredentials } from "./kubeconfig.ts";
import { clusterEndpoint, loadKubeCredentials } from "./kubeconfig.ts";
import type { RateLimit } from "./rate-limiter.ts";
import { defaultRateLimit, TokenBucket } from "./rate-limiter.ts";
import type { RetryEvent, RetryPolicy } from "./retry.ts";
import { defaultRetryPolicy, withRetry } from "./retry.ts";
import { Semaphore } from "./semaphore.ts";
import { credentialsOf, redact, sanitizeError } from "./credentials.ts";
import type { ApplyPatchOptions, ApplyResult, CreateOptions, DeleteOptions, DeleteResult, ListOptions, ListResult } from "./object-requests.ts";
import { deleteBody, deleteOutcome, listPage } from "./object-requests.ts";
import type { ObjectLocation, ResourceLocation } from "./resource-path.ts";
import { collectionPath, objectPath, refOfLocation } from "./resource-path.ts";

/** Tuning of a {@link KubeClient}; see {@link defaultClientSettings}. */
export interface ClientSettings {
  /** Requests in flight at once, and the keep-alive agent's `maxSockets`. */
  readonly parallelism: number;
  readonly rateLimit: RateLimit;
  /** For one attempt of one request. */
  readonly requestTimeoutMs: number;
  readonly retry: RetryPolicy;
  readonly userAgent: string;
  /** Answers larger than this fail. */
  readonly maxBodyBytes: number;
}

/** 16 in flight, no client-side rate limit, 30 s a request, {@link defaultRetryPolicy}, 64 MiB answers. */
export function defaultClientSettings(): ClientSettings {
  return {
    parallelism: 16,
    rateLimit: defaultRateLimit(),
    requestTimeoutMs: 30_000,
    retry: defaultRetryPolicy(),
    userAgent: "gitward",
    maxBodyBytes: 64 * 1024 * 1024,
  };
}

/** Options of {@link KubeClient.connect}: which cluster, tuning, and the ports tests replace. */
export interface KubeClientOptions extends KubeconfigOptions {
  readonly settings?: Partial<ClientSettings>;
  readonly clock?: Clock;
  /** In [0, 1), for backoff jitter; default `Math.random`. */
  readonly random?: () => number;
  /** Called with each `Warning` header (deprecated APIs). */
  readonly onWarning?: (warning: string, context: RequestContext) => void;
  readonly onRetry?: (event: RetryEvent) => void;
}

/** One request as {@link KubeClient.request} sends it. */
export interface RawRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** From the server root, e.g. `/api/v1/namespaces`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: string;
  readonly contentType?: string;
  /** Default `application/json`. */
  readonly accept?: string;
  /** Whether a repeat does no harm; default: every method but POST. */
  readonly idempotent?: boolean;
  /** What the request is about, for error messages; default: the method and path. */
  readonly context?: RequestContext;
  readonly signal?: AbortSignal;
}

/** A successful answer (status below 400). */
export interface RawResponse {
  readonly status: number;
  readonly body: string;
  readonly contentType: string | undefined;
  readonly warnings: readonly string[];
}

/**
 * An HTTP client for one API server. The kubeconfig is loaded as @kubernetes/client-node loads
 * it ({@link loadKubeCredentials}: client-node itself only for plugins, proxies and in-cluster),
 * and credentials are refreshed on every request, so exec plugins and certificate files rotate.
 * Requests share keep-alive connections, at most `parallelism` at once, paced by a client-side token
 * bucket; failures are classified once ({@link KubeApiError}) and retried when their class allows.
 * Credentials never appear in errors, and nothing is logged.
 */
export class KubeClient {
  /** The kubeconfig context. */
  readonly context: string;
  /** The server URL, without credentials. */
  readonly server: string;
  private readonly kc: KubeCredentials;
  private readonly serverUrl: string;
  private readonly settings: ClientSettings;
  private readonly agent: http.Agent | undefined;
  private readonly slots: Semaphore;
  private readonly limiter: TokenBucket;
  private readonly clock: Clock;
  private readonly options: KubeClientOptions;

  private constructor(kc: KubeCredentials, options: KubeClientOptions) {
    const endpoint = clusterEndpoint(kc);
    this.kc = kc;
    this.context = endpoint.context;
    this.server = endpoint.server;
    this.serverUrl = endpoint.serverUrl;
    this.options = options;
    this.settings = { ...defaultClientSettings(), ...options.settings };
    this.clock = options.clock ?? systemClock();
    this.slots = new Semaphore(this.settings.parallelism);
    this.limiter = new TokenBucket(this.settings.rateLimit, this.clock);
    // A proxy needs client-node's own agent; otherwise one keep-alive agent serves every request.
    const viaProxy = (kc.getCurrentCluster()?.proxyUrl ?? "") !== "";
    const agentOptions = { keepAlive: true, maxSockets: this.settings.parallelism };
    this.agent = viaProxy ? undefined : this.serverUrl.startsWith("http:") ? new (nodeHttp().Agent)(agentOptions) : new https.Agent(agentOptions);
  }

  /** Loads the kubeconfig and prepares credentials; no request is sent. */
  static async connect(options: KubeClientOptions = {}): Promise<KubeClient> {
    const kc = await loadKubeCredentials(options);
    const client = new KubeClient(kc, options);
    await client.tlsOptions();
    return client;
  }

  /** Sends a request, with rate limit, concurrency bound and retries; a status of 400 or more throws. */
  request(req: RawRequest): Promise<RawResponse> {
    const idempotent = req.idempotent ?? req.method !== "POST";
    return withRetry(() => this.attempt(req), {
      policy: this.settings.retry,
      clock: this.clock,
      random: this.options.random ?? Math.random,
      idempotent,
      ...(req.signal === undefined ? {} : { signal: req.signal }),
      ...(this.options.onRetry === undefined ? {} : { onRetry: this.options.onRetry }),
    });
  }

  /** GETs a path and parses the JSON answer. */
  async getJson(path: string, signal?: AbortSignal, context?: RequestContext): Promise<unknown> {
    const ctx = context ?? { operation: "get", method: "GET", path };
    const res = await this.request({ method: "GET", path, context: ctx, ...(signal === undefined ? {} : { signal }) });
    return parseJson(res, ctx);
  }

  /** GETs one object. */
  async get(loc: ObjectLocation, signal?: AbortSignal): Promise<KObject> {
    const path = objectPath(loc);
    const context: RequestContext = { operation: "get", ref: refOfLocation(loc), method: "GET", path };
    return parseObject(await this.request({ method: "GET", path, context, ...withSignal(signal) }), context);
  }

  /**
   * LISTs a collection (one namespace, or all when `loc.namespace` is absent), following
   * `continue` to the last page (or `maxPages`). When a continue token expires (410), the list
   * starts over once.
   */
  async list(loc: ResourceLocation, opts: ListOptions = {}): Promise<ListResult> {
    const path = collectionPath(loc);
    const context: RequestContext = { operation: "list", method: "GET", path };
    const items: KObject[] = [];
    let continueToken: string | undefined;
    let restarted = false;
    let pages = 0;
    for (;;) {
      const query = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit ?? 500, continue: continueToken };
      let page;
      try {
        page = listPage(parseObject(await this.request({ method: "GET", path, query, context, ...withSignal(opts.signal) }), context), context);
      } catch (err: unknown) {
        if (!(err instanceof KubeApiError && err.kind === "Expired" && continueToken !== undefined && !restarted)) throw err;
        restarted = true;
        items.length = 0;
        pages = 0;
        continueToken = undefined;
        continue;
      }
      items.push(...page.items);
      if (page.continueToken === undefined) return { items, resourceVersion: page.resourceVersion };
      if (++pages >= (opts.maxPages ?? Infinity)) return { items, resourceVersion: page.resourceVersion, truncated: true };
      continueToken = page.continueToken;
    }
  }

  /** Server-side apply: PATCH with `application/apply-patch+yaml` (the body is JSON, which is YAML). */
  async applyPatch(loc: ObjectLocation, object: KObject, opts: ApplyPatchOptions): Promise<ApplyResult> {
    const path = objectPath(loc);
    const context: RequestContext = { operation: "apply", ref: refOfLocation(loc), method: "PATCH", path, apply: true };
    const query = { fieldManager: opts.fieldManager, force: opts.force ? "true" : undefined, dryRun: opts.dryRun ? "All" : undefined };
    const body = JSON.stringify(object);
    const res = await this.request({ method: "PATCH", path, query, body, contentType: "application/apply-patch+yaml", context, ...withSignal(opts.signal) });
    return { object: parseObject(res, context), created: res.status === 201 };
  }

  /** POSTs a new object into the collection; never retried after the server may have acted. */
  async create(loc: ResourceLocation, object: KObject, opts: CreateOptions = {}): Promise<KObject> {
    const path = collectionPath(loc);
    const name = (object["metadata"] as { name?: unknown } | undefined)?.name;
    const ref = typeof name === "string" ? refOfLocation({ ...loc, name }) : undefined;
    const context: RequestContext = { operation: "create", method: "POST", path, ...(ref === undefined ? {} : { ref }) };
    const query = { fieldManager: opts.fieldManager, dryRun: opts.dryRun === true ? "All" : undefined };
    const res = await this.request({ method: "POST", path, query, body: JSON.stringify(object), contentType: "application/json", context, ...withSignal(opts.signal) });
    return parseObject(res, context);
  }

  /** DELETEs an object; an object already gone is the `not-found` outcome, not an error. */
  async delete(loc: ObjectLocation, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const path = objectPath(loc);
    const context: RequestContext = { operation: "delete", ref: refOfLocation(loc), method: "DELETE", path };
    try {
      const res = await this.request({ method: "DELETE", path, body: deleteBody(opts), contentType: "application/json", context, ...withSignal(opts.signal) });
      return deleteOutcome(parseObject(res, context));
    } catch (err: unknown) {
      if (err instanceof KubeApiError && err.kind === "NotFound") return { outcome: "not-found" };
      throw err;
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent?.destroy();
  }

  private async attempt(req: RawRequest): Promise<RawResponse> {
    const ctx = req.context ?? { operation: req.method.toLowerCase(), method: req.method, path: req.path };
    await this.limiter.take(req.signal);
    const release = await this.slots.acquire(req.signal);
    try {
      const tls = await this.tlsOptions();
      const secrets = credentialsOf(tls);
      const timeout = AbortSignal.timeout(this.settings.requestTimeoutMs);
      const signal = req.signal === undefined ? timeout : AbortSignal.any([req.signal, timeout]);
      const { agent: nodeAgent, headers: authHeaders, ...tlsRest } = tls;
      const agent = this.agent ?? (nodeAgent instanceof nodeHttp().Agent ? nodeAgent : undefined);
      let res;
      try {
        res = await send({
          method: req.method,
          url: new URL(this.serverUrl + req.path + queryString(req.query)),
          headers: {
            ...(authHeaders as Record<string, string> | undefined),
            Accept: req.accept ?? "application/json",
            "User-Agent": this.settings.userAgent,
            ...(req.contentType === undefined ? {} : { "Content-Type": req.contentType }),
          },
          ...(req.body === undefined ? {} : { body: req.body }),
          tls: tlsRest,
          ...(agent === undefined ? {} : { agent }),
          signal,
          maxBodyBytes: this.settings.maxBodyBytes,
        });
      } catch (err: unknown) {
        if (req.signal?.aborted === true) throw req.signal.reason;
        throw classifyTransportError(sanitizeError(err, secrets), ctx, timeout.aborted);
      }
      const warnings = warningsOf(res.headers);
      for (const w of warnings) this.options.onWarning?.(redact(w, secrets), ctx);
      const contentType = typeof res.headers["content-type"] === "string" ? res.headers["content-type"] : undefined;
      if (res.status >= 400) {
        const retryAfter = res.headers["retry-after"];
        throw classifyResponse(
          { status: res.status, body: redact(res.body, secrets), ...(contentType === undefined ? {} : { contentType }), ...(typeof retryAfter === "string" ? { retryAfter } : {}) },
          ctx,
        );
      }
      return { status: res.status, body: res.body, contentType, warnings };
    } finally {
      release();
    }
  }

  /** TLS material and a fresh Authorization header from the kubeconfig. */
  private async tlsOptions(): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = {};
    try {
      await this.kc.applyToHTTPSOptions(opts);
    } catch (err: unknown) {
      const hint = this.serverUrl.startsWith("http:") ? "plain HTTP needs insecure-skip-tls-verify: true in the kubeconfig" : undefined;
      throw new GitwardError("cluster", `cluster ${this.context} (${this.server}): cannot prepare credentials`, {
        ...(hint === undefined ? {} : { hint }),
        cause: sanitizeError(err, credentialsOf(opts)),
      });
    }
    return opts;
  }
}

/** Parses a JSON answer; anything else is a `KubeApiError` of kind `Unknown`. */
export function parseJson(res: RawResponse, ctx: RequestContext): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new KubeApiError({ kind: "Unknown", status: res.status, text: `the answer is not JSON (${res.contentType ?? "no content type"})` }, ctx);
  }
}

/** Parses a JSON answer that must be an object. */
export function parseObject(res: RawResponse, ctx: RequestContext): KObject {
  const value = parseJson(res, ctx);
  if (!isRecord(value)) throw new KubeApiError({ kind: "Unknown", status: res.status, text: "the answer is not a JSON object" }, ctx);
  return value;
}

function withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

function queryString(query: RawRequest["query"]): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, String(v));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}
