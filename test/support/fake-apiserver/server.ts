import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { authenticate, forbidden, isAllowed, requestInfo } from "./auth.ts";
import { loadDiscovery, discoveryRoutes } from "./discovery.ts";
import type { User } from "./http.ts";
import { sendPageNotFound, sendStatus } from "./http.ts";
import { loadOpenApi, openApiRoutes } from "./openapi.ts";
import type { Route } from "./router.ts";
import { matchRoute } from "./router.ts";

/** Options for {@link startFakeApiServer}. */
export interface FakeApiServerOptions {
  /** The admin (system:masters) bearer token; default a random one. */
  readonly token?: string;
  /** More users without RBAC bindings: they may read discovery and OpenAPI, nothing else. */
  readonly users?: readonly { readonly token: string; readonly name: string }[];
  /** Serve discovery as it was once the Widget CRD (gitward.example.com/v1) existed. Default false. */
  readonly withWidgetCrd?: boolean;
}

/** One request the fake received, for tests that check what a client sent. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly user: string;
}

/** A running fake API server on 127.0.0.1. */
export interface FakeApiServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The admin bearer token. */
  readonly token: string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * Starts an in-process Kubernetes API server that answers from the recordings of a real
 * v1.24 server: discovery, OpenAPI v2, bearer-token authentication and RBAC's answers for
 * anonymous and unprivileged users. Routes live in a table so later concerns add rows.
 */
export async function startFakeApiServer(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const token = opts.token ?? randomBytes(24).toString("hex");
  const tokens = new Map<string, User>([[token, { name: "admin", admin: true }]]);
  for (const u of opts.users ?? []) tokens.set(u.token, { name: u.name, admin: false });
  const [discovery, openapi] = await Promise.all([loadDiscovery(opts.withWidgetCrd === true), loadOpenApi()]);
  const routes: Route[] = [...discoveryRoutes(discovery), ...openApiRoutes(openapi)];
  const requests: ReceivedRequest[] = [];

  const server = createServer((req, res) => {
    handle(req, res, routes, tokens, requests).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const message = err instanceof Error ? err.message : String(err);
      sendStatus(res, { code: 500, reason: "InternalError", message }, {});
    });
  });
  await listen(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    close: () => close(server),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: readonly Route[],
  tokens: ReadonlyMap<string, User>,
  requests: ReceivedRequest[],
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://fake");
  const method = req.method ?? "GET";
  const user = authenticate(req.headers.authorization, tokens);
  requests.push({ method, url: `${url.pathname}${url.search}`, user: user === "invalid" ? "<invalid>" : user.name });
  if (user === "invalid") {
    return sendStatus(res, { code: 401, reason: "Unauthorized", message: "Unauthorized" }, {});
  }
  const info = requestInfo(method, url);
  if (!isAllowed(user, info)) return sendStatus(res, forbidden(user, info), { user, nosniff: true });
  const match = matchRoute(routes, method, url.pathname);
  if (match === undefined) return sendPageNotFound(res, user);
  await match.route.handle({ req, res, url, user, info, params: match.params });
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err === undefined ? resolve() : reject(err)));
    // Keep-alive sockets from clients (agents) would hold close() open.
    server.closeAllConnections();
  });
}
