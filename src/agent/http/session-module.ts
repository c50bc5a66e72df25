/**
 * The browser-facing modules of the API server: security headers and rate limits
 * ({@link securityModule}), and sessions with OIDC and token login ({@link sessionModule}). The
 * agent gives the server its browser setup (`ServerOptions.browser`, reaching the modules as
 * `deps.browser`); a server built without one (tests of other routes) gets the security headers only.
 */
import type { ApiDeps, ApiModule, BrowserSetup } from "./deps.ts";
import { oidcRoutes } from "./oidc-routes.ts";
import { installSecurity } from "./security.ts";
import { sessionRoutes } from "./session-routes.ts";

function setupOf(deps: ApiDeps): BrowserSetup | undefined {
  return deps.browser;
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
