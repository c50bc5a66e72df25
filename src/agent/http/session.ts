/**
 * Browser sessions: a signed, httpOnly, SameSite=Lax cookie `gitward_session` holding only a
 * random id; the agent keeps what it stands for (the principal, its expiry, a CSRF secret) in
 * memory. Opened by OIDC login or by token login (`POST /auth/token`), so the UI never keeps a
 * token in JavaScript. Writes authenticated by the cookie must carry `x-csrf-token`.
 */
import fastifyCookie from "@fastify/cookie";
import fastifyCsrf from "@fastify/csrf-protection";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Principal } from "./access.ts";
import type { Store } from "../../store/store.ts";
import { httpError } from "./errors.ts";
import type { OidcLogin } from "./oidc.ts";
import { randomId, SessionStore, type Session, type SessionData } from "./session-store.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The live browser session the request's cookie names, if any. */
    browserSession?: Session;
    /** Where @fastify/csrf-protection reads the session's CSRF secret (`_csrf`). */
    session?: { readonly _csrf: string };
  }
}

/** The session cookie's name. */
export const sessionCookie = "gitward_session";

/** Paths whose writes need no CSRF token: webhooks are signature-verified, token login opens a session rather than using one. */
const csrfExempt = new Set(["/hooks/git", "/auth/token"]);

/** How browser sessions are set up (from the agent configuration's `sessions` and `oidc`). */
export interface BrowserSessionOptions {
  /** Key signing the cookie; default a random key, so sessions end when the agent restarts. */
  readonly secret?: string;
  /** Mark cookies `Secure`: the agent serves HTTPS or is reached through an https `url`. */
  readonly secure: boolean;
  /** How long a token login's session lasts (an OIDC login's: `oidc.sessionTtl`). */
  readonly ttlMs: number;
  readonly oidc?: OidcLogin;
  /** The agent's public URL: where the provider sends the browser after logging out. */
  readonly url?: string;
  readonly store?: SessionStore;
}

/**
 * The agent's browser sessions: the store, the cookie settings, the OIDC login when configured,
 * and {@link principal}, the hook the API's principal resolution asks first.
 */
export class BrowserSessions {
  readonly store: SessionStore;
  readonly secret: string;
  readonly secure: boolean;
  readonly ttlMs: number;
  readonly oidc: OidcLogin | undefined;
  readonly url: string | undefined;

  constructor(o: BrowserSessionOptions) {
    this.store = o.store ?? new SessionStore();
    this.secret = o.secret ?? randomId();
    this.secure = o.secure;
    this.ttlMs = o.ttlMs;
    this.oidc = o.oidc;
    this.url = o.url;
  }

  /**
   * The principal of the request's session. A request carrying an `Authorization` header is
   * the header's: a bearer request is judged by its token alone (and needs no CSRF token).
   */
  readonly principal = (req: FastifyRequest): Principal | undefined =>
    req.headers.authorization === undefined ? req.browserSession?.principal : undefined;

  /** Opens a session and sets its cookie; the answer carries the session's CSRF token. */
  open(reply: FastifyReply, data: SessionData, ttlMs: number, notAfter?: number): Session {
    const session = this.store.create(data, ttlMs, notAfter);
    reply.setCookie(sessionCookie, session.id, this.cookieOptions(session.expiresAt));
    reply.request.browserSession = session;
    reply.request.session = session;
    return session;
  }

  /** Ends the request's session, if any, and clears its cookie. */
  close(req: FastifyRequest, reply: FastifyReply): Session | undefined {
    const session = req.browserSession;
    if (session !== undefined) this.store.delete(session.id);
    reply.clearCookie(sessionCookie, this.cookieOptions());
    return session;
  }

  /** The cookie attributes: signed, httpOnly, SameSite=Lax, Path=/, Secure over HTTPS. */
  cookieOptions(expiresAt?: number): { signed: true; httpOnly: true; sameSite: "lax"; secure: boolean; path: "/"; maxAge?: number } {
    return {
      signed: true, httpOnly: true, sameSite: "lax", secure: this.secure, path: "/",
      ...(expiresAt === undefined ? {} : { maxAge: Math.max(1, Math.ceil((expiresAt - Date.now()) / 1000)) }),
    };
  }

  /** The CSRF token for the request's session (for `/auth/csrf` and `/me`); undefined without a session. */
  csrfToken(req: FastifyRequest, reply: FastifyReply): string | undefined {
    return csrfTokenOf(req, reply);
  }

  /**
   * Installs cookies, CSRF protection and the hook that loads the session on every request, on
   * the root instance (both plugins are global). Routes are in `session-routes.ts` and `oidc-routes.ts`.
   */
  async install(app: FastifyInstance, deps: { readonly store: Pick<Store, "findToken"> }): Promise<void> {
    await app.register(fastifyCookie, { secret: this.secret, hook: "onRequest" });
    await app.register(fastifyCsrf, {
      sessionPlugin: "@fastify/session", sessionKey: "_csrf",
      // Only the header: a form field or a query parameter could be planted by another site.
      getToken: (req: FastifyRequest) => {
        const v = req.headers["x-csrf-token"];
        return typeof v === "string" ? v : undefined;
      },
    });
    app.addHook("onRequest", async (req, reply) => {
      const raw = req.cookies[sessionCookie];
      if (raw === undefined) return;
      const unsigned = req.unsignCookie(raw);
      const session = unsigned.valid && unsigned.value !== null ? this.store.get(unsigned.value) : undefined;
      // A token login lasts only as long as its token: revoked or expired, the session ends too.
      if (session?.tokenHash !== undefined && await deps.store.findToken(session.tokenHash) === undefined) {
        this.store.delete(session.id);
        return;
      }
      if (session === undefined) return;
      req.browserSession = session;
      req.session = session;
      if (!needsCsrf(req)) return;
      if (!this.#csrfValid(app, req, reply)) {
        throw httpError(403, "forbidden", "missing or invalid CSRF token: a write made with the session cookie must send the x-csrf-token header (GET /auth/csrf or /api/v1/me gives it)");
      }
    });
    app.addHook("onClose", () => this.oidc?.stop());
  }

  #csrfValid(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply): boolean {
    let ok = false;
    // The plugin's check answers through reply.send on failure; a stand-in reply keeps the error shape ours.
    const silent = { send: () => silent, request: req, log: reply.log } as unknown as FastifyReply;
    app.csrfProtection(req, silent, () => {
      ok = true;
    });
    return ok;
  }
}

/** Whether a request is a write made with the session cookie (and not a bearer token), so it must prove it is not cross-site. */
function needsCsrf(req: FastifyRequest): boolean {
  if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return false;
  if (req.headers.authorization !== undefined) return false;
  return !csrfExempt.has(req.url.split("?")[0] ?? "");
}

/**
 * The CSRF token for a request made with a session cookie, or undefined (no session, or a bearer
 * request): for `GET /api/v1/me` to include as `csrfToken`.
 */
export function csrfTokenOf(req: FastifyRequest, reply: FastifyReply): string | undefined {
  return req.browserSession === undefined || req.headers.authorization !== undefined ? undefined : reply.generateCsrf();
}
