// The agent serving the web UI: built files with their cache headers, index.html for client
// routes, 404s for the API and missing files, and the status page when the UI is not built.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import type { ApiDeps } from "../../src/agent/http/deps.ts";
import { installErrorHandlers } from "../../src/agent/http/errors.ts";
import { findUiDirectory, isClientRoute, uiCandidates, uiModule } from "../../src/agent/http/ui.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { bearer, liveFiles, startLiveApi, type LiveApi } from "../agent/http/live-api-support.ts";

/** Deps the static UI must never touch: any use fails the test. */
const untouchable = new Proxy({}, { get: (_t, key) => assert.fail(`the built UI read deps.${String(key)}`) }) as ApiDeps;

describe("the built UI", () => {
  let dir: string;
  let app: FastifyInstance;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gitward-ui-"));
    await mkdir(join(dir, "assets"));
    await writeFile(join(dir, "index.html"), "<!doctype html><div id=root></div><script type=module src=/assets/index-AbCd1234.js></script>");
    await writeFile(join(dir, "assets", "index-AbCd1234.js"), "console.log('ui')");
    app = Fastify();
    installErrorHandlers(app, agentLogger({ level: "silent", pretty: false }));
    app.get("/api/v1/me", () => ({ name: "x" }));
    await uiModule({ directory: dir })(app, untouchable);
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves index.html at / uncached, with a same-origin CSP", async () => {
    const r = await app.inject({ method: "GET", url: "/" });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers["content-type"] ?? "", /text\/html/);
    assert.equal(r.headers["cache-control"], "no-cache");
    assert.match(String(r.headers["content-security-policy"]), /script-src 'self'/);
    assert.match(r.body, /id=root/);
  });

  it("caches hashed assets for a year", async () => {
    const r = await app.inject({ method: "GET", url: "/assets/index-AbCd1234.js" });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(r.body, "console.log('ui')");
  });

  it("answers client routes with index.html and leaves the API and missing files to the 404 handler", async () => {
    for (const url of ["/stacks/prod/web", "/audit?x=1"]) {
      const r = await app.inject({ method: "GET", url });
      assert.equal(r.statusCode, 200, url);
      assert.match(r.body, /id=root/, url);
    }
    for (const url of ["/api/v1/nothing", "/auth/nothing", "/assets/index-old12345.js", "/favicon.ico"]) {
      const r = await app.inject({ method: "GET", url });
      assert.equal(r.statusCode, 404, url);
      assert.doesNotMatch(r.body, /id=root/, url);
    }
    assert.deepEqual((await app.inject({ method: "GET", url: "/api/v1/me" })).json(), { name: "x" });
    // A path climbing out of the directory is a client route at most: the app, never a file outside.
    const climb = await app.inject({ method: "GET", url: "/assets/../../../etc/passwd" });
    assert.ok(climb.statusCode === 404 || /id=root/.test(climb.body), `${climb.statusCode} ${climb.body.slice(0, 80)}`);
    assert.doesNotMatch(climb.body, /root:/);
  });

  it("tells client routes from everything else", () => {
    assert.equal(isClientRoute("/stacks/a/b?x=1"), true);
    assert.equal(isClientRoute("/api"), false);
    assert.equal(isClientRoute("/metrics"), false);
    assert.equal(isClientRoute("/robots.txt"), false);
  });

  it("finds the build next to the sources and next to the compiled module", () => {
    const candidates = uiCandidates();
    assert.ok(candidates[0]?.endsWith(join("dist", "ui") + "/"), candidates[0]);
    assert.equal(findUiDirectory([join(dir, "nope"), dir]), dir);
    assert.equal(findUiDirectory([join(dir, "nope")]), undefined);
  });
});

describe("no built UI", () => {
  let api: LiveApi;
  let app: FastifyInstance;
  before(async () => {
    api = await startLiveApi(liveFiles("v1"));
    // The live API's own server has whatever dist/ui holds; this one is built without a UI.
    app = Fastify();
    installErrorHandlers(app, agentLogger({ level: "silent", pretty: false }));
    const deps = {
      agent: api.h.agent,
      resolvePrincipal: (req: { headers: { authorization?: string } }) =>
        Promise.resolve(req.headers.authorization === "Bearer tok-prod" ? { kind: "token" as const, name: "p", grants: [{ role: "viewer" as const, environments: ["prod"] }] } : undefined),
    } as unknown as ApiDeps;
    await uiModule({ directory: join(tmpdir(), "gitward-ui-never-built") })(app, deps);
    await app.ready();
  });
  after(async () => {
    await app.close();
    await api.close();
  });

  it("serves the status page with how to build the UI, showing only what the caller may read", async () => {
    const anon = await app.inject({ method: "GET", url: "/" });
    assert.equal(anon.statusCode, 200);
    assert.match(anon.body, /npm run build:ui/);
    assert.doesNotMatch(anon.body, /<table>/);
    const prod = await app.inject({ method: "GET", url: "/", headers: bearer("tok-prod") });
    assert.match(prod.body, /npm run build:ui/);
    assert.match(prod.body, /<td>prod<\/td>/);
    assert.doesNotMatch(prod.body, /<td>dev<\/td>/);
  });

  it("the agent's real server answers / with HTML either way, and the API is not swallowed", async () => {
    const r = await api.app.inject({ method: "GET", url: "/" });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers["content-type"] ?? "", /text\/html/);
    const me = await api.app.inject({ method: "GET", url: "/api/v1/me", headers: bearer("tok-viewer") });
    assert.equal(me.json<{ name: string }>().name, "looker");
    assert.equal((await api.app.inject({ method: "GET", url: "/api/v1/no-such-thing" })).statusCode, 404);
  });
});
