import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { authenticate, forbidden, isAllowed, requestInfo } from "./auth.ts";
import { bootstrap } from "./bootstrap.ts";
import type { ControllerTiming } from "./cluster.ts";
import { Cluster, defaultTiming } from "./cluster.ts";
import { startControllers } from "./controllers.ts";
import { crdDiscovery } from "./crd-discovery.ts";
import type { WorkloadMode } from "./deployment-controller.ts";
import { discoveryRoutes, loadDiscovery } from "./discovery.ts";
import type { FaultSpec } from "./faults.ts";
import { Faults, answerFault } from "./faults.ts";
import type { User } from "./http.ts";
import { sendPageNotFound, sendStatus } from "./http.ts";
import { loadOpenApi, openApiRoutes } from "./openapi.ts";
import { resourceRoutes } from "./resource-routes.ts";
import type { Route } from "./router.ts";
import { matchRoute } from "./router.ts";
import { WatchHub } from "./watch.ts";

/** Options for {@link startFakeApiServer}. */
export interface FakeApiServerOptions {
  /** The admin (system:masters) bearer token; default a random one. */
  readonly token?: string;
  /** More users without RBAC bindings: they may read discovery and OpenAPI, nothing else. */
  readonly users?: readonly { readonly token: string; readonly name: string }[];
  /** Start with the recorded Widget CRD (gitward.example.com/v1) created and established. Default false. */
  readonly withWidgetCrd?: boolean;
  /** The clock of timestamps (creationTimestamp, managedFields times); default the system clock. */
  readonly clock?: () => Date;
  /** How fast the simulated controllers act; see {@link ControllerTiming} for the defaults. */
  readonly timing?: Partial<ControllerTiming>;
  /** Whether Deployments stay unavailable as on the recorded cluster ("pending", default) or become ready. */
  readonly workloads?: WorkloadMode;
  /** Events per resource the watch cache keeps before old resourceVersions are Expired. Default 1000. */
  readonly watchCacheSize?: number;
}

/** One request the fake received, for tests that check what a client sent. */
export interface ReceivedRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly path: string;
  /** The query parameters (the last value of repeated ones). */
  readonly query: Readonly<Record<string, string>>;
  readonly user: string;
  /** The answer's status code; 0 while unanswered or when the connection was reset. */
  readonly status: number;
}

/** A running fake API server on 127.0.0.1. */
export interface FakeApiServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The admin bearer token. */
  readonly token: string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  /** Forgets the requests received so far. */
  clearRequests(): void;
  /** Makes the next matching request(s) fail: 429 with Retry-After, 500, 503, or a reset connection. */
  fault(spec: FaultSpec): void;
  /** Drops faults not yet consumed. */
  clearFaults(): void;
  /** Stops accepting connections (open ones and watches are closed); the port stays reserved for {@link up}. */
  down(): Promise<void>;
  /** Accepts connections again on the same port. */
  up(): Promise<void>;
  /** Errors thrown inside the simulated controllers (expected to stay empty). */
  readonly controllerErrors: readonly unknown[];
  close(): Promise<void>;
}

/**
 * Starts an in-process Kubernetes API server that behaves like the recorded v1.24 server:
 * discovery, OpenAPI v2, authentication and RBAC answers, an object store with server-side
 * apply and managedFields, lists, watches and deletes, and the controllers whose effects the
 * recordings show (namespaces, garbage collection, CRDs, Deployment status).
 */
export async function startFakeApiServer(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const token = opts.token ?? randomBytes(24).toString("hex");
  const tokens = new Map<string, User>([[token, { name: "admin", admin: true }]]);
  for (const u of opts.users ?? []) tokens.set(u.token, { name: u.name, admin: false });
  const [discovery, openapi] = await Promise.all([loadDiscovery(), loadOpenApi()]);
  const cluster = new Cluster({
    resourceLists: discovery.resourceLists.values(),
    openapi: JSON.parse(openapi.body.toString("utf8")) as unknown,
    clock: opts.clock ?? (() => new Date()),
    timing: { ...defaultTiming, ...opts.timing },
    ...(opts.watchCacheSize === undefined ? {} : { watchCacheSize: opts.watchCacheSize }),
  });
  const controllers = startControllers(cluster, opts.workloads ?? "pending");
  await bootstrap(cluster, { withWidgetCrd: opts.withWidgetCrd === true });
  const watches = new WatchHub();
  const routes: Route[] = [...discoveryRoutes(discovery, crdDiscovery(cluster)), ...openApiRoutes(openapi), ...resourceRoutes(cluster, watches)];
  const requests: ReceivedRequest[] = [];
  const faults = new Faults();

  const server = createServer((req, res) => {
    handle({ req, res, routes, tokens, requests, faults }).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const message = err instanceof Error ? err.message : String(err);
      sendStatus(res, { code: 500, reason: "InternalError", message }, {});
    });
  });
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;
  const stop = async () => {
    watches.closeAll();
    await close(server);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    clearRequests: () => void requests.splice(0),
    fault: (spec) => faults.add(spec),
    clearFaults: () => faults.clear(),
    down: stop,
    up: () => listen(server, port),
    controllerErrors: controllers.errors,
    async close() {
      controllers.stop();
      if (server.listening) await stop();
    },
  };
}

interface HandleContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly routes: readonly Route[];
  readonly tokens: ReadonlyMap<string, User>;
  readonly requests: ReceivedRequest[];
  readonly faults: Faults;
}

async function handle({ req, res, routes, tokens, requests, faults }: HandleContext): Promise<void> {
  const url = new URL(req.url ?? "/", "http://fake");
  const method = req.method ?? "GET";
  const user = authenticate(req.headers.authorization, tokens);
  const entry = {
    method,
    url: `${url.pathname}${url.search}`,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    user: user === "invalid" ? "<invalid>" : user.name,
    status: 0,
  };
  requests.push(entry);
  res.on("finish", () => {
    entry.status = res.statusCode;
  });
  const fault = faults.take(method, url.pathname);
  if (fault !== undefined) return answerFault(fault, req, res);
  if (user === "invalid") {
    return sendStatus(res, { code: 401, reason: "Unauthorized", message: "Unauthorized" }, {});
  }
  const info = requestInfo(method, url);
  if (!isAllowed(user, info)) return sendStatus(res, forbidden(user, info), { user, nosniff: true });
  const match = matchRoute(routes, method, url.pathname);
  if (match === undefined) return sendPageNotFound(res, user);
  await match.route.handle({ req, res, url, user, info, params: match.params });
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
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
