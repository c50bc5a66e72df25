/**
 * The browser-facing modules of the API server: security headers and rate limits
 * ({@link securityModule}), and sessions with OIDC and token login ({@link sessionModule}). The
 * agent binds its {@link BrowserSessions} to the principal resolver it gives the server
 * ({@link withBrowserSessions}); a server built without one (tests of other routes) gets the
 * security headers only.
 */
import type { ApiDeps, ApiModule, PrincipalResolver } from "./deps.ts";
import { oidcRoutes } from "./oidc-routes.ts";
import { installSecurity, type SecurityOptions } from "./security.ts";
import type { BrowserSessions } from "./session.ts";
import { sessionRoutes } from "./session-routes.ts";

/** What the browser modules need beyond the API's deps. */
export interface BrowserSetup {
  readonly sessions: BrowserSessions;
  readonly security: SecurityOptions;
}

const setups = new WeakMap<PrincipalResolver, BrowserSetup>();

/**
 * Binds browser sessions and security settings to the principal resolver the server is given,
 * so the modules registered with that server find them through `deps.resolvePrincipal`.
 */
export function withBrowserSessions(resolver: PrincipalResolver, setup: BrowserSetup): PrincipalResolver {
  setups.set(resolver, setup);
  return resolver;
}

function setupOf(deps: ApiDeps): BrowserSetup | undefined {
  return setups.get(deps.resolvePrincipal);
}

/** Whether the server offers OIDC login (`/auth/login`). */
export function offersOidc(deps: ApiDeps): boolean {
  return setupOf(deps)?.sessions.oidc !== undefined;
}

/** Security headers on every answer; with a bound setup, HSTS over HTTPS and the rate limits too. */
export const securityModule: ApiModule = async (app, deps) => {
  const setup = setupOf(deps);
  if (setup === undefined) {
    await installSecurity(app, { https: false, limitRates: false });
    return;
  }
  await installSecurity(app, setup.security);
};

/** Session cookies, CSRF protection, `/auth/token`, `/auth/csrf`, `/auth/logout`, and with OIDC `/auth/login` and `/auth/callback`. */
export const sessionModule: ApiModule = async (app, deps) => {
  const setup = setupOf(deps);
  if (setup === undefined) return;
  const { sessions } = setup;
  await sessions.install(app, deps);
  sessionRoutes(app, deps, sessions);
  if (sessions.oidc !== undefined) oidcRoutes(app, deps, sessions, sessions.oidc);
};
