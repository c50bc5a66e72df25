import { writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A request the test server saw, body read in full. */
export interface SeenRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

/** Answers one request; may destroy the socket to simulate a reset. */
export type Handler = (req: SeenRequest, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

/** A tiny local HTTP server that records what it is asked and how many requests overlap. */
export interface TestServer {
  readonly url: string;
  readonly requests: SeenRequest[];
  /** The most requests in flight at once. */
  readonly maxInFlight: () => number;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 with a random port. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((raw, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = (): void => {
      if (!done) inFlight--;
      done = true;
    };
    res.on("close", finish);
    const chunks: Buffer[] = [];
    raw.on("data", (c: Buffer) => chunks.push(c));
    raw.on("end", () => {
      const url = new URL(raw.url ?? "/", "http://localhost");
      const seen: SeenRequest = { method: raw.method ?? "", url: raw.url ?? "", path: url.pathname, query: url.searchParams, headers: raw.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(seen);
      Promise.resolve(handler(seen, res, raw)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends a JSON answer. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** A Status body as the API server sends it. */
export function status(code: number, reason: string, message: string, details?: object): object {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details === undefined ? {} : { details }), code };
}

/** Writes a kubeconfig with one token user per context; the first context is current. */
export async function writeTestKubeconfig(path: string, contexts: readonly { name: string; server: string; token: string }[]): Promise<void> {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: contexts.map((c) => ({ name: `${c.name}-cluster`, cluster: { server: c.server, "insecure-skip-tls-verify": true } })),
    users: contexts.map((c) => ({ name: `${c.name}-user`, user: { token: c.token } })),
    contexts: contexts.map((c) => ({ name: c.name, context: { cluster: `${c.name}-cluster`, user: `${c.name}-user` } })),
    "current-context": contexts[0]?.name ?? "",
  };
  await writeFile(path, JSON.stringify(config), { mode: 0o600 });
}
