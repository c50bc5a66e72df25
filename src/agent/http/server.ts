/**
 * The agent's HTTP server: health, metrics and webhooks, and the versioned API `/api/v1` of the
 * route modules in `modules.ts`, each route validated by its zod schemas, guarded by its declared
 * access, described in `/api/openapi.json`. Nothing it returns holds a credential or a path of the
 * agent's machine: unexpected errors are logged and answered 500 with a fixed message.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Store } from "../../store/store.ts";
import type { Agent } from "../agent.ts";
import { DeliveryLog } from "../deliveries.ts";
import { defaultHttpSettings, limitedServer, type HttpSettings } from "../listen.ts";
import type { AgentMetrics } from "../metrics.ts";
import type { WebhookSecrets } from "../webhooks.ts";
import type { ApiDeps, PrincipalResolver } from "./deps.ts";
import { installErrorHandlers } from "./errors.ts";
import { authorize, installGuard, readable, readsAll } from "./guard.ts";
import { apiModules } from "./modules.ts";
import { principalResolver } from "./principal.ts";
import { installOpenApi, openApiRoute } from "./openapi.ts";
import { systemRoutes } from "./system-routes.ts";
import type { BrowserSetup } from "./deps.ts";

/** The most a request body to the API may hold. */
export const apiBodyLimitBytes = 64 * 1024;

/** What the HTTP server serves. */
export interface ServerOptions {
  readonly agent: Agent;
  readonly store: Store;
  readonly metrics: AgentMetrics;
  readonly logger: Logger;
  readonly branch: string;
  /** The legacy single token (`api.token`): admin on every environment. */
  readonly apiToken?: string;
  /** Who the legacy token stands for in the audit log; default `api-token`. */
  readonly apiTokenName?: string;
  /** Reads need no credentials (`api.anonymousRead`); default false. */
  readonly anonymousRead?: boolean;
  /** Who a request acts as; default API tokens of the store, the legacy token, and anonymous reads when allowed (no sessions). */
  readonly resolvePrincipal?: PrincipalResolver;
  readonly webhookSecrets: WebhookSecrets;
  /** Webhook deliveries remembered to ignore replays; default 24 h and 10,000 deliveries. */
  readonly deliveries?: DeliveryLog;
  /** Connection limits, timeouts and TLS; default {@link defaultHttpSettings}. */
  readonly http?: HttpSettings;
  /** The version in the OpenAPI document; default `1`. */
  readonly version?: string;
  /** Browser sessions and security settings (the agent's); without, the API serves bearer tokens and security headers only. */
  readonly browser?: BrowserSetup;
}

/** Builds the server with every route module registered; the caller listens (or injects). */
export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const http = o.http ?? defaultHttpSettings();
  // The agent logs what matters itself (refused webhooks, triggers); no per-request lines.
  const app = Fastify({ logger: false, bodyLimit: apiBodyLimitBytes, serverFactory: (handler) => limitedServer(handler, http) });
  const anonymousRead = o.anonymousRead ?? false;
  const apiTokenName = o.apiTokenName ?? "api-token";
  const resolvePrincipal = o.resolvePrincipal ?? principalResolver({ store: o.store, legacyToken: o.apiToken, legacyTokenName: apiTokenName, anonymousRead });
  installErrorHandlers(app, o.logger);
  await installOpenApi(app, o.version ?? "1");
  installGuard(app, resolvePrincipal);
  await systemRoutes(app, {
    agent: o.agent, metrics: o.metrics, logger: o.logger, branch: o.branch, webhookSecrets: o.webhookSecrets, deliveries: o.deliveries ?? new DeliveryLog(),
  });
  const deps: ApiDeps = {
    agent: o.agent, store: o.store, logger: o.logger, metrics: o.metrics, branch: o.branch, anonymousRead, apiTokenName,
    resolvePrincipal, authorize, readable, readsAll, browser: o.browser,
  };
  for (const module of apiModules) await module(app, deps);
  openApiRoute(app);
  await app.ready();
  return app;
}
