import { GitwardError } from "../../core/errors.ts";
import { isRecord } from "../../core/object.ts";
import type { ObjRef } from "../../core/objref.ts";
import type { StatusCause } from "./status-body.ts";
import { parseStatus } from "./status-body.ts";

export type { StatusCause } from "./status-body.ts";

/**
 * API failures, classified once at the boundary from the Status body (`reason`, `code`,
 * `details.causes`) or the transport error `code`, never from message text. Each class says
 * whether repeating the same request can succeed.
 */

/** The classes of API failure. */
export const ApiErrorKind = {
  NotFound: "NotFound",
  /** A text/plain "404 page not found": the group version (or a deleted CRD's kind) is not served. */
  NotServed: "NotServed",
  AlreadyExists: "AlreadyExists",
  /** Optimistic concurrency: a stale resourceVersion or a failed delete precondition. */
  Conflict: "Conflict",
  /** Server-side apply: fields another manager owns with another value. */
  ApplyConflict: "ApplyConflict",
  Invalid: "Invalid",
  /** A 500 without a reason from an apply: the patch does not fit the type's schema (wrong type, unknown field, kind). */
  ApplyRejected: "ApplyRejected",
  BadRequest: "BadRequest",
  Unauthorized: "Unauthorized",
  Forbidden: "Forbidden",
  MethodNotAllowed: "MethodNotAllowed",
  NotAcceptable: "NotAcceptable",
  UnsupportedMediaType: "UnsupportedMediaType",
  Gone: "Gone",
  Expired: "Expired",
  TooManyRequests: "TooManyRequests",
  InternalError: "InternalError",
  ServerTimeout: "ServerTimeout",
  Timeout: "Timeout",
  ServiceUnavailable: "ServiceUnavailable",
  /** Nothing listened: the request was never sent. */
  ConnectionRefused: "ConnectionRefused",
  /** The connection broke or the host was unreachable; the request may have been acted on. */
  ConnectionFailed: "ConnectionFailed",
  /** No answer within the client's request timeout. */
  RequestTimeout: "RequestTimeout",
  HostNotFound: "HostNotFound",
  TlsFailed: "TlsFailed",
  /** An answer that is not a Status gitward can read, or a failure not otherwise known. */
  Unknown: "Unknown",
} as const;
/** One of {@link ApiErrorKind}. */
export type ApiErrorKind = (typeof ApiErrorKind)[keyof typeof ApiErrorKind];

/** How repeating the request fares: never, always, or only when the request is idempotent. */
export type Retryability = "no" | "yes" | "idempotent";

// "idempotent": the server may have acted before failing, so a create could run twice.
const retryability: Readonly<Record<ApiErrorKind, Retryability>> = {
  NotFound: "no",
  NotServed: "no",
  AlreadyExists: "no",
  Conflict: "no",
  ApplyConflict: "no",
  Invalid: "no",
  ApplyRejected: "no",
  BadRequest: "no",
  Unauthorized: "no",
  Forbidden: "no",
  MethodNotAllowed: "no",
  NotAcceptable: "no",
  UnsupportedMediaType: "no",
  Gone: "no",
  Expired: "no",
  TooManyRequests: "yes",
  InternalError: "idempotent",
  ServerTimeout: "idempotent",
  Timeout: "idempotent",
  ServiceUnavailable: "yes",
  ConnectionRefused: "yes",
  ConnectionFailed: "idempotent",
  RequestTimeout: "idempotent",
  HostNotFound: "no",
  TlsFailed: "no",
  Unknown: "no",
};

/** Whether a class of failure may succeed when the same request is sent again. */
export function retryabilityOf(kind: ApiErrorKind): Retryability {
  return retryability[kind];
}

/** One field of a server-side apply conflict. */
export interface FieldConflict {
  readonly manager: string;
  /** Set for Update-operation managers (`kubectl-edit` using `v1`). */
  readonly apiVersion?: string;
  /** Set when the manager wrote through a subresource (`kubectl-scale` with subresource `scale`). */
  readonly subresource?: string;
  readonly field: string;
}

/** What the failed request was about, for the message. */
export interface RequestContext {
  /** What was being done: `get`, `list`, `apply`, `create`, `delete`, `discover`, ... */
  readonly operation: string;
  readonly ref?: ObjRef;
  readonly method?: string;
  readonly path?: string;
  /** True for applies (PATCH with application/apply-patch+yaml). */
  readonly apply?: boolean;
}

/** What {@link KubeApiError} is made of. */
export interface KubeApiErrorInit {
  readonly kind: ApiErrorKind;
  /** HTTP status; 0 for transport failures. */
  readonly status: number;
  readonly text: string;
  readonly causes?: readonly StatusCause[];
  readonly conflicts?: readonly FieldConflict[];
  readonly retryAfterSeconds?: number;
  /** The transport error code, e.g. `ECONNRESET`. */
  readonly errno?: string;
  /** The Status answer's own `reason` and `message`, as the server sent them (credentials redacted). */
  readonly statusReason?: string;
  readonly statusMessage?: string;
}

/**
 * A failed Kubernetes API request. The message names the object and ends with the cause:
 * `Deployment/web/api: apply failed (Invalid): spec.selector: Required value`.
 */
export class KubeApiError extends GitwardError {
  readonly kind: ApiErrorKind;
  readonly status: number;
  readonly causes: readonly StatusCause[];
  readonly conflicts: readonly FieldConflict[];
  readonly retryAfterSeconds: number | undefined;
  readonly errno: string | undefined;
  /** The Status answer's `reason` (`Forbidden`), when it was a Status with one. */
  readonly statusReason: string | undefined;
  /** The Status answer's `message`, when it was a Status with one. */
  readonly statusMessage: string | undefined;
  readonly operation: string;
  /** The request's path, when known. */
  readonly path: string | undefined;

  constructor(init: KubeApiErrorInit, context: RequestContext, cause?: unknown) {
    const hint = hintOf(init.kind);
    super("cluster", detailOf(init, context), {
      ...(context.ref === undefined ? {} : { subject: { ref: context.ref } }),
      ...(hint === undefined ? {} : { hint }),
      ...(cause === undefined ? {} : { cause }),
    });
    this.name = "KubeApiError";
    this.kind = init.kind;
    this.status = init.status;
    this.causes = init.causes ?? [];
    this.conflicts = init.conflicts ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.errno = init.errno;
    this.statusReason = init.statusReason;
    this.statusMessage = init.statusMessage;
    this.operation = context.operation;
    this.path = context.path;
  }

  /** Whether this failure may succeed when the same request is sent again. */
  get retryability(): Retryability {
    return retryability[this.kind];
  }
}

/** True when the value is a {@link KubeApiError} of the kind. */
export function isApiError(value: unknown, kind?: ApiErrorKind): value is KubeApiError {
  return value instanceof KubeApiError && (kind === undefined || value.kind === kind);
}

function detailOf(init: KubeApiErrorInit, ctx: RequestContext): string {
  const what = ctx.ref === undefined && ctx.path !== undefined ? `${ctx.operation} ${ctx.path}` : ctx.operation;
  if (init.kind === ApiErrorKind.ApplyConflict && init.conflicts !== undefined && init.conflicts.length > 0) {
    return formatConflicts(init.conflicts);
  }
  return `${what} failed (${init.kind}): ${init.text}`;
}

/**
 * `conflict with "kubectl-edit" (using v1): .data.color; conflict with "other": .spec.replicas`;
 * a subresource writer reads `conflict with "kubectl-scale" (subresource scale, using apps/v1): .spec.replicas`.
 */
function formatConflicts(conflicts: readonly FieldConflict[]): string {
  const groups: { manager: string; apiVersion: string | undefined; subresource: string | undefined; fields: string[] }[] = [];
  for (const c of conflicts) {
    const group = groups.find((g) => g.manager === c.manager && g.apiVersion === c.apiVersion && g.subresource === c.subresource);
    if (group !== undefined) group.fields.push(c.field);
    else groups.push({ manager: c.manager, apiVersion: c.apiVersion, subresource: c.subresource, fields: [c.field] });
  }
  return groups
    .map((g) => {
      const how = [...(g.subresource === undefined ? [] : [`subresource ${g.subresource}`]), ...(g.apiVersion === undefined ? [] : [`using ${g.apiVersion}`])];
      return `conflict with ${JSON.stringify(g.manager)}${how.length === 0 ? "" : ` (${how.join(", ")})`}: ${g.fields.join(", ")}`;
    })
    .join("; ");
}

function hintOf(kind: ApiErrorKind): string | undefined {
  switch (kind) {
    case ApiErrorKind.ApplyConflict:
      return "another writer owns these fields: remove them from the manifest, or apply with force to take them over";
    case ApiErrorKind.Unauthorized:
      return "the credentials were refused: log in again or refresh the token in the kubeconfig";
    case ApiErrorKind.Forbidden:
      return "check the RBAC permissions (and quotas) of the user gitward runs as";
    case ApiErrorKind.NotServed:
      return "is the API group installed (its CRD applied, its APIService available)?";
    case ApiErrorKind.TlsFailed:
      return "check certificate-authority in the kubeconfig";
    default:
      return undefined;
  }
}

/** A failed HTTP answer, as the transport read it. */
export interface HttpFailure {
  readonly status: number;
  readonly contentType?: string;
  readonly body: string;
  /** The `Retry-After` header. */
  readonly retryAfter?: string;
}

const reasonKinds: Readonly<Record<string, ApiErrorKind>> = {
  NotFound: ApiErrorKind.NotFound,
  AlreadyExists: ApiErrorKind.AlreadyExists,
  Conflict: ApiErrorKind.Conflict,
  Invalid: ApiErrorKind.Invalid,
  BadRequest: ApiErrorKind.BadRequest,
  RequestEntityTooLarge: ApiErrorKind.BadRequest,
  Unauthorized: ApiErrorKind.Unauthorized,
  Forbidden: ApiErrorKind.Forbidden,
  MethodNotAllowed: ApiErrorKind.MethodNotAllowed,
  NotAcceptable: ApiErrorKind.NotAcceptable,
  UnsupportedMediaType: ApiErrorKind.UnsupportedMediaType,
  Gone: ApiErrorKind.Gone,
  Expired: ApiErrorKind.Expired,
  TooManyRequests: ApiErrorKind.TooManyRequests,
  InternalError: ApiErrorKind.InternalError,
  ServerTimeout: ApiErrorKind.ServerTimeout,
  Timeout: ApiErrorKind.Timeout,
  ServiceUnavailable: ApiErrorKind.ServiceUnavailable,
};

const codeKinds: Readonly<Record<number, ApiErrorKind>> = {
  400: ApiErrorKind.BadRequest,
  401: ApiErrorKind.Unauthorized,
  403: ApiErrorKind.Forbidden,
  404: ApiErrorKind.NotFound,
  405: ApiErrorKind.MethodNotAllowed,
  406: ApiErrorKind.NotAcceptable,
  409: ApiErrorKind.Conflict,
  410: ApiErrorKind.Gone,
  413: ApiErrorKind.BadRequest,
  415: ApiErrorKind.UnsupportedMediaType,
  422: ApiErrorKind.Invalid,
  429: ApiErrorKind.TooManyRequests,
  500: ApiErrorKind.InternalError,
  502: ApiErrorKind.ServiceUnavailable,
  503: ApiErrorKind.ServiceUnavailable,
  504: ApiErrorKind.Timeout,
};

/**
 * Classifies a failed answer. A Status body decides by `reason`, then `code`; an apply answered
 * 500 without a reason is `ApplyRejected` (the server turns any plain error into that, and for an
 * apply it is the patch not fitting the schema, which no retry fixes); a 404 that is not a Status
 * is `NotServed` (the server has no route: unknown group version, deleted CRD).
 */
export function classifyResponse(res: HttpFailure, ctx: RequestContext): KubeApiError {
  const status = parseStatus(res.body);
  const retryAfterSeconds = status?.retryAfterSeconds ?? parseRetryAfter(res.retryAfter);
  const extra = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  if (status === undefined) {
    if (res.status === 404) {
      return new KubeApiError({ kind: ApiErrorKind.NotServed, status: 404, text: `${servedPathOf(ctx.path)} is not served (404 page not found)` }, ctx);
    }
    const kind = codeKinds[res.status] ?? (res.status >= 500 ? ApiErrorKind.InternalError : ApiErrorKind.Unknown);
    return new KubeApiError({ kind, status: res.status, text: `HTTP ${res.status}${firstLine(res.body)}`, ...extra }, ctx);
  }
  const code = status.code ?? res.status;
  const causes = status.causes;
  let kind: ApiErrorKind;
  if (status.reason === "Conflict" && causes.some((c) => c.reason === "FieldManagerConflict")) kind = ApiErrorKind.ApplyConflict;
  else if (status.reason !== "" && reasonKinds[status.reason] !== undefined) kind = reasonKinds[status.reason] as ApiErrorKind;
  else if (code === 500 && status.reason === "" && ctx.apply === true) kind = ApiErrorKind.ApplyRejected;
  else kind = codeKinds[code] ?? (code >= 500 ? ApiErrorKind.InternalError : ApiErrorKind.Unknown);
  const conflicts = kind === ApiErrorKind.ApplyConflict ? causes.filter((c) => c.reason === "FieldManagerConflict").map(conflictOf) : [];
  const causeText = causes.map((c) => (c.field !== undefined && c.field !== "" ? `${c.field}: ${c.message ?? c.reason ?? ""}` : (c.message ?? c.reason ?? ""))).join("; ");
  const text = kind === ApiErrorKind.Invalid && causeText !== "" ? causeText : status.message || causeText || `HTTP ${code}`;
  const own = { ...(status.reason === "" ? {} : { statusReason: status.reason }), ...(status.message === "" ? {} : { statusMessage: status.message }) };
  return new KubeApiError({ kind, status: code, text: oneLine(text), causes, conflicts, ...own, ...extra }, ctx);
}

// The cause message is the only place the manager is named, for the message:
// `conflict with "kubectl-edit" using v1`, `conflict with "kubectl-scale" with subresource "scale" using apps/v1`.
// Decisions about the owners of a field read managedFields instead (take-back.ts).
function conflictOf(c: StatusCause): FieldConflict {
  const m = /^conflict with ("(?:[^"\\]|\\.)*")(?: with subresource ("(?:[^"\\]|\\.)*"))?(?: using (\S+))?$/.exec(c.message ?? "");
  const manager = m?.[1] === undefined ? (c.message ?? "unknown manager") : unquote(m[1]);
  return {
    manager,
    ...(m?.[3] === undefined ? {} : { apiVersion: m[3] }),
    ...(m?.[2] === undefined ? {} : { subresource: unquote(m[2]) }),
    field: c.field ?? "",
  };
}

function unquote(text: string): string {
  try {
    return JSON.parse(text) as string;
  } catch {
    return text;
  }
}

/** `Retry-After` in seconds; HTTP dates are not sent by the API server and are ignored. */
export function parseRetryAfter(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

function servedPathOf(path: string | undefined): string {
  if (path === undefined) return "the path";
  const apis = /^\/apis\/([^/]+)\/([^/?]+)/.exec(path);
  if (apis !== null) return `${apis[1]}/${apis[2]}`;
  const core = /^\/api\/([^/?]+)/.exec(path);
  return core !== null ? (core[1] as string) : path;
}

function firstLine(body: string): string {
  const line = body.trim().split("\n")[0]?.slice(0, 200) ?? "";
  return line === "" ? "" : `: ${line}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

const transportKinds: Readonly<Record<string, ApiErrorKind>> = {
  ECONNREFUSED: ApiErrorKind.ConnectionRefused,
  ECONNRESET: ApiErrorKind.ConnectionFailed,
  EPIPE: ApiErrorKind.ConnectionFailed,
  ECONNABORTED: ApiErrorKind.ConnectionFailed,
  EHOSTUNREACH: ApiErrorKind.ConnectionFailed,
  ENETUNREACH: ApiErrorKind.ConnectionFailed,
  EAI_AGAIN: ApiErrorKind.ConnectionFailed,
  UND_ERR_SOCKET: ApiErrorKind.ConnectionFailed,
  ERR_STREAM_PREMATURE_CLOSE: ApiErrorKind.ConnectionFailed,
  ETIMEDOUT: ApiErrorKind.RequestTimeout,
  ESOCKETTIMEDOUT: ApiErrorKind.RequestTimeout,
  ENOTFOUND: ApiErrorKind.HostNotFound,
  EPROTO: ApiErrorKind.TlsFailed,
};

const transportTexts: Readonly<Partial<Record<ApiErrorKind, string>>> = {
  ConnectionRefused: "connection refused",
  ConnectionFailed: "connection failed",
  RequestTimeout: "no answer in time",
  HostNotFound: "host not found",
  TlsFailed: "TLS handshake failed",
};

/**
 * Classifies an error from the transport by its `code`. `timedOut` says the client's own request
 * timeout fired. The original error is kept as the cause.
 */
export function classifyTransportError(err: unknown, ctx: RequestContext, timedOut = false): KubeApiError {
  const raw = isRecord(err) || err instanceof Error ? (err as { code?: unknown }).code : undefined;
  const errno = typeof raw === "string" ? raw : undefined;
  let kind: ApiErrorKind = timedOut ? ApiErrorKind.RequestTimeout : ApiErrorKind.Unknown;
  if (!timedOut && errno !== undefined) {
    kind = transportKinds[errno] ?? (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(errno) ? ApiErrorKind.TlsFailed : ApiErrorKind.Unknown);
  }
  const base = transportTexts[kind] ?? "request failed";
  const text = errno === undefined ? base : `${base} (${errno})`;
  return new KubeApiError({ kind, status: 0, text, ...(errno === undefined ? {} : { errno }) }, ctx, err);
}
