import { badRequest } from "./errors.ts";
import type { ResourceType } from "./resources.ts";
import type { JsonObject } from "./values.ts";
import { isObject } from "./values.ts";

/** A request for a served resource, parsed from its URL. */
export interface ResourceRequest {
  readonly r: ResourceType;
  /** The namespace of the URL; "" for cluster-scoped resources and lists across namespaces. */
  readonly namespace: string;
  /** "" for collections. */
  readonly name: string;
  /** "" or a subresource such as "status". */
  readonly subresource: string;
  readonly query: URLSearchParams;
  readonly body: string;
  readonly contentType: string;
  readonly userAgent: string | undefined;
  readonly accept: string | undefined;
}

/** A JSON answer to a resource request. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** True when the request asks for a dry run (`dryRun=All`). */
export function isDryRun(req: ResourceRequest): boolean {
  return req.query.getAll("dryRun").includes("All");
}

/**
 * Decodes a JSON request body into an object of the resource's kind; a syntax error is the
 * API server's 400 "the object provided is unrecognized".
 */
export function decodeJsonBody(req: ResourceRequest): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body);
  } catch (err: unknown) {
    const snippet = req.body.length > 30 ? `${req.body.slice(0, 30)} ...` : req.body;
    throw badRequest(`the object provided is unrecognized (must be of type ${req.r.kind}): couldn't get version/kind; json parse error: ${goJsonError(err, req.body)} (${snippet})`);
  }
  if (!isObject(parsed)) {
    throw badRequest(`the object provided is unrecognized (must be of type ${req.r.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(parsed) ? "array" : typeof parsed} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`);
  }
  return parsed;
}

function goJsonError(err: unknown, body: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const position = Number(/at position (\d+)/.exec(message)?.[1] ?? "-1");
  if (/end of JSON input|Unterminated/i.test(message) || position >= body.trimEnd().length) return "unexpected end of JSON input";
  const token = /Unexpected token '?(.)'?/.exec(message)?.[1];
  return token === undefined ? message : `invalid character '${token}' looking for beginning of value`;
}
