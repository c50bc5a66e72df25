import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { GitwardError } from "../core/errors.ts";
import { isRecord } from "../core/object.ts";
import { mapLimit } from "../core/map-limit.ts";
import { loadKubeConfig } from "../providers/kubernetes/kubeconfig.ts";
import { nodeHttp } from "../providers/kubernetes/node-http.ts";
import type { ScopeResolver } from "../render/scopes.ts";
import type { SchemaValidator } from "./schema-offline.ts";
import { createOpenApiValidator } from "./schema-openapi.ts";

/** What gitward learns about a cluster before checking against it: version, schemas, resources. */
export interface ClusterInfo {
  readonly context: string;
  /** The API server URL, without any credentials it may carry. */
  readonly server: string;
  /** The server's `gitVersion`, e.g. `v1.24.0`. */
  readonly version: string;
  /** The parsed /openapi/v2 document. */
  readonly openapi: object;
  readonly resources: ApiResourceIndex;
}

/** The resources a cluster serves, from its discovery documents. */
export interface ApiResourceIndex extends ScopeResolver {
  /** The plural resource name (`deployments`) of a kind in a group version, or undefined. */
  resourceFor(group: string, version: string, kind: string): string | undefined;
  /** Group versions whose discovery document the server could not give (an aggregated API down). */
  readonly unavailable: readonly string[];
}

/** Options for {@link fetchClusterInfo}. */
export interface FetchClusterInfoOptions {
  /** Default: `$KUBECONFIG` or `~/.kube/config`, as kubectl finds it. */
  readonly kubeconfigPath?: string;
  /** Default: the kubeconfig's current context. */
  readonly context?: string;
  readonly signal?: AbortSignal;
  /** For the whole exchange; default {@link defaultClusterTimeoutMs}. */
  readonly timeoutMs?: number;
}

/** The default time {@link fetchClusterInfo} may take. */
export const defaultClusterTimeoutMs = 30_000;

const discoveryConcurrency = 8;
const maxBodyBytes = 64 * 1024 * 1024;

/** The schema validator of a cluster, named after its context and version. */
export function clusterSchemaValidator(info: ClusterInfo): SchemaValidator {
  return createOpenApiValidator(info.openapi, `cluster ${info.context} (${info.version})`);
}

/**
 * Reads version, OpenAPI v2 and discovery from the cluster a kubeconfig context points to. The
 * kubeconfig is loaded by @kubernetes/client-node, so exec plugins, tokens and client
 * certificates work as in kubectl. Failures are `cluster` errors naming the context and server;
 * credentials never appear in them.
 */
export async function fetchClusterInfo(opts: FetchClusterInfoOptions = {}): Promise<ClusterInfo> {
  const timeoutMs = opts.timeoutMs ?? defaultClusterTimeoutMs;
  const failFast = new AbortController();
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([timeout, failFast.signal, ...(opts.signal ? [opts.signal] : [])]);
  const client = await connect(opts, signal, timeout, timeoutMs);
  try {
    const [version, openapi, resources] = await Promise.all([
      client.getJson("/version").then((body) => versionOf(client, body)),
      client.getJson("/openapi/v2"),
      discover(client),
    ]);
    if (!isRecord(openapi)) throw client.fail("GET /openapi/v2: the answer is not a JSON object");
    return { context: client.context, server: client.server, version, openapi, resources };
  } catch (err: unknown) {
    failFast.abort();
    throw err;
  }
}

/** Builds an {@link ApiResourceIndex} from APIResourceList documents; subresources are left out. */
export function buildResourceIndex(lists: readonly unknown[], unavailable: readonly string[] = []): ApiResourceIndex {
  const scopes = new Map<string, boolean>();
  const plurals = new Map<string, string>();
  for (const list of lists) {
    if (!isRecord(list) || typeof list["groupVersion"] !== "string" || !Array.isArray(list["resources"])) continue;
    const gv = list["groupVersion"];
    const slash = gv.indexOf("/");
    const [group, version] = slash < 0 ? ["", gv] : [gv.slice(0, slash), gv.slice(slash + 1)];
    for (const r of list["resources"]) {
      if (!isRecord(r) || typeof r["name"] !== "string" || typeof r["kind"] !== "string") continue;
      if (r["name"].includes("/")) continue;
      if (typeof r["namespaced"] === "boolean") scopes.set(`${group}/${r["kind"]}`, r["namespaced"]);
      plurals.set(`${group}/${version}/${r["kind"]}`, r["name"]);
    }
  }
  return {
    isNamespaced: (group, kind) => scopes.get(`${group}/${kind}`),
    resourceFor: (group, version, kind) => plurals.get(`${group}/${version}/${kind}`),
    unavailable: [...unavailable],
  };
}

async function discover(client: Client): Promise<ApiResourceIndex> {
  const [core, groups] = await Promise.all([client.getJson("/api"), client.getJson("/apis")]);
  const paths: string[] = [];
  if (isRecord(core) && Array.isArray(core["versions"])) {
    for (const v of core["versions"]) if (typeof v === "string") paths.push(`/api/${v}`);
  }
  if (isRecord(groups) && Array.isArray(groups["groups"])) {
    for (const g of groups["groups"]) {
      const versions = isRecord(g) && Array.isArray(g["versions"]) ? g["versions"] : [];
      for (const v of versions) if (isRecord(v) && typeof v["groupVersion"] === "string") paths.push(`/apis/${v["groupVersion"]}`);
    }
  }
  const unavailable: string[] = [];
  const lists = await mapLimit(paths, discoveryConcurrency, async (path) => {
    const res = await client.get(path);
    // An aggregated API whose backend is down answers 503; kubectl carries on without it.
    if (res.status === 503 || res.status === 404) {
      unavailable.push(path.replace(/^\/apis?\//, ""));
      return undefined;
    }
    return client.parse(path, res);
  });
  return buildResourceIndex(lists, unavailable.sort());
}

function versionOf(client: Client, body: unknown): string {
  if (isRecord(body) && typeof body["gitVersion"] === "string") return body["gitVersion"];
  throw client.fail("GET /version: the answer has no gitVersion");
}

interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

interface Client {
  readonly context: string;
  readonly server: string;
  get(path: string): Promise<HttpResponse>;
  getJson(path: string): Promise<unknown>;
  parse(path: string, res: HttpResponse): unknown;
  fail(detail: string, hint?: string, cause?: unknown): GitwardError;
}

async function connect(
  opts: FetchClusterInfoOptions,
  signal: AbortSignal,
  timeout: AbortSignal,
  timeoutMs: number,
): Promise<Client> {
  const kc = await loadKubeConfig(opts);
  const { context, serverUrl } = currentCluster(kc);
  const server = displayServer(serverUrl);
  const secrets: string[] = [];
  const fail = (detail: string, hint?: string, cause?: unknown): GitwardError =>
    new GitwardError("cluster", redact(`cluster ${context} (${server}): ${detail}`, secrets), {
      ...(hint === undefined ? {} : { hint }),
      ...(cause === undefined ? {} : { cause: sanitizeCause(cause, secrets) }),
    });
  const base: https.RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(base);
  } catch (err: unknown) {
    const hint = serverUrl.startsWith("http:") ? "plain HTTP needs insecure-skip-tls-verify: true in the kubeconfig" : undefined;
    throw fail(`cannot prepare credentials: ${err instanceof Error ? err.message : String(err)}`, hint);
  }
  secrets.push(...credentialsOf(base));
  const get = (path: string): Promise<HttpResponse> =>
    request(new URL(serverUrl.replace(/\/+$/, "") + path), base, signal).catch((err: unknown) => {
      throw classifyNetworkError(err, path, { fail, signal, timeout, timeoutMs, caller: opts.signal });
    });
  const parse = (path: string, res: HttpResponse): unknown => {
    if (res.status >= 400) throw httpError(path, res, fail);
    try {
      return JSON.parse(res.body) as unknown;
    } catch {
      throw fail(`GET ${path}: the answer is not JSON (HTTP ${res.status})`);
    }
  };
  return { context, server, get, parse, fail, getJson: async (path) => parse(path, await get(path)) };
}

function currentCluster(kc: KubeConfig): { context: string; serverUrl: string } {
  const context = kc.getCurrentContext() ?? "";
  const cluster = kc.getCurrentCluster();
  if (context === "") throw new GitwardError("cluster", "the kubeconfig has no current context; name one");
  if (cluster === null || cluster.server === "") {
    throw new GitwardError("cluster", `cluster ${context}: the kubeconfig context names no cluster server`);
  }
  // client-node's last resort when it finds no kubeconfig at all.
  if (context === "loaded-context" && cluster.server === "http://localhost:8080") {
    throw new GitwardError("cluster", "no kubeconfig found", { hint: "set KUBECONFIG or pass a kubeconfig path" });
  }
  return { context, serverUrl: cluster.server };
}


function request(url: URL, base: https.RequestOptions, signal: AbortSignal): Promise<HttpResponse> {
  const transport = url.protocol === "http:" ? nodeHttp() : https;
  const headers = { ...(base.headers ?? {}), Accept: "application/json" };
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { ...base, method: "GET", headers, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) req.destroy(new Error(`response larger than ${maxBodyBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function httpError(path: string, res: HttpResponse, fail: Client["fail"]): GitwardError {
  let status: unknown;
  try {
    status = JSON.parse(res.body);
  } catch {
    status = undefined;
  }
  const reason = isRecord(status) && typeof status["reason"] === "string" ? status["reason"] : nodeHttp().STATUS_CODES[res.status] ?? "";
  const message = isRecord(status) && typeof status["message"] === "string" ? status["message"] : "";
  const detail = `GET ${path}: ${res.status} ${reason}${message !== "" && message !== reason ? `: ${message}` : ""}`;
  if (res.status === 401) return fail(detail, "the credentials were refused: log in again or refresh the token in the kubeconfig");
  if (res.status === 403) return fail(detail, "the user may not read discovery and OpenAPI: check its RBAC permissions");
  return fail(detail);
}

interface NetworkContext {
  readonly fail: Client["fail"];
  readonly signal: AbortSignal;
  readonly timeout: AbortSignal;
  readonly timeoutMs: number;
  readonly caller: AbortSignal | undefined;
}

const networkReasons: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPROTO: "TLS handshake failed (does the server speak HTTPS?)",
};

function classifyNetworkError(err: unknown, path: string, ctx: NetworkContext): unknown {
  if (ctx.caller?.aborted === true) return ctx.caller.reason;
  if (ctx.timeout.aborted) return ctx.fail(`GET ${path}: timed out after ${ctx.timeoutMs} ms`);
  // Another request already failed and aborted this one; that failure is the one reported.
  if (ctx.signal.aborted) return err;
  const code = (err as { code?: unknown }).code;
  const codeText = typeof code === "string" ? code : "";
  const known = networkReasons[codeText];
  if (known !== undefined) return ctx.fail(`GET ${path}: ${known}`, "is the cluster running and the server address right?", err);
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(codeText)) {
    return ctx.fail(`GET ${path}: TLS verification failed (${codeText})`, "check certificate-authority in the kubeconfig", err);
  }
  return ctx.fail(`GET ${path}: request failed`, undefined, err);
}

function credentialsOf(opts: https.RequestOptions): string[] {
  const out: string[] = [];
  const auth = (opts.headers as Record<string, unknown> | undefined)?.["Authorization"];
  if (typeof auth === "string") out.push(auth, auth.replace(/^\S+\s+/, ""));
  if (typeof opts.auth === "string") out.push(opts.auth, opts.auth.slice(opts.auth.indexOf(":") + 1));
  return out.filter((s) => s.length >= 4);
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.replaceAll(secret, "<redacted>");
  return out;
}

function sanitizeCause(cause: unknown, secrets: readonly string[]): Error {
  const message = cause instanceof Error ? cause.message : String(cause);
  const clean = new Error(redact(message, secrets));
  const code = (cause as { code?: unknown }).code;
  if (typeof code === "string") Object.assign(clean, { code });
  return clean;
}

/** The server URL as shown in messages: user name and password in it are removed. */
function displayServer(server: string): string {
  try {
    const url = new URL(server);
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/$/, "");
  } catch {
    return server;
  }
}
