import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import type { Agent, AgentStatus } from "../../../src/agent/agent.ts";
import { principalResolver } from "../../../src/agent/http/principal.ts";
import { buildServer } from "../../../src/agent/http/server.ts";
import { SessionStore } from "../../../src/agent/http/session-store.ts";
import { BrowserSessions, sessionCookie } from "../../../src/agent/http/session.ts";
import type { SecurityOptions } from "../../../src/agent/http/security.ts";
import { agentLogger } from "../../../src/agent/logger.ts";
import { AgentMetrics } from "../../../src/agent/metrics.ts";
import { openStore } from "../../../src/store/open.ts";
import type { Store } from "../../../src/store/store.ts";
import { generateApiToken, hashApiToken } from "../../../src/store/tokens.ts";

const legacyToken = "legacy-secret-token";
const logger = agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false });

/** An agent that records triggers and reports one environment: the server is tested on its own. */
function fakeAgent(triggers: unknown[]): Agent {
  const status: AgentStatus = { repo: "/repo", branch: "main", environments: [], queue: { depth: 0, inFlight: 0 }, loops: {} };
  return {
    trigger: (trigger: unknown) => {
      triggers.push(trigger);
      return Promise.resolve({ revision: "a".repeat(40), queued: 1 });
    },
    status: () => Promise.resolve(status),
    readiness: () => ({ ready: true, reasons: [] }),
  } as unknown as Agent;
}

interface Harness { app: FastifyInstance; triggers: unknown[]; clock: { now: number } }

async function harness(store: Store, security: Partial<SecurityOptions> = {}, secure = false): Promise<Harness> {
  const triggers: unknown[] = [];
  const clock = { now: Date.now() };
  const sessions = new BrowserSessions({ secure, ttlMs: 3600_000, store: new SessionStore({ now: () => clock.now }) });
  const resolvePrincipal = principalResolver({ store, legacyToken, anonymousRead: false, session: sessions.principal });
  const app = await buildServer({
    agent: fakeAgent(triggers), store, metrics: new AgentMetrics({ defaults: false }), branch: "main", logger,
    webhookSecrets: {}, apiToken: legacyToken, resolvePrincipal, browser: { sessions, security: { https: secure, ...security } },
  });
  return { app, triggers, clock };
}

/** The `name=value` of a Set-Cookie header, for the next request's Cookie header. */
function cookieOf(setCookie: string | string[] | undefined, name: string): { pair: string; attributes: string } {
  const all = Array.isArray(setCookie) ? setCookie : setCookie === undefined ? [] : [setCookie];
  const line = all.find((c) => c.startsWith(`${name}=`));
  assert.ok(line !== undefined, `no ${name} cookie in ${JSON.stringify(all)}`);
  const [pair = "", ...rest] = line.split(";");
  return { pair, attributes: rest.join(";") };
}

describe("browser sessions", () => {
  let work: string;
  let store: Store;
  let operatorToken: string;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-session-"));
    store = await openStore(`sqlite:${join(work, "state.db")}`);
    operatorToken = generateApiToken();
    await store.createToken({ name: "dev-operator", role: "operator", environments: ["dev"], hash: hashApiToken(operatorToken), createdBy: "test" });
  });
  after(async () => {
    await store.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function login(h: Harness, token = operatorToken): Promise<{ cookie: string; csrf: string; attributes: string }> {
    const r = await h.app.inject({ method: "POST", url: "/auth/token", payload: { token } });
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json<{ name: string; csrfToken: string }>();
    const { pair, attributes } = cookieOf(r.headers["set-cookie"], sessionCookie);
    return { cookie: pair, csrf: body.csrfToken, attributes };
  }

  it("token login opens a session with the token's grants, in a signed httpOnly SameSite=Lax cookie holding no token", async () => {
    const h = await harness(store);
    const r = await h.app.inject({ method: "POST", url: "/auth/token", payload: { token: operatorToken } });
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json<{ name: string; kind: string; grants: unknown; csrfToken: string; expiresAt: string }>();
    assert.equal(body.name, "dev-operator");
    assert.equal(body.kind, "token");
    assert.deepEqual(body.grants, [{ role: "operator", environments: ["dev"] }]);
    assert.ok(body.csrfToken.length > 10);
    const { pair, attributes } = cookieOf(r.headers["set-cookie"], sessionCookie);
    assert.match(attributes, /HttpOnly/i);
    assert.match(attributes, /SameSite=Lax/i);
    assert.match(attributes, /Path=\//);
    assert.doesNotMatch(attributes, /Secure/i, "plain HTTP: no Secure attribute");
    assert.ok(!pair.includes(operatorToken), "the cookie never holds the token");
    // A signed cookie: the id, a dot and the signature.
    assert.match(decodeURIComponent(pair.slice(sessionCookie.length + 1)), /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9+/_=-]+$/);
    const me = await h.app.inject({ url: "/api/v1/me", headers: { cookie: pair } });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json<{ name: string }>().name, "dev-operator");
    await h.app.close();
  });

  it("cookies are Secure when the agent is reached over HTTPS, and HSTS is sent", async () => {
    const h = await harness(store, {}, true);
    const r = await h.app.inject({ method: "POST", url: "/auth/token", payload: { token: operatorToken } });
    assert.match(cookieOf(r.headers["set-cookie"], sessionCookie).attributes, /Secure/i);
    assert.match(String(r.headers["strict-transport-security"]), /max-age=31536000/);
    await h.app.close();
  });

  it("refuses unknown tokens with 401 and the error shape, and a forged or tampered cookie is no session", async () => {
    const h = await harness(store);
    const r = await h.app.inject({ method: "POST", url: "/auth/token", payload: { token: generateApiToken() } });
    assert.equal(r.statusCode, 401);
    assert.equal(r.json<{ error: { code: string } }>().error.code, "unauthenticated");
    assert.equal(r.headers["set-cookie"], undefined);
    const bad = await h.app.inject({ method: "POST", url: "/auth/token", payload: { nope: 1 } });
    assert.equal(bad.statusCode, 400);
    const { cookie } = await login(h);
    const tampered = cookie.replace(/=(.)/, (_m, c: string) => `=${c === "A" ? "B" : "A"}`);
    assert.equal((await h.app.inject({ url: "/api/v1/me", headers: { cookie: tampered } })).statusCode, 401);
    const unsigned = `${sessionCookie}=${decodeURIComponent(cookie.slice(sessionCookie.length + 1)).split(".")[0] ?? ""}`;
    assert.equal((await h.app.inject({ url: "/api/v1/me", headers: { cookie: unsigned } })).statusCode, 401);
    await h.app.close();
  });

  it("a write with the session cookie needs x-csrf-token: without it 403, with it accepted; bearer writes need none", async () => {
    const h = await harness(store);
    const { cookie, csrf } = await login(h);
    const sync = { method: "POST" as const, url: "/api/v1/sync", payload: { environment: "dev" } };
    const without = await h.app.inject({ ...sync, headers: { cookie } });
    assert.equal(without.statusCode, 403, without.body);
    assert.equal(without.json<{ error: { code: string; message: string } }>().error.code, "forbidden");
    assert.match(without.json<{ error: { message: string } }>().error.message, /x-csrf-token/);
    const wrong = await h.app.inject({ ...sync, headers: { cookie, "x-csrf-token": "not-a-token" } });
    assert.equal(wrong.statusCode, 403);
    assert.equal(h.triggers.length, 0, "nothing ran without a valid CSRF token");
    const ok = await h.app.inject({ ...sync, headers: { cookie, "x-csrf-token": csrf } });
    assert.equal(ok.statusCode, 202, ok.body);
    assert.equal(h.triggers.length, 1);
    // The session's grants still apply: operator on dev only.
    const prod = await h.app.inject({ ...sync, payload: { environment: "prod" }, headers: { cookie, "x-csrf-token": csrf } });
    assert.equal(prod.statusCode, 403);
    // GET /auth/csrf gives a token that works too.
    const fresh = await h.app.inject({ url: "/auth/csrf", headers: { cookie } });
    assert.equal(fresh.statusCode, 200);
    const again = await h.app.inject({ ...sync, headers: { cookie, "x-csrf-token": fresh.json<{ csrfToken: string }>().csrfToken } });
    assert.equal(again.statusCode, 202);
    // Another session's CSRF token is not this one's.
    const other = await login(h);
    assert.equal((await h.app.inject({ ...sync, headers: { cookie, "x-csrf-token": other.csrf } })).statusCode, 403);
    const bearer = await h.app.inject({ ...sync, headers: { authorization: `Bearer ${operatorToken}` } });
    assert.equal(bearer.statusCode, 202, bearer.body);
    assert.equal((await h.app.inject({ url: "/auth/csrf" })).statusCode, 401);
    await h.app.close();
  });

  it("logout ends the session; a revoked token ends its sessions; an expired session is 401", async () => {
    const h = await harness(store);
    const a = await login(h);
    const out = await h.app.inject({ method: "POST", url: "/auth/logout", headers: { cookie: a.cookie, "x-csrf-token": a.csrf } });
    assert.equal(out.statusCode, 200, out.body);
    assert.deepEqual(out.json(), { loggedOut: true });
    assert.match(cookieOf(out.headers["set-cookie"], sessionCookie).attributes, /Expires=Thu, 01 Jan 1970/);
    assert.equal((await h.app.inject({ url: "/api/v1/me", headers: { cookie: a.cookie } })).statusCode, 401);

    const short = generateApiToken();
    const info = await store.createToken({ name: "short-lived", role: "viewer", environments: ["*"], hash: hashApiToken(short), createdBy: "test" });
    const b = await login(h, short);
    assert.equal((await h.app.inject({ url: "/api/v1/me", headers: { cookie: b.cookie } })).statusCode, 200);
    await store.revokeToken(info.id);
    assert.equal((await h.app.inject({ url: "/api/v1/me", headers: { cookie: b.cookie } })).statusCode, 401);

    const c = await login(h);
    h.clock.now += 3600_000 + 1;
    const expired = await h.app.inject({ url: "/api/v1/me", headers: { cookie: c.cookie } });
    assert.equal(expired.statusCode, 401);
    assert.equal(expired.json<{ error: { code: string } }>().error.code, "unauthenticated");
    await h.app.close();
  });

  it("the legacy api.token can log in too", async () => {
    const h = await harness(store);
    const r = await h.app.inject({ method: "POST", url: "/auth/token", payload: { token: legacyToken } });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json<{ kind: string }>().kind, "legacy-token");
    await h.app.close();
  });

  it("sends the security headers on the API, the OpenAPI document and errors", async () => {
    const h = await harness(store);
    for (const url of ["/api/openapi.json", "/api/v1/me", "/healthz"]) {
      const r = await h.app.inject({ url });
      if (url === "/api/openapi.json") {
        assert.equal(r.statusCode, 200);
        assert.ok(typeof r.json<{ openapi: string }>().openapi === "string");
      }
      const csp = String(r.headers["content-security-policy"]);
      for (const d of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]) {
        assert.ok(csp.includes(d), `${url}: CSP ${csp} lacks ${d}`);
      }
      assert.ok(!csp.includes("unsafe-inline"), "no inline scripts or styles");
      assert.equal(r.headers["x-content-type-options"], "nosniff");
      assert.equal(r.headers["referrer-policy"], "no-referrer");
      assert.equal(r.headers["strict-transport-security"], undefined, "no HSTS over plain HTTP");
    }
    await h.app.close();
  });

  it("rate limits login per IP and writes per credential with 429 and the error shape; reads are not limited", async () => {
    const h = await harness(store, { login: { max: 3, windowMs: 60_000 }, writes: { max: 2, windowMs: 60_000 } });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await h.app.inject({ method: "POST", url: "/auth/token", payload: { token: "gw_wrong" } })).statusCode);
    assert.deepEqual(codes, [401, 401, 401, 429]);
    const limited = await h.app.inject({ method: "POST", url: "/auth/token", payload: { token: operatorToken } });
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json<{ error: { code: string } }>().error.code, "too_many_requests");
    assert.ok(Number(limited.headers["retry-after"]) > 0);
    // Another client IP has its own budget.
    assert.equal((await h.app.inject({ method: "POST", url: "/auth/token", payload: { token: operatorToken }, remoteAddress: "127.0.0.2" })).statusCode, 200);

    const write = (token: string): Promise<number> => h.app.inject({ method: "POST", url: "/api/v1/sync", payload: { environment: "dev" }, headers: { authorization: `Bearer ${token}` } }).then((r) => r.statusCode);
    assert.deepEqual([await write(operatorToken), await write(operatorToken), await write(operatorToken)], [202, 202, 429]);
    assert.equal(await write(legacyToken), 202, "another credential has its own budget");
    for (let i = 0; i < 50; i++) assert.equal((await h.app.inject({ url: "/api/v1/me", headers: { authorization: `Bearer ${operatorToken}` } })).statusCode, 200);
    await h.app.close();
  });
});
