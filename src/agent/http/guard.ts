/**
 * Authentication and authorization of every route, from its `config.access` (see
 * {@link RouteAccess}): who the request acts as is resolved before validation (401 when nobody),
 * what it may do is checked after (403 naming the role and environment needed), so the check sees
 * the validated environment. A route under `/api/v1` that declares nothing is admin-only.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { can, denialReason, readableEnvironments, roleOn, type Action, type Principal } from "./access.ts";
import type { PrincipalResolver, RouteAccess } from "./deps.ts";
import { httpError } from "./errors.ts";

const failClosed: RouteAccess = { action: "tokens" };

/** The environment a request names: `params.env`, then `query.environment`, then `body.environment`. */
export function requestEnvironment(req: FastifyRequest): string | undefined {
  for (const source of [req.params, req.query, req.body]) {
    if (typeof source !== "object" || source === null) continue;
    const s = source as Record<string, unknown>;
    const v = s["env"] ?? s["environment"];
    if (typeof v === "string") return v;
  }
  return undefined;
}

/** The principal of an authenticated request, or the 401 to answer. */
function principalOf(req: FastifyRequest): Principal {
  if (req.principal === undefined) throw httpError(401, "unauthenticated", "authentication required: send Authorization: Bearer <token>, or log in");
  return req.principal;
}

/** The request's principal if it may do `action` on `environment`; else the 401 (anonymous, nobody) or 403 to answer. */
export function authorize(req: FastifyRequest, action: Action, environment?: string): Principal {
  const p = principalOf(req);
  if (action === "read" && environment === undefined) {
    // A list: filtered to what is readable, but a principal that reads nothing is refused outright.
    if (p.grants.length === 0) throw httpError(403, "forbidden", `read needs viewer on at least one environment; ${p.name} holds no role`);
    return p;
  }
  if (can(p, action, environment)) return p;
  if (p.kind === "anonymous") throw httpError(401, "unauthenticated", `${denialReason(action, environment)}: authenticate with a token or log in`);
  const held = roleOn(p, action === "audit" || action === "tokens" || environment === undefined ? "*" : environment);
  throw httpError(403, "forbidden", `${denialReason(action, environment)}; ${p.name} has ${held ?? "no role"} there`);
}

/** The environments among `all` that the request's principal may read. */
export function readable(req: FastifyRequest, all: readonly string[]): string[] {
  return req.principal === undefined ? [] : readableEnvironments(req.principal, all);
}

/** Whether the request's principal reads every environment. */
export function readsAll(req: FastifyRequest): boolean {
  return req.principal !== undefined && can(req.principal, "read", "*");
}

/** Installs the hooks on the root instance; call before any route is added. */
export function installGuard(app: FastifyInstance, resolve: PrincipalResolver): void {
  app.addHook("onRoute", (route) => {
    const path = route.url ?? route.path;
    if (path.startsWith("/api/v1") && route.config?.access === undefined) route.config = { ...route.config, access: failClosed };
  });
  app.addHook("preValidation", async (req) => {
    const access = req.routeOptions.config.access ?? "public";
    if (access === "public") return;
    // Fastify turns a repeated key into an array: refuse it rather than pick one.
    if (typeof req.query === "object" && req.query !== null) {
      for (const [key, value] of Object.entries(req.query)) {
        if (Array.isArray(value)) throw httpError(400, "bad_request", `query parameter ${key.slice(0, 40)} is given more than once; give it once`);
      }
    }
    const principal = await resolve(req);
    if (principal === undefined) throw httpError(401, "unauthenticated", "authentication required: send Authorization: Bearer <token>, or log in");
    req.principal = principal;
  });
  app.addHook("preHandler", (req, _reply, done) => {
    const access = req.routeOptions.config.access ?? "public";
    if (access === "public" || access === "authenticated") return done();
    try {
      authorize(req, access.action, access.environment === undefined ? requestEnvironment(req) : access.environment(req));
      done();
    } catch (e: unknown) {
      done(e as Error);
    }
  });
}
