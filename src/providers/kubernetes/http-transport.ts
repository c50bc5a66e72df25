import type http from "node:http";
import https from "node:https";
import { nodeHttp } from "./node-http.ts";

/** One HTTP exchange, as the transport sends it. */
export interface TransportRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** TLS material and credentials from the kubeconfig (ca, cert, key, rejectUnauthorized, auth). */
  readonly tls: https.RequestOptions;
  /** Default: node's global agent. */
  readonly agent?: http.Agent;
  readonly signal: AbortSignal;
  readonly maxBodyBytes: number;
}

/** The answer, its body read in full. */
export interface TransportResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Sends one request with node:http(s) through the given (keep-alive) agent. */
export function send(req: TransportRequest): Promise<TransportResponse> {
  const transport = req.url.protocol === "http:" ? nodeHttp() : https;
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(req.body));
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = { ...req.tls, method: req.method, headers, signal: req.signal, ...(req.agent === undefined ? {} : { agent: req.agent }) };
    const call = transport.request(req.url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > req.maxBodyBytes) call.destroy(Object.assign(new Error(`answer larger than ${req.maxBodyBytes} bytes`), { code: "ERR_BODY_TOO_LARGE" }));
        else chunks.push(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    call.on("error", reject);
    call.end(req.body);
  });
}

/** The messages of `Warning` headers (`299 - "message"`), as the API server sends for deprecated APIs. */
export function warningsOf(headers: http.IncomingHttpHeaders): string[] {
  const raw: unknown = headers["warning"];
  const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === "string");
  const out: string[] = [];
  for (const value of values) {
    // Node joins repeated headers with ", ", so one value may hold several warnings.
    const matches = [...value.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)];
    if (matches.length === 0 && value.trim() !== "") out.push(value.trim());
    for (const m of matches) out.push((m[1] ?? "").replace(/\\(.)/g, "$1"));
  }
  return out;
}
