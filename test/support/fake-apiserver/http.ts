import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Who a request comes from, as the fake's authenticator decided. */
export interface User {
  readonly name: string;
  /** In group system:masters: may do anything. Other users may read discovery and OpenAPI only. */
  readonly admin: boolean;
}

/** The user of a request without credentials. */
export const anonymousUser: User = { name: "system:anonymous", admin: false };

// The priority-and-fairness headers as recorded: the exempt flow schema for system:masters,
// global-default for everyone else. The 401 answer has none (it is decided before APF).
const exemptFlow = ["20c5647d-b1e7-4a3b-9810-2c62fe5f40c3", "7d8681ad-706a-48a8-88a2-481fc63f1c42"] as const;
const defaultFlow = ["7d5495ca-d744-4ca8-8eab-af15a3dc4418", "5a4521ab-3c44-41b3-9ed5-e54f55d6685e"] as const;

/** How a response is written: which of the recorded extra headers it carries. */
export interface ReplyOptions {
  /** Absent for answers given before authentication succeeded (401). */
  readonly user?: User;
  /** `x-content-type-options: nosniff`, which the server sets on 403s and text 404s. */
  readonly nosniff?: boolean;
  /** Indented JSON without a trailing newline, as /version and 406 answers are served. */
  readonly pretty?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The headers every answer carries: audit-id, cache-control and, after authentication, the APF ones. */
export function baseHeaders(opts: ReplyOptions): Record<string, string> {
  const headers: Record<string, string> = { "audit-id": randomUUID(), "cache-control": "no-cache, private" };
  if (opts.nosniff === true) headers["x-content-type-options"] = "nosniff";
  if (opts.user !== undefined) {
    const [flow, level] = opts.user.admin ? exemptFlow : defaultFlow;
    headers["x-kubernetes-pf-flowschema-uid"] = flow;
    headers["x-kubernetes-pf-prioritylevel-uid"] = level;
  }
  return { ...headers, ...opts.headers };
}

/** Writes a JSON answer serialized the way the API server does (compact, newline-terminated). */
export function sendJson(res: ServerResponse, status: number, body: unknown, opts: ReplyOptions): void {
  const text = opts.pretty === true ? JSON.stringify(body, null, 2) : `${JSON.stringify(body)}\n`;
  const payload = Buffer.from(text, "utf8");
  const headers = { ...baseHeaders(opts), "content-type": "application/json" };
  // Go's net/http buffers 2048 bytes before it commits to a Content-Length; larger bodies
  // (the discovery lists of big groups) are sent chunked, as recorded.
  if (payload.length <= goBufferBeforeChunking) {
    res.writeHead(status, { ...headers, "content-length": String(payload.length) });
    res.end(payload);
  } else {
    res.writeHead(status, headers);
    res.write(payload);
    res.end();
  }
}

const goBufferBeforeChunking = 2048;

/** Writes a failure `Status` object; `details` is left out when undefined, as the 401 answer does. */
export function sendStatus(
  res: ServerResponse,
  failure: { code: number; reason?: string | undefined; message: string; details?: Record<string, unknown> | undefined },
  opts: ReplyOptions,
): void {
  const body = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: failure.message,
    ...(failure.reason === undefined ? {} : { reason: failure.reason }),
    ...(failure.details === undefined ? {} : { details: failure.details }),
    code: failure.code,
  };
  sendJson(res, failure.code, body, opts);
}

/** The plain-text 404 of paths no API handler claims (unknown groups, /openapi/v3). */
export function sendPageNotFound(res: ServerResponse, user: User): void {
  const payload = Buffer.from("404 page not found\n", "utf8");
  res.writeHead(404, {
    ...baseHeaders({ user, nosniff: true }),
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(payload.length),
  });
  res.end(payload);
}

/** Reads a request body as UTF-8 text (at most 16 MiB, like the API server's limit area). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > 16 * 1024 * 1024) throw new Error("request body too large");
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}
