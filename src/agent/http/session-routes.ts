/**
 * The session routes: `POST /auth/token` (token login: a session for an API token, so the UI
 * never keeps the token), `GET /auth/csrf` (the session's CSRF token) and `POST /auth/logout`
 * (ends the session; with OIDC, also names the provider's logout URL).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { hashApiToken } from "../../store/tokens.ts";
import type { ApiDeps } from "./deps.ts";
import { httpError } from "./errors.ts";
import { ErrorBodySchema } from "./schemas.ts";
import type { BrowserSessions } from "./session.ts";

const GrantSchema = z.object({ role: z.enum(["viewer", "operator", "admin"]), environments: z.array(z.string()) });

/** The body of `POST /auth/token`. */
export const TokenLoginSchema = z.strictObject({ token: z.string().min(1).max(512).describe("An API token (gw_…) or the agent's api.token.") });

/** What a login answers: who the session is, until when, and its CSRF token. */
export const SessionInfoSchema = z.object({
  name: z.string(),
  kind: z.enum(["token", "legacy-token", "oidc", "anonymous"]),
  grants: z.array(GrantSchema),
  expiresAt: z.string().describe("ISO 8601: when the session ends."),
  csrfToken: z.string().describe("Send it as x-csrf-token on writes made with the session cookie."),
});

const LogoutSchema = z.object({
  loggedOut: z.literal(true),
  endSessionUrl: z.string().optional().describe("The provider's logout page, for an OIDC session: navigate there to end the login at the provider too."),
});

const tags = ["session"];
const publicAccess = { access: "public" } as const;

/** Registers the session routes; `sessions` holds the store and the cookie settings. */
export function sessionRoutes(root: FastifyInstance, deps: ApiDeps, sessions: BrowserSessions): void {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.post("/auth/token", {
    config: publicAccess,
    schema: {
      summary: "Log in with an API token: the answer sets the session cookie", tags, body: TokenLoginSchema,
      response: { 200: SessionInfoSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 429: ErrorBodySchema },
    },
  }, async (req, reply) => {
    const token = req.body.token.trim();
    // The same resolution as a bearer request, so a token logs in with exactly the grants it has on the API.
    const principal = await deps.resolvePrincipal(bearerRequest(req, token));
    if (principal === undefined || (principal.kind !== "token" && principal.kind !== "legacy-token")) {
      deps.logger.warn({ ip: req.ip }, "token login refused: unknown, revoked or expired token");
      throw httpError(401, "unauthenticated", "this token is unknown, revoked or expired");
    }
    const info = principal.kind === "token" ? await deps.store.findToken(hashApiToken(token)) : undefined;
    const notAfter = info?.expiresAt === undefined ? undefined : Date.parse(info.expiresAt);
    const session = sessions.open(reply, {
      principal, ...(principal.kind === "token" ? { tokenHash: hashApiToken(token) } : {}),
    }, sessions.ttlMs, notAfter);
    deps.logger.info({ principal: principal.name, ip: req.ip }, "token login");
    return {
      name: principal.name, kind: principal.kind, grants: principal.grants.map((g) => ({ role: g.role, environments: [...g.environments] })),
      expiresAt: new Date(session.expiresAt).toISOString(), csrfToken: reply.generateCsrf(),
    };
  });

  app.get("/auth/csrf", {
    config: publicAccess,
    schema: { summary: "The CSRF token of the session", tags, response: { 200: z.object({ csrfToken: z.string() }), 401: ErrorBodySchema } },
  }, (req, reply) => {
    const csrfToken = sessions.csrfToken(req, reply);
    if (csrfToken === undefined) throw httpError(401, "unauthenticated", "no session: log in first (/auth/login or POST /auth/token)");
    return { csrfToken };
  });

  app.post("/auth/logout", {
    config: publicAccess,
    schema: { summary: "End the session (and name the provider's logout page for an OIDC session)", tags, response: { 200: LogoutSchema, 403: ErrorBodySchema } },
  }, (req, reply) => {
    const ended = sessions.close(req, reply);
    const endSessionUrl = ended?.principal.kind === "oidc" ? sessions.oidc?.endSessionUrl(ended.idToken, sessions.url) : undefined;
    if (ended !== undefined) deps.logger.info({ principal: ended.principal.name }, "logout");
    return { loggedOut: true as const, ...(endSessionUrl === undefined ? {} : { endSessionUrl }) };
  });
}

/** A stand-in request carrying only the token, for the principal resolver (never a session: its hook reads the header first). */
function bearerRequest(req: FastifyRequest, token: string): FastifyRequest {
  return { headers: { authorization: `Bearer ${token}` }, ip: req.ip, url: req.url, method: "GET", log: req.log } as unknown as FastifyRequest;
}
