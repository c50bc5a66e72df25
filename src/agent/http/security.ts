/**
 * Security headers (`@fastify/helmet`) on every answer and rate limits (`@fastify/rate-limit`) on
 * login routes (per IP) and API writes (per credential, else per IP). Reads are not limited: the
 * UI and the benchmark read at thousands of requests a second.
 */
import { createHash } from "node:crypto";
import fastifyHelmet from "@fastify/helmet";
import fastifyRateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { errorBody } from "./errors.ts";

/** A limit: at most `max` requests in `windowMs`. */
export interface RateLimit {
  readonly max: number;
  readonly windowMs: number;
}

/** How the headers and limits are set. */
export interface SecurityOptions {
  /** The agent serves HTTPS (or is reached through an https `url`): send HSTS. */
  readonly https: boolean;
  /** `/auth/login`, `/auth/callback`, `/auth/token`, per client IP; default 10 a minute. */
  readonly login?: RateLimit;
  /** `POST`, `PUT`, `PATCH`, `DELETE` under `/api/v1/`, per token or session (else IP); default 60 a minute. */
  readonly writes?: RateLimit;
  /** Apply the limits; default true (a server built for a test of other routes turns them off). */
  readonly limitRates?: boolean;
}

/** The login routes a password-guessing or token-guessing client would hammer. */
const loginPaths = new Set(["/auth/login", "/auth/callback", "/auth/token"]);

/** The Content Security Policy for the single-page app: its own scripts, styles and API only; never framed. */
export const contentSecurityPolicy = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  "style-src": ["'self'"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'"],
  "connect-src": ["'self'"],
  "object-src": ["'none'"],
  "base-uri": ["'self'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
} as const;

/** Installs the headers and the limits on the root instance. */
export async function installSecurity(app: FastifyInstance, o: SecurityOptions): Promise<void> {
  await app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: { ...contentSecurityPolicy, ...(o.https ? { "upgrade-insecure-requests": [] } : {}) } },
    // Over plain HTTP the header is ignored by browsers and would pin a future HTTPS host by mistake.
    strictTransportSecurity: o.https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    referrerPolicy: { policy: "no-referrer" },
    xContentTypeOptions: true,
    xFrameOptions: { action: "deny" },
    crossOriginEmbedderPolicy: false,
  });
  if (o.limitRates === false) return;
  // Not global: reads stay unlimited; the two limiters below are asked only for the routes they guard.
  await app.register(fastifyRateLimit, { global: false });
  const login = limiter(app, o.login ?? { max: 10, windowMs: 60_000 }, (req) => `ip:${req.ip}`);
  const writes = limiter(app, o.writes ?? { max: 60, windowMs: 60_000 }, writeKey);
  app.addHook("onRequest", async (req, reply) => {
    const path = req.url.split("?")[0] ?? "";
    const check = loginPaths.has(path) ? login : isWrite(req.method) && path.startsWith("/api/v1/") ? writes : undefined;
    if (check === undefined) return;
    const r = await check(req);
    // isAllowed means allow-listed; a counted request is refused only once past the limit.
    if (r.isAllowed || !r.isExceeded) return;
    const retryAfter = Math.max(1, r.ttlInSeconds);
    return reply.code(429).header("retry-after", String(retryAfter))
      .send(errorBody("too_many_requests", `too many requests: at most ${String(r.max)} in ${String(Math.round(r.timeWindow / 1000))} s; try again in ${String(retryAfter)} s`));
  });
}

function limiter(app: FastifyInstance, limit: RateLimit, key: (req: FastifyRequest) => string): ReturnType<FastifyInstance["createRateLimit"]> {
  return app.createRateLimit({ max: limit.max, timeWindow: limit.windowMs, keyGenerator: key });
}

function isWrite(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH" || method === "DELETE";
}

/**
 * Writes are counted per credential (the bearer token or the session cookie, hashed: the key
 * never holds either), else per IP, so users behind one proxy do not share one budget.
 */
function writeKey(req: FastifyRequest): string {
  const auth = req.headers.authorization;
  if (auth !== undefined) return `t:${digest(auth)}`;
  const session = /(?:^|;\s*)gitward_session=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
  return session === undefined ? `ip:${req.ip}` : `s:${digest(session)}`;
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("base64url").slice(0, 22);
}
