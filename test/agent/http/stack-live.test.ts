import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bearer, liveFiles, startLiveApi, type LiveApi } from "./live-api-support.ts";

describe("the live view of a stack", () => {
  let api: LiveApi;
  before(async () => {
    api = await startLiveApi(liveFiles("v1"));
  });
  after(() => api.close());

  const get = (url: string, token: string | null = "tok-viewer") => api.app.inject({ method: "GET", url, headers: token === null ? {} : bearer(token) });

  it("a stack's status with its objects and their health read now", async () => {
    api.h.target.health.set("_ConfigMap_dev_web", "degraded");
    const r = await get("/api/v1/environments/dev/stacks/web");
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json<{ stack: string; inSync: boolean; gate: { state: string }; objects: { ref: { kind: string; name: string; namespace?: string }; health: string }[] }>();
    assert.equal(body.stack, "web");
    assert.equal(body.inSync, true);
    assert.equal(body.gate.state, "open");
    assert.deepEqual(body.objects.map((o) => [o.ref.kind, o.ref.namespace, o.ref.name, o.health]), [["ConfigMap", "dev", "web", "degraded"]]);
    api.h.target.health.delete("_ConfigMap_dev_web");
  });

  it("the live diff shows a change made on the target, with its drift", async () => {
    const before = await get("/api/v1/environments/dev/stacks/web/diff");
    assert.equal(before.statusCode, 200, before.body);
    assert.deepEqual(before.json<{ entries: { action: string }[] }>().entries.map((e) => e.action), ["no-op"]);
    const live = api.h.target.objects.get("_ConfigMap_dev_web");
    assert.ok(live !== undefined);
    api.h.target.objects.set("_ConfigMap_dev_web", { ...live, data: { text: "edited by hand" } });
    const r = await get("/api/v1/environments/dev/stacks/web/diff");
    const body = r.json<{ revision: string; entries: { ref: { provider: string; name: string }; action: string; drift?: unknown[] }[] }>();
    assert.equal(body.revision, api.h.repo.git("rev-parse", "HEAD"));
    assert.equal(body.entries[0]?.action, "update");
    assert.equal(body.entries[0]?.ref.provider, "kubernetes");
    assert.ok((body.entries[0]?.drift ?? []).length > 0);
    assert.equal((await api.h.store.listSyncs({ environment: "dev", stack: "web", limit: 10 })).length, 1, "a diff records nothing");
  });

  it("reads are authorized per environment: 401 without credentials, 403 outside the grants, 404 for an unknown stack", async () => {
    assert.equal((await get("/api/v1/environments/dev/stacks/web", null)).statusCode, 401);
    assert.equal((await get("/api/v1/environments/dev/stacks/web", "tok-prod")).statusCode, 403);
    assert.equal((await get("/api/v1/environments/dev/stacks/web/diff", "tok-prod")).statusCode, 403);
    assert.equal((await get("/api/v1/environments/prod/stacks/web", "tok-prod")).statusCode, 200);
    assert.equal((await get("/api/v1/environments/dev/stacks/nope")).statusCode, 404);
  });

  it("GET /gate lists the readable environments' gates", async () => {
    const all = (await get("/api/v1/gate")).json<{ environments: { name: string; gate: { state: string } }[] }>();
    assert.deepEqual(all.environments.map((e) => [e.name, e.gate.state]), [["dev", "open"], ["prod", "open"]]);
    const prod = (await get("/api/v1/gate", "tok-prod")).json<{ environments: { name: string }[] }>();
    assert.deepEqual(prod.environments.map((e) => e.name), ["prod"]);
  });
});
