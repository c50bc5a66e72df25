import { STATUS_CODES } from "node:http";
import { GitwardError } from "../core/errors.ts";
import { isRecord } from "../core/object.ts";
import { KubeClient } from "../providers/kubernetes/client.ts";
import type { DiscoveryClient, ResourceInfo } from "../providers/kubernetes/discovery.ts";
import { Discovery } from "../providers/kubernetes/discovery.ts";
import { isApiError } from "../providers/kubernetes/errors.ts";
import { defaultRetryPolicy } from "../providers/kubernetes/retry.ts";
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

/** The schema validator of a cluster, named after its context and version. */
export function clusterSchemaValidator(info: ClusterInfo): SchemaValidator {
  return createOpenApiValidator(info.openapi, `cluster ${info.context} (${info.version})`);
}

/**
 * Reads version, OpenAPI v2 and discovery from the cluster a kubeconfig context points to,
 * through the Kubernetes provider's client ({@link KubeClient}: kubeconfig as kubectl loads it,
 * exec plugins, tokens and client certificates) and discovery. Each request is sent once: a
 * check before a render does not wait out retries. Failures are `cluster` errors naming the
 * context, server and request; credentials never appear in them.
 */
export async function fetchClusterInfo(opts: FetchClusterInfoOptions = {}): Promise<ClusterInfo> {
  const timeoutMs = opts.timeoutMs ?? defaultClusterTimeoutMs;
  const client = await KubeClient.connect({
    ...(opts.kubeconfigPath === undefined ? {} : { kubeconfigPath: opts.kubeconfigPath }),
    ...(opts.context === undefined ? {} : { context: opts.context }),
    settings: { requestTimeoutMs: timeoutMs, retry: { ...defaultRetryPolicy(), maxAttempts: 1 } },
  });
  const failFast = new AbortController();
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([timeout, failFast.signal, ...(opts.signal ? [opts.signal] : [])]);
  const report = new FailureReport(client, { timeout, timeoutMs, caller: opts.signal });
  // Discovery sees the client's own errors, so that it can carry on without an unavailable group version.
  const get: DiscoveryClient["getJson"] = (path, _signal, context) =>
    client.getJson(path, signal, context).catch((err: unknown) => {
      throw report.interrupted(err, path);
    });
  try {
    const [version, openapi, resources] = await Promise.all([
      get("/version").then((body) => versionOf(report, body)),
      get("/openapi/v2"),
      new Discovery({ getJson: get }).readAll({ concurrency: discoveryConcurrency, signal }).then(resourceIndex),
    ]);
    if (!isRecord(openapi)) throw report.fail("GET /openapi/v2: the answer is not a JSON object");
    return { context: client.context, server: client.server, version, openapi, resources };
  } catch (err: unknown) {
    // The first failure is the one reported; the requests still running are stopped.
    failFast.abort();
    throw report.describe(err);
  } finally {
    client.close();
  }
}

/** Builds an {@link ApiResourceIndex} from APIResourceList documents; subresources are left out. */
export function buildResourceIndex(lists: readonly unknown[], unavailable: readonly string[] = []): ApiResourceIndex {
  const resources: IndexEntry[] = [];
  for (const list of lists) {
    if (!isRecord(list) || typeof list["groupVersion"] !== "string" || !Array.isArray(list["resources"])) continue;
    const gv = list["groupVersion"];
    const slash = gv.indexOf("/");
    const [group, version] = slash < 0 ? ["", gv] : [gv.slice(0, slash), gv.slice(slash + 1)];
    for (const r of list["resources"]) {
      if (!isRecord(r) || typeof r["name"] !== "string" || typeof r["kind"] !== "string") continue;
      if (r["name"].includes("/")) continue;
      const namespaced = typeof r["namespaced"] === "boolean" ? r["namespaced"] : undefined;
      resources.push({ group, version, kind: r["kind"], resource: r["name"], namespaced });
    }
  }
  return resourceIndex({ resources, unavailable });
}

/** One resource of the index; the scope may be unknown in a hand-made document. */
type IndexEntry = Pick<ResourceInfo, "group" | "version" | "kind" | "resource"> & { readonly namespaced: boolean | undefined };

function resourceIndex(served: { readonly resources: readonly IndexEntry[]; readonly unavailable: readonly string[] }): ApiResourceIndex {
  const scopes = new Map<string, boolean>();
  const plurals = new Map<string, string>();
  for (const r of served.resources) {
    if (r.namespaced !== undefined) scopes.set(`${r.group}/${r.kind}`, r.namespaced);
    plurals.set(`${r.group}/${r.version}/${r.kind}`, r.resource);
  }
  return {
    isNamespaced: (group, kind) => scopes.get(`${group}/${kind}`),
    resourceFor: (group, version, kind) => plurals.get(`${group}/${version}/${kind}`),
    unavailable: [...served.unavailable],
  };
}

function versionOf(report: FailureReport, body: unknown): string {
  if (isRecord(body) && typeof body["gitVersion"] === "string") return body["gitVersion"];
  throw report.fail("GET /version: the answer has no gitVersion");
}

interface Signals {
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

/**
 * Says what went wrong in the terms of this exchange, from the client's classified error:
 * `cluster kind (https://...): GET /openapi/v2: 403 Forbidden: <the server's message>`.
 */
class FailureReport {
  private readonly client: KubeClient;
  private readonly signals: Signals;

  constructor(client: KubeClient, signals: Signals) {
    this.client = client;
    this.signals = signals;
  }

  fail(detail: string, hint?: string, cause?: unknown): GitwardError {
    return new GitwardError("cluster", `cluster ${this.client.context} (${this.client.server}): ${detail}`, {
      ...(hint === undefined ? {} : { hint }),
      ...(cause === undefined ? {} : { cause }),
    });
  }

  /** A request ended by the timeout or the caller, in those terms; any other failure as it is. */
  interrupted(err: unknown, path: string): unknown {
    const { caller, timeout, timeoutMs } = this.signals;
    if (caller?.aborted === true) return caller.reason;
    if (timeout.aborted) return this.fail(`GET ${path}: timed out after ${timeoutMs} ms`);
    return err;
  }

  /** A failure of the client (a {@link KubeApiError}) as this exchange reports it; anything else as it is. */
  describe(err: unknown): unknown {
    if (!isApiError(err)) return err;
    const path = err.path ?? "";
    if (err.status >= 400) return this.httpFailure(path, err.status, err.statusReason, err.statusMessage);
    if (err.status > 0) return this.fail(`GET ${path}: the answer is not JSON (HTTP ${err.status})`);
    const code = err.errno ?? "";
    const known = networkReasons[code];
    // The client's cause is the transport error with credentials redacted.
    const cause = err.cause;
    if (known !== undefined) return this.fail(`GET ${path}: ${known}`, "is the cluster running and the server address right?", cause);
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      return this.fail(`GET ${path}: TLS verification failed (${code})`, "check certificate-authority in the kubeconfig", cause);
    }
    return this.fail(`GET ${path}: request failed`, undefined, cause);
  }

  private httpFailure(path: string, status: number, statusReason: string | undefined, statusMessage: string | undefined): GitwardError {
    const reason = statusReason ?? STATUS_CODES[status] ?? "";
    const message = statusMessage ?? "";
    const detail = `GET ${path}: ${status} ${reason}${message !== "" && message !== reason ? `: ${message}` : ""}`;
    if (status === 401) return this.fail(detail, "the credentials were refused: log in again or refresh the token in the kubeconfig");
    if (status === 403) return this.fail(detail, "the user may not read discovery and OpenAPI: check its RBAC permissions");
    return this.fail(detail);
  }
}
