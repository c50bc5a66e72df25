/**
 * The API's one error shape, `{error: {code, message}}`, and the fastify handlers that produce it
 * for every failure: thrown {@link HttpError}s, validation failures (400 naming the field),
 * fastify's own client errors (body too large, bad JSON, bad content type), unknown routes, and
 * everything else as a 500 with a fixed message while the details go to the log only.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { ErrorBody, ErrorCode } from "./schemas.ts";

/** An error meant for the client: its status, code and one-line message are sent as they are. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: ErrorCode;

  constructor(statusCode: number, code: ErrorCode, message: string) {
    super(message);
    this.name = "HttpError";
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** An {@link HttpError} to throw from a handler or hook: `throw httpError(404, "not_found", "no stack dev/web")`. */
export function httpError(status: number, code: ErrorCode, message: string): HttpError {
  return new HttpError(status, code, message);
}

/** The body of an error answer. */
export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/** The message of every 500: details stay in the agent's log. */
export const internalMessage = "internal error; the agent's log has the details";

const codeByStatus: Readonly<Record<number, ErrorCode>> = {
  400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "bad_request", 406: "bad_request",
  409: "conflict", 411: "bad_request", 413: "payload_too_large", 414: "bad_request", 415: "bad_request", 429: "too_many_requests", 431: "bad_request",
  503: "unavailable",
};

/** The error code for an HTTP status. */
export function codeFor(status: number): ErrorCode {
  return codeByStatus[status] ?? (status >= 500 ? "internal" : "bad_request");
}

interface ValidationIssue { readonly instancePath?: string; readonly message?: string; readonly keyword?: string; readonly params?: Record<string, unknown> }

const partNames: Readonly<Record<string, string>> = { querystring: "query parameter", body: "body field", params: "path parameter", headers: "header" };

/** A validation failure as one line naming the field: `query parameter limit: Too big: expected number to be <=200`. */
export function validationMessage(context: string | undefined, issues: readonly ValidationIssue[]): string {
  const part = partNames[context ?? ""] ?? "field";
  const first = issues[0];
  if (first === undefined) return `invalid ${part}`;
  const keys = first.params?.["keys"];
  if (first.keyword === "unrecognized_keys" && Array.isArray(keys)) {
    return `unknown ${part}${keys.length === 1 ? "" : "s"} ${keys.map((k) => JSON.stringify(String(k).slice(0, 40))).join(", ")}`;
  }
  const path = (first.instancePath ?? "").replace(/^\//, "").replaceAll("/", ".");
  if (path === "" && context === "body") return `the body: ${first.message ?? "invalid"}`;
  return `${part} ${path === "" ? "(whole)" : path}: ${first.message ?? "invalid"}`;
}

/** Installs the error and not-found handlers on the root instance. */
export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error: FastifyError & { validation?: readonly ValidationIssue[] }, req: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof HttpError) return reply.code(error.statusCode).send(errorBody(error.code, error.message));
    if (Array.isArray(error.validation)) return reply.code(400).send(errorBody("bad_request", validationMessage(error.validationContext, error.validation)));
    // Fastify's own 4xx (body too large, bad JSON, bad content type) say what the client did wrong.
    const status = typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status < 500) return reply.code(status).send(errorBody(codeFor(status), clientMessage(status, error)));
    // Store errors name the state file, serialization errors show data: logged, never returned.
    logger.error({ method: req.method, url: req.url.split("?")[0], err: error.message }, "request failed");
    return reply.code(500).send(errorBody("internal", internalMessage));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody("not_found", `no route ${req.method} ${(req.url.split("?")[0] ?? "").slice(0, 200)}`)));
}

function clientMessage(status: number, error: FastifyError): string {
  if (status === 413) return "the request body is too large (at most 64 KiB)";
  if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return "unsupported content type: send application/json";
  if (error.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return "the body is empty: send a JSON object";
  // JSON.parse messages quote the input; keep only the first line and bound it.
  return (error.message.split("\n")[0] ?? "bad request").slice(0, 200);
}
