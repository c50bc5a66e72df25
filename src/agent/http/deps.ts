/**
 * What every API route module is given ({@link ApiDeps}) and how a route declares who may call
 * it ({@link RouteAccess} in its `config.access`). The server enforces the declaration for every
 * route: a route under `/api/` without one is refused to everybody (fail closed).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Store } from "../../store/store.ts";
import type { Agent } from "../agent.ts";
import type { AgentMetrics } from "../metrics.ts";
import type { Action, Principal } from "./access.ts";
import type { SecurityOptions } from "./security.ts";
import type { BrowserSessions } from "./session.ts";

/**
 * Who may call a route:
 * - `{action}`: an authenticated principal (or anonymous, when anonymous reads are on and the action
 *   is `read`) allowed the action on the request's environment, taken from `params.env`, then
 *   `query.environment`, then `body.environment` (none: the action on every environment, except
 *   `read`, which then lists what is readable);
 * - `authenticated`: any principal, anonymous included when allowed (`/me`);
 * - `public`: anybody (`/api/openapi.json`, webhooks, health), no principal resolved.
 */
export type RouteAccess = { readonly action: Action; readonly environment?: (req: FastifyRequest) => string | undefined } | "authenticated" | "public";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Who may call this route; see {@link RouteAccess}. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** Who the request acts as, set before the handler runs on every non-public route. */
    principal?: Principal;
  }
}

/** Resolves who a request acts as: a token, a session, anonymous when allowed; undefined when nobody (401). */
export type PrincipalResolver = (req: FastifyRequest) => Promise<Principal | undefined>;

/** Everything a route module may use. */
export interface ApiDeps {
  readonly agent: Agent;
  readonly store: Store;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  /** The branch the agent follows. */
  readonly branch: string;
  /** Reads need no credentials (`api.anonymousRead: true`). */
  readonly anonymousRead: boolean;
  /** Who the legacy `api.token` stands for in the audit log (`api.tokenName`, default `api-token`). */
  readonly apiTokenName: string;
  /** Who a request acts as. */
  readonly resolvePrincipal: PrincipalResolver;
  /**
   * The request's principal if it may do `action` on `environment`; otherwise throws the 401 or 403
   * to answer. For checks a route makes beyond its declared access (a body naming several environments).
   */
  readonly authorize: (req: FastifyRequest, action: Action, environment?: string) => Principal;
  /** The environments the request's principal may read among `all`: lists are filtered with it. */
  readonly readable: (req: FastifyRequest, all: readonly string[]) => string[];
  /** Whether the request's principal reads every environment (no filtering needed). */
  readonly readsAll: (req: FastifyRequest) => boolean;
  /** Browser sessions (token and OIDC login) and security settings; without, only the security headers. */
  readonly browser?: BrowserSetup | undefined;
}

/** What the browser modules need beyond the API's deps: sessions (token and OIDC login) and security settings. */
export interface BrowserSetup {
  readonly sessions: BrowserSessions;
  readonly security: SecurityOptions;
}

/** A group of routes, registered by the server with the deps: `export const x: ApiModule = async (app, deps) => {…}`. */
export type ApiModule = (app: FastifyInstance, deps: ApiDeps) => Promise<void>;
