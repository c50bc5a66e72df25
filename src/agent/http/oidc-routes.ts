/**
 * The OIDC login routes: `GET /auth/login` sends the browser to the provider (authorization code
 * with PKCE, state and nonce; the state is also put in a short-lived cookie so the callback is
 * accepted only in the browser that started the login), `GET /auth/callback` opens the session.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiDeps } from "./deps.ts";
import type { OidcLogin } from "./oidc.ts";
import type { BrowserSessions } from "./session.ts";

const loginCookie = "gitward_login";
const loginCookieSeconds = 600;
const hidden = { hide: true } as const;

/**
 * Where to go after logging in, if it is a path of this agent: one leading `/` (not `//` or `/\`,
 * which browsers read as another host), printable ASCII only. Anything else is `/`.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== "string" || value.length > 2000) return "/";
  if (!/^\/(?![/\\])[\x21-\x7e]*$/.test(value)) return "/";
  return value;
}

/** Registers `/auth/login` and `/auth/callback`. */
export function oidcRoutes(root: FastifyInstance, deps: ApiDeps, sessions: BrowserSessions, oidc: OidcLogin): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const cookie = { signed: true, httpOnly: true, sameSite: "lax", secure: sessions.secure, path: "/auth/callback" } as const;

  app.get("/auth/login", {
    config: { access: "public" },
    schema: { ...hidden, querystring: z.object({ returnTo: z.string().max(2000).optional() }) },
  }, async (req, reply) => {
    if (!oidc.ready) return page(reply, 503, "Login is not available yet", "The agent cannot reach its OpenID Provider yet and keeps trying. Try again in a minute.");
    const { url, state } = await oidc.begin(safeReturnTo(req.query.returnTo));
    reply.setCookie(loginCookie, state, { ...cookie, maxAge: loginCookieSeconds });
    return reply.redirect(url, 302);
  });

  app.get("/auth/callback", { config: { access: "public" }, schema: hidden }, async (req, reply) => {
    if (!oidc.ready) return page(reply, 503, "Login is not available yet", "The agent cannot reach its OpenID Provider yet and keeps trying. Try again in a minute.");
    const raw = req.cookies[loginCookie];
    const unsigned = raw === undefined ? undefined : req.unsignCookie(raw);
    reply.clearCookie(loginCookie, cookie);
    const outcome = await oidc.finish(callbackUrl(oidc.settings.redirectUrl, req.url), unsigned?.valid === true ? (unsigned.value ?? undefined) : undefined);
    if (!outcome.ok) {
      deps.logger.warn({ status: outcome.status, ip: req.ip }, `OIDC login refused: ${outcome.reason}`);
      return page(reply, outcome.status, outcome.status === 403 ? "Access denied" : "Login failed", outcome.reason);
    }
    // A new session id on every login: a session cookie planted before the login is never promoted.
    sessions.close(req, reply);
    sessions.open(reply, outcome.session, oidc.settings.sessionTtlMs);
    return reply.redirect(outcome.returnTo, 303);
  });
}

/** The callback URL as the provider was told it (behind a proxy the request's own host may differ), with the query received. */
function callbackUrl(redirectUrl: string, requestUrl: string): URL {
  const url = new URL(redirectUrl);
  const q = requestUrl.indexOf("?");
  url.search = q < 0 ? "" : requestUrl.slice(q);
  return url;
}

function page(reply: FastifyReply, status: number, title: string, message: string): FastifyReply {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · gitward</title></head>`
    + `<body><h1>${escape(title)}</h1><p>${escape(message)}</p><p><a href="/">Back to gitward</a> · <a href="/auth/login">Log in again</a></p></body></html>`;
  return reply.code(status).type("text/html; charset=utf-8").header("cache-control", "no-store").send(body);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);
}
