import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import type { Agent, AgentStatus } from "../../src/agent/agent.ts";
import { DeliveryLog } from "../../src/agent/deliveries.ts";
import { exposureWarnings, isLoopback } from "../../src/agent/listen.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { AgentMetrics } from "../../src/agent/metrics.ts";
import { buildServer, type ServerOptions } from "../../src/agent/server.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store, SyncTrigger } from "../../src/store/store.ts";

const secrets = { github: "gh-secret", gitlab: "gl-token", gitea: "gitea-secret", generic: "generic-secret" };
const hmac = (secret: string, body: string): string => createHmac("sha256", secret).update(body).digest("hex");
const fixture = (name: string): string => readFileSync(join(import.meta.dirname, "fixtures", name), "utf8");

/** What the server asked the agent to do. */
interface Call { trigger: SyncTrigger; scope: { environment?: string; stack?: string }; claim: { claimedBy?: string } }

/** An agent that records triggers and reports a fixed status: the server is tested on its own. */
function fakeAgent(calls: Call[]): Agent {
  const status: AgentStatus = { repo: "/repo", branch: "main", environments: [], queue: { depth: 0, inFlight: 0 }, loops: {} };
  return {
    trigger: (trigger: SyncTrigger, scope: Call["scope"] = {}, claim: Call["claim"] = {}) => {
      calls.push({ trigger, scope, claim });
      return Promise.resolve({ revision: "a".repeat(40), queued: 1 });
    },
    status: () => Promise.resolve(status),
    readiness: () => ({ ready: true, reasons: [] }),
    // The API's answer cache follows the agent's event ids; this agent publishes none.
    events: { lastId: 0 },
  } as unknown as Agent;
}

async function server(store: Store, calls: Call[], extra: Partial<ServerOptions> = {}): Promise<FastifyInstance> {
  return buildServer({
    agent: fakeAgent(calls), store, metrics: new AgentMetrics({ defaults: false }), branch: "main", webhookSecrets: secrets,
    logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }), apiToken: "t0ken", ...extra,
  });
}

describe("agent HTTP server", () => {
  let work: string;
  let store: Store;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-server-"));
    store = await openStore(`sqlite:${join(work, "secret-dir", "state.db")}`);
  });
  after(async () => {
    await store.close();
    rmSync(work, { recursive: true, force: true });
  });

  describe("webhook replays", () => {
    const githubPush = JSON.stringify({ ref: "refs/heads/main", before: "b".repeat(40), after: "c".repeat(40), pusher: { name: "octocat" } });
    const github = (body: string, delivery: string): Record<string, string> => ({
      "content-type": "application/json", "x-github-event": "push", "x-github-delivery": delivery, "x-hub-signature-256": `sha256=${hmac(secrets.github, body)}`,
    });

    it("a signed GitHub delivery replayed is ignored: 200 duplicate, nothing triggered; a new id on the same body too", async () => {
      const calls: Call[] = [];
      const app = await server(store, calls);
      const id = randomUUID();
      const first = await app.inject({ method: "POST", url: "/hooks/git", headers: github(githubPush, id), payload: githubPush });
      assert.equal(first.statusCode, 202, first.body);
      for (const delivery of [id, randomUUID()]) {
        const again = await app.inject({ method: "POST", url: "/hooks/git", headers: github(githubPush, delivery), payload: githubPush });
        assert.equal(again.statusCode, 200);
        assert.match(again.json<{ ignored: string }>().ignored, /duplicate delivery/);
      }
      assert.equal(calls.length, 1, "one trigger for three deliveries of one push");
      await app.close();
    });

    it("real GitLab and Gitea push payloads: their delivery ids (X-Gitlab-Event-UUID, X-Gitea-Delivery) are remembered", async () => {
      const calls: Call[] = [];
      const app = await server(store, calls, { branch: "master" });
      const gitlab = fixture("gitlab-push.json");
      const gitea = fixture("gitea-push.json");
      const gitlabHeaders = { "content-type": "application/json", "x-gitlab-event": "Push Hook", "x-gitlab-token": secrets.gitlab, "x-gitlab-event-uuid": randomUUID() };
      const giteaHeaders = { "content-type": "application/json", "x-gitea-event": "push", "x-gitea-delivery": randomUUID(), "x-gitea-signature": hmac(secrets.gitea, gitea) };
      for (const [headers, payload, first] of [[gitlabHeaders, gitlab, 200], [giteaHeaders, gitea, 202]] as const) {
        const a = await app.inject({ method: "POST", url: "/hooks/git", headers, payload });
        assert.equal(a.statusCode, first, a.body); // GitLab's push is to main, this server follows master
        const b = await app.inject({ method: "POST", url: "/hooks/git", headers, payload });
        assert.equal(b.statusCode, 200);
        assert.equal(b.json<{ delivery?: string }>().delivery, headers["x-gitlab-event-uuid" as keyof typeof headers] ?? headers["x-gitea-delivery" as keyof typeof headers]);
      }
      assert.equal(calls.length, 1, "the Gitea push triggered once");
      await app.close();
    });

    it("the generic source takes X-Gitward-Delivery; a forged request cannot make the real one look replayed", async () => {
      const calls: Call[] = [];
      const app = await server(store, calls);
      const body = JSON.stringify({ ref: "refs/heads/main", after: "d".repeat(40) });
      const forged = await app.inject({ method: "POST", url: "/hooks/git", headers: { "content-type": "application/json", "x-gitward-delivery": "ci-42", "x-gitward-signature": `sha256=${"0".repeat(64)}` }, payload: body });
      assert.equal(forged.statusCode, 401);
      const headers = { "content-type": "application/json", "x-gitward-delivery": "ci-42", "x-gitward-signature": `sha256=${hmac(secrets.generic, body)}` };
      assert.equal((await app.inject({ method: "POST", url: "/hooks/git", headers, payload: body })).statusCode, 202);
      assert.equal((await app.inject({ method: "POST", url: "/hooks/git", headers, payload: body })).statusCode, 200);
      const other = JSON.stringify({ ref: "refs/heads/main", after: "e".repeat(40) });
      const sameId = await app.inject({ method: "POST", url: "/hooks/git", headers: { ...headers, "x-gitward-signature": `sha256=${hmac(secrets.generic, other)}` }, payload: other });
      assert.equal(sameId.statusCode, 200, "a delivery id is used once");
      const bad = await app.inject({ method: "POST", url: "/hooks/git", headers: { ...headers, "x-gitward-delivery": "a b\u0007" }, payload: body });
      assert.equal(bad.statusCode, 400);
      assert.equal(calls.length, 1);
      await app.close();
    });

    it("the delivery log forgets after its window and holds at most its maximum", () => {
      let now = 0;
      const log = new DeliveryLog({ windowMs: 1000, max: 100, now: () => now });
      const body = (i: number): Buffer => Buffer.from(String(i));
      assert.equal(log.firstTime("github", "x", body(0)), true);
      assert.equal(log.firstTime("github", "x", body(1)), false);
      assert.equal(log.firstTime("gitlab", "x", body(1)), true, "ids are per source");
      now = 1000;
      assert.equal(log.firstTime("github", "x", body(0)), true, "forgotten after the window");
      for (let i = 10; i < 1000; i++) log.firstTime("generic", `id-${i}`, body(i));
      assert.ok(log.size <= 100, `bounded: ${log.size}`);
      assert.equal(log.firstTime("generic", "id-999", body(999)), false, "the newest are kept");
    });
  });

  describe("the manual sync's actor", () => {
    it("is the API token, and the name in the body a separate claim", async () => {
      const calls: Call[] = [];
      const app = await server(store, calls);
      const auth = { authorization: "Bearer t0ken", "content-type": "application/json" };
      const ok = await app.inject({ method: "POST", url: "/api/v1/sync", headers: auth, payload: JSON.stringify({ environment: "dev", by: "alice" }) });
      assert.equal(ok.statusCode, 202, ok.body);
      assert.equal(calls[0]?.trigger.by, "api-token");
      assert.deepEqual(calls[0]?.claim, { claimedBy: "alice" });
      assert.deepEqual(calls[0]?.scope, { environment: "dev" });
      await app.close();
      const named = await server(store, calls, { apiTokenName: "ci-bot" });
      await named.inject({ method: "POST", url: "/api/v1/sync", headers: auth, payload: JSON.stringify({ environment: "dev" }) });
      assert.equal(calls[1]?.trigger.by, "ci-bot");
      assert.deepEqual(calls[1]?.claim, {});
      await named.close();
    });

    it("refuses control characters in the claimed name, and names that are not names (400), triggering nothing", async () => {
      const calls: Call[] = [];
      const app = await server(store, calls);
      const auth = { authorization: "Bearer t0ken", "content-type": "application/json" };
      for (const body of [{ environment: "dev", by: "alice\nforged by bob" }, { environment: "dev", by: "a\u202eb" }, { environment: "dev\nx" }, { environment: "dev", stack: 3 }]) {
        const r = await app.inject({ method: "POST", url: "/api/v1/sync", headers: auth, payload: JSON.stringify(body) });
        assert.equal(r.statusCode, 400, JSON.stringify(body));
      }
      assert.equal(calls.length, 0);
      await app.close();
    });
  });

  describe("query strings", () => {
    const auth = { authorization: "Bearer t0ken" };
    it("a repeated or unknown parameter is a 400 that says which, in the one error shape; the state path never appears", async () => {
      const app = await server(store, []);
      for (const url of ["/api/v1/history?limit=1&limit=2", "/api/v1/history?environment=a&environment=b", "/api/v1/drift?stack=a&stack=b"]) {
        const r = await app.inject({ method: "GET", url, headers: auth });
        assert.equal(r.statusCode, 400, url);
        assert.equal(r.json<{ error: { code: string } }>().error.code, "bad_request");
        assert.match(r.json<{ error: { message: string } }>().error.message, /is given more than once/);
        assert.ok(!r.body.includes(work), r.body);
      }
      const unknown = await app.inject({ method: "GET", url: "/api/v1/history?limt=2", headers: auth });
      assert.equal(unknown.statusCode, 400);
      assert.match(unknown.body, /unknown query parameter \\"limt\\"/);
      assert.equal((await app.inject({ method: "GET", url: "/api/v1/history?limit=abc", headers: auth })).statusCode, 400);
      assert.equal((await app.inject({ method: "GET", url: "/api/v1/history?environment=dev&limit=5", headers: auth })).statusCode, 200);
      await app.close();
    });

    it("a store failure is a 500 with a fixed message: no path of the agent's machine", async () => {
      const closed = await openStore(`sqlite:${join(work, "secret-dir", "other.db")}`);
      await closed.close();
      const app = await server(closed, []);
      const r = await app.inject({ method: "GET", url: "/api/v1/history", headers: auth });
      assert.equal(r.statusCode, 500);
      assert.ok(!r.body.includes(work) && !r.body.includes("secret-dir"), r.body);
      assert.deepEqual(r.json(), { error: { code: "internal", message: "internal error; the agent's log has the details" } });
      await app.close();
    });
  });

  describe("the listening socket", () => {
    it("a forged Host header changes nothing: the same pages, no reflected host", async () => {
      const app = await server(store, []);
      await app.listen({ host: "127.0.0.1", port: 0 });
      const port = (app.server.address() as { port: number }).port;
      const get = (path: string, host: string): Promise<{ status: number; body: string; location?: string }> => new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ...(res.headers.location === undefined ? {} : { location: res.headers.location }) }));
        });
        req.on("error", reject);
        req.end();
      });
      for (const path of ["/", "/api/v1/status", "/healthz", "/nope"]) {
        const real = await get(path, `127.0.0.1:${port}`);
        const forged = await get(path, "evil.example.com");
        assert.equal(forged.status, real.status, path);
        assert.equal(forged.body, real.body, path);
        assert.ok(!forged.body.includes("evil") && forged.location === undefined, path);
      }
      await app.close();
    });

    it("a flood of idle connections is held to maxConnections; once they close the agent answers /healthz", async () => {
      const app = await server(store, [], { http: { maxConnections: 20, idleTimeoutMs: 30_000, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 } });
      await app.listen({ host: "127.0.0.1", port: 0 });
      const port = (app.server.address() as { port: number }).port;
      const sockets: Socket[] = [];
      let closedByServer = 0;
      await Promise.all(Array.from({ length: 100 }, () => new Promise<void>((resolve) => {
        const s = connect(port, "127.0.0.1", () => resolve());
        s.on("error", () => resolve());
        s.on("close", () => { closedByServer++; });
        sockets.push(s);
      })));
      await new Promise((r) => setTimeout(r, 300));
      const open = await new Promise<number>((resolve, reject) => app.server.getConnections((e, n) => (e === null ? resolve(n) : reject(e))));
      assert.ok(open <= 20, `at most 20 connections held, found ${open}`);
      assert.ok(closedByServer >= 80, `the rest were closed: ${closedByServer}`);
      for (const s of sockets) s.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(r.status, 200);
      await app.close();
    });

    it("idle connections are closed after the idle timeout", async () => {
      const app = await server(store, [], { http: { maxConnections: 20, idleTimeoutMs: 300, headersTimeoutMs: 300, requestTimeoutMs: 300 } });
      await app.listen({ host: "127.0.0.1", port: 0 });
      const port = (app.server.address() as { port: number }).port;
      const s = connect(port, "127.0.0.1");
      const closed = await new Promise<boolean>((resolve) => {
        s.on("close", () => resolve(true));
        setTimeout(() => resolve(false), 5000);
      });
      assert.equal(closed, true);
      await app.close();
    });
  });

  describe("listening beyond loopback", () => {
    it("is loopback: 127.0.0.0/8, ::1, localhost; anything else is not", () => {
      for (const h of ["127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1"]) assert.equal(isLoopback(h), true, h);
      for (const h of ["0.0.0.0", "::", "10.0.0.5", "agent.example.com", "192.168.1.1"]) assert.equal(isLoopback(h), false, h);
    });

    it("warns without TLS and without an API token, saying what to do; nothing on loopback", () => {
      assert.deepEqual(exposureWarnings("127.0.0.1", { tls: false, apiToken: false }), []);
      const both = exposureWarnings("0.0.0.0", { tls: false, apiToken: false });
      assert.equal(both.length, 2);
      assert.match(both[0] ?? "", /without TLS.*http\.tls/);
      assert.match(both[1] ?? "", /without an API token.*api\.token/);
      assert.deepEqual(exposureWarnings("0.0.0.0", { tls: true, apiToken: true }), []);
    });
  });
});
