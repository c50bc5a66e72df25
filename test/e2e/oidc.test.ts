import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Provider from "oidc-provider";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { OidcLogin } from "../../src/agent/http/oidc.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const logger = agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false });

/** The provider's users and their groups. */
const accounts: Record<string, { email: string; name: string; groups: string[] }> = {
  alice: { email: "alice@example.com", name: "Alice", groups: ["dev-operators", "everyone"] },
  bob: { email: "bob@example.com", name: "Bob", groups: ["marketing"] },
};

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A real OpenID Provider on 127.0.0.1 (oidc-provider, its development login and consent pages), with one public PKCE client. */
async function startProvider(port: number, redirectUris: string[], postLogoutUris: string[]): Promise<{ issuer: string; server: Server }> {
  const issuer = `http://127.0.0.1:${String(port)}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: "gitward", token_endpoint_auth_method: "none", redirect_uris: redirectUris, post_logout_redirect_uris: postLogoutUris,
      grant_types: ["authorization_code"], response_types: ["code"],
    }],
    claims: { openid: ["sub"], email: ["email"], profile: ["name", "preferred_username"], groups: ["groups"] },
    findAccount: (_ctx: unknown, id: string) => {
      const a = accounts[id];
      return a === undefined ? undefined : { accountId: id, claims: () => ({ sub: id, preferred_username: id, ...a }) };
    },
    cookies: { keys: ["oidc-test-cookie-key"] },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  });
  const server = createServer(provider.callback());
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return { issuer, server };
}

/** A browser enough for the login: follows redirects by hand, keeps cookies (by name and path, like a browser on one host). */
class Browser {
  readonly cookies = new Map<string, { value: string; path: string }>();

  cookieHeader(url: URL): string {
    return [...this.cookies].filter(([, c]) => url.pathname.startsWith(c.path)).map(([n, c]) => `${n}=${c.value}`).join("; ");
  }

  async fetch(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const u = new URL(url);
    const res = await fetch(u, { ...init, redirect: "manual", headers: { ...init.headers, cookie: this.cookieHeader(u) } });
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";").map((s) => s.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) ?? "/";
      const gone = attrs.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, { value: pair.slice(eq + 1), path });
    }
    return res;
  }

  /** Follows redirects and submits the provider's login (as `user`) and consent forms, until a page that is neither. */
  async navigate(start: string, user: string): Promise<{ url: string; res: Response; body: string }> {
    let url = start;
    let init: { method?: string; body?: string; headers?: Record<string, string> } = {};
    for (let hops = 0; hops < 20; hops++) {
      const res = await this.fetch(url, init);
      init = {};
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location !== null) {
        url = new URL(location, url).href;
        continue;
      }
      const body = await res.text();
      const prompt = /name="prompt" value="(login|consent)"/.exec(body)?.[1];
      const action = /<form[^>]*action="([^"]+)"/.exec(body)?.[1];
      if (prompt === undefined || action === undefined) return { url, res, body };
      const form = prompt === "login" ? { prompt, login: user, password: "any" } : { prompt };
      url = new URL(action.replaceAll("&amp;", "&"), url).href;
      init = { method: "POST", body: new URLSearchParams(form).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } };
    }
    throw new Error(`too many redirects from ${start}`);
  }
}

describe("OIDC login end to end (oidc-provider on 127.0.0.1, a real agent)", () => {
  let work: string;
  let repo: TestRepo;
  let provider: { issuer: string; server: Server };
  let agent: RunningAgent;
  let shortAgent: RunningAgent;

  const files = {
    "gitward.yaml": "version: 1\nenvironments:\n  dev:\n    targets: { web: { provider: host, root: ROOT/dev } }\n  prod:\n    targets: { web: { provider: host, root: ROOT/prod } }\nstacks:\n  site: { target: web, path: site }\n",
    "site/index.yaml": "apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec: { path: index.html, content: \"v1\\n\" }\n",
  };

  const start = async (port: number, issuer: string, sessionTtl: number): Promise<RunningAgent> => runAgent({
    config: agentConfigSchema.parse({
      cacheDir: join(work, "cache"),
      intervals: { poll: 3600, drift: 3600, retryBase: 3600, retryMax: 3600, dependencyWait: 0.1 },
      url: `http://127.0.0.1:${String(port)}`,
      oidc: {
        issuer, clientId: "gitward", sessionTtl,
        roles: [{ group: "dev-operators", role: "operator", environments: ["dev"] }, { group: "everyone", role: "viewer", environments: ["*"] }],
      },
    }),
    repo: repo.dir, branch: "main", state: `sqlite:${join(work, `state-${String(port)}.db`)}`, listen: `127.0.0.1:${String(port)}`, logger,
  });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-oidc-"));
    for (const d of ["dev", "prod"]) mkdirSync(join(work, d));
    repo = makeRepo();
    repo.commit({ ...files, "gitward.yaml": files["gitward.yaml"].replaceAll("ROOT", work) }, "v1");
    const [agentPort, shortPort, providerPort] = [await freePort(), await freePort(), await freePort()];
    const callbacks = [agentPort, shortPort].map((p) => `http://127.0.0.1:${String(p)}/auth/callback`);
    provider = await startProvider(providerPort, callbacks, [`http://127.0.0.1:${String(agentPort)}/`]);
    agent = await start(agentPort, provider.issuer, 3600);
    shortAgent = await start(shortPort, provider.issuer, 1);
    // Discovery runs in the background once the agent listens.
    for (const a of [agent, shortAgent]) {
      for (let i = 0; i < 100 && (await fetch(`${a.url}/auth/login`, { redirect: "manual" })).status === 503; i++) await new Promise((r) => setTimeout(r, 50));
    }
  });

  after(async () => {
    await agent.stop();
    await shortAgent.stop();
    await new Promise<void>((r) => provider.server.close(() => r()));
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("logs in through the provider; groups map to roles: operator on dev syncs dev, is refused prod; logout ends the session", async () => {
    const browser = new Browser();
    const landed = await browser.navigate(`${agent.url}/auth/login?returnTo=${encodeURIComponent("/stacks?environment=dev")}`, "alice");
    assert.equal(landed.url, `${agent.url}/stacks?environment=dev`, "back where the login started");
    const session = browser.cookies.get("gitward_session");
    assert.ok(session !== undefined, "the session cookie is set");
    assert.ok(!browser.cookies.has("gitward_login"), "the login's state cookie is cleared");

    const me = await browser.fetch(`${agent.url}/api/v1/me`);
    assert.equal(me.status, 200);
    const who = await me.json() as { name: string; kind: string; grants: unknown };
    assert.equal(who.name, "oidc:alice");
    assert.equal(who.kind, "oidc");
    assert.deepEqual(who.grants, [{ role: "operator", environments: ["dev"] }, { role: "viewer", environments: ["*"] }]);

    const { csrfToken } = await (await browser.fetch(`${agent.url}/auth/csrf`)).json() as { csrfToken: string };
    const sync = (environment: string, headers: Record<string, string>): Promise<Response> =>
      browser.fetch(`${agent.url}/api/v1/sync`, { method: "POST", body: JSON.stringify({ environment }), headers: { "content-type": "application/json", ...headers } });
    assert.equal((await sync("dev", {})).status, 403, "no CSRF token");
    const dev = await sync("dev", { "x-csrf-token": csrfToken });
    assert.equal(dev.status, 202, await dev.clone().text());
    const prod = await sync("prod", { "x-csrf-token": csrfToken });
    assert.equal(prod.status, 403);
    assert.match((await prod.json() as { error: { message: string } }).error.message, /operator/);

    // The event stream works under the security headers, with the session cookie.
    const abort = new AbortController();
    const events = await fetch(`${agent.url}/api/v1/events`, { headers: { cookie: browser.cookieHeader(new URL(`${agent.url}/api/v1/events`)) }, signal: abort.signal });
    assert.equal(events.status, 200);
    assert.match(events.headers.get("content-type") ?? "", /text\/event-stream/);
    abort.abort();

    const out = await browser.fetch(`${agent.url}/auth/logout`, { method: "POST", headers: { "x-csrf-token": csrfToken } });
    assert.equal(out.status, 200);
    const { endSessionUrl } = await out.json() as { endSessionUrl?: string };
    if (endSessionUrl === undefined) assert.fail("an OIDC logout names the provider's end_session_endpoint");
    assert.ok(endSessionUrl.startsWith(`${provider.issuer}/session/end?`), `RP-initiated logout at the provider: ${endSessionUrl}`);
    assert.ok(new URL(endSessionUrl).searchParams.has("id_token_hint"));
    assert.equal((await browser.fetch(endSessionUrl)).status, 200, "the provider's logout page");
    assert.equal((await browser.fetch(`${agent.url}/api/v1/me`)).status, 401, "the session is gone");
    // The old cookie, replayed, is no session either.
    const replay = await fetch(`${agent.url}/api/v1/me`, { headers: { cookie: `gitward_session=${session.value}` } });
    assert.equal(replay.status, 401);
  });

  it("refuses a user whose groups map to no role with a clear 403 page and no session", async () => {
    const browser = new Browser();
    const page = await browser.navigate(`${agent.url}/auth/login`, "bob");
    assert.equal(page.res.status, 403);
    assert.match(page.body, /none of their groups/);
    assert.match(page.body, /bob@example\.com/);
    assert.ok(!browser.cookies.has("gitward_session"));
  });

  it("returns only to paths of the agent after login", async () => {
    const browser = new Browser();
    const landed = await browser.navigate(`${agent.url}/auth/login?returnTo=${encodeURIComponent("//evil.example/x")}`, "alice");
    assert.equal(landed.url, `${agent.url}/`);
  });

  it("refuses a callback whose state this browser did not start (login CSRF)", async () => {
    const attacker = new Browser();
    const first = await attacker.fetch(`${agent.url}/auth/login`);
    assert.equal(first.status, 302);
    const authorize = first.headers.get("location") ?? "";
    assert.ok(authorize.startsWith(`${provider.issuer}/auth?`));
    assert.equal(new URL(authorize).searchParams.get("code_challenge_method"), "S256");
    assert.ok(new URL(authorize).searchParams.has("nonce"));
    // The victim's browser follows the attacker's login to its callback without the attacker's login cookie.
    const victim = new Browser();
    const page = await victim.navigate(authorize, "alice");
    assert.equal(page.res.status, 400);
    assert.match(page.body, /started in another browser/);
    assert.ok(!victim.cookies.has("gitward_session"));
  });

  it("ends a session when its TTL passes (sessionTtl 1 s): 401", async () => {
    const browser = new Browser();
    await browser.navigate(`${shortAgent.url}/auth/login`, "alice");
    assert.equal((await browser.fetch(`${shortAgent.url}/api/v1/me`)).status, 200);
    await new Promise((r) => setTimeout(r, 1200));
    const expired = await browser.fetch(`${shortAgent.url}/api/v1/me`);
    assert.equal(expired.status, 401);
    assert.equal((await expired.json() as { error: { code: string } }).error.code, "unauthenticated");
  });

  it("answers 503 while the provider is down and logs in once discovery succeeds in the background", async () => {
    const port = await freePort();
    const login = new OidcLogin({
      issuer: `http://127.0.0.1:${String(port)}`, clientId: "gitward", redirectUrl: "http://127.0.0.1:1/auth/callback",
      scopes: ["openid"], groupsClaim: "groups", roles: [], sessionTtlMs: 60_000,
    }, logger, { retryBaseMs: 50, retryMaxMs: 100 });
    await login.start();
    assert.equal(login.ready, false);
    const late = await startProvider(port, ["http://127.0.0.1:1/auth/callback"], []);
    try {
      for (let i = 0; i < 100 && !login.ready; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(login.ready, true);
      assert.ok((await login.begin("/")).url.startsWith(`http://127.0.0.1:${String(port)}/auth?`));
    } finally {
      login.stop();
      await new Promise<void>((r) => late.server.close(() => r()));
    }
  });
});
