import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { isIP } from "node:net";
import { ErrorCode, GitwardError } from "../core/errors.ts";

/** The HTTP server's limits and transport; see the agent configuration's `http`. */
export interface HttpSettings {
  /** Connections open at once; more are closed as they arrive. */
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** PEM certificate and key: HTTPS instead of HTTP. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

/** The defaults of the agent configuration's `http`. */
export function defaultHttpSettings(): HttpSettings {
  return { maxConnections: 512, idleTimeoutMs: 30_000, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The Node server under the agent's API, with its limits: a flood of idle connections is turned
 * away at `maxConnections` and cut after the idle and headers timeouts, instead of holding file
 * descriptors until spawning git fails. HTTPS when a certificate is given.
 */
export function limitedServer(handler: Handler, s: HttpSettings): Server {
  // An https.Server is served the same way; Fastify's types only know http.Server.
  const server: Server = s.tls === undefined ? createHttpServer(handler) : createHttpsServer({ cert: s.tls.cert, key: s.tls.key }, handler);
  server.maxConnections = s.maxConnections;
  server.timeout = s.idleTimeoutMs;
  server.keepAliveTimeout = Math.min(5000, s.idleTimeoutMs);
  server.headersTimeout = s.headersTimeoutMs;
  server.requestTimeout = Math.max(s.requestTimeoutMs, s.headersTimeoutMs);
  return server;
}

/** Splits `host:port` (`[::1]:8080` for IPv6). */
export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(":");
  if (i <= 0 || !/^\d+$/.test(listen.slice(i + 1))) {
    throw new GitwardError(ErrorCode.Config, `--listen ${listen}: expected host:port, e.g. 127.0.0.1:8080`);
  }
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(listen.slice(i + 1)) };
}

/** True for an address only this machine can reach: localhost, 127.0.0.0/8, ::1. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  return h.startsWith("::ffff:127.");
}

/**
 * What is exposed when the agent listens beyond loopback, each with what to do; empty on
 * loopback. Without TLS the API token and webhook payloads cross the network in clear; without
 * an API token status and history are readable by anyone who can connect, and writes are off.
 */
export function exposureWarnings(host: string, o: { readonly tls: boolean; readonly apiToken: boolean }): string[] {
  if (isLoopback(host)) return [];
  const out: string[] = [];
  if (!o.tls) {
    out.push(`listening on ${host} without TLS: the API token, webhook payloads, status and history cross the network in clear. `
      + "Set http.tls (cert, key) in the agent configuration, put a TLS-terminating proxy in front and listen on 127.0.0.1, or listen on 127.0.0.1 only");
  }
  if (!o.apiToken) {
    out.push(`listening on ${host} without an API token: nothing on this port is authenticated (status, history and drift are open to anyone who can connect; gitward sync is refused). `
      + "Set api.token in the agent configuration (or $GITWARD_API_TOKEN), and keep the port behind a firewall or a proxy if the reads must be private");
  }
  return out;
}
