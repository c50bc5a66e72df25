import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { ErrorBody } from "../../../src/agent/http/schemas.ts";
import { plantedForms, startApi, type Api } from "./api-support.ts";

describe("validation and limits", () => {
  let api: Api;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());
  afterEach(() => {
    for (const body of api.drain()) for (const s of plantedForms()) assert.ok(!body.includes(s), `a response holds a planted secret: ${body.slice(0, 200)}`);
  });

  const bad = async (req: Parameters<Api["call"]>[0], message: RegExp): Promise<void> => {
    const r = await api.call(req);
    assert.equal(r.statusCode, 400, `${req.url as string}: ${r.body}`);
    const e = r.json<ErrorBody>().error;
    assert.equal(e.code, "bad_request");
    assert.match(e.message, message, req.url as string);
  };

  it("query parameters: each error names the parameter", async () => {
    await bad({ method: "GET", url: "/api/v1/history?limit=201" }, /^query parameter limit: .*200/);
    await bad({ method: "GET", url: "/api/v1/history?limit=0" }, /^query parameter limit:/);
    await bad({ method: "GET", url: "/api/v1/history?limit=ten" }, /^query parameter limit:/);
    await bad({ method: "GET", url: "/api/v1/history?outcome=great" }, /^query parameter outcome:/);
    await bad({ method: "GET", url: "/api/v1/history?trigger=cron" }, /^query parameter trigger:/);
    await bad({ method: "GET", url: "/api/v1/history?since=yesterday" }, /^query parameter since: an ISO 8601 time/);
    await bad({ method: "GET", url: "/api/v1/history?environment=Dev_1" }, /^query parameter environment: a lowercase DNS label/);
    await bad({ method: "GET", url: "/api/v1/drift?stack=a%0Ab" }, /^query parameter stack:/);
    await bad({ method: "GET", url: "/api/v1/history?limt=2" }, /^unknown query parameter "limt"/);
    await bad({ method: "GET", url: "/api/v1/audit?limit=2&environment=dev" }, /^unknown query parameter "environment"/);
  });

  it("a repeated query parameter is refused, never one of them picked", async () => {
    for (const url of ["/api/v1/history?limit=1&limit=2", "/api/v1/history?environment=dev&environment=prod", "/api/v1/stacks?environment=dev&environment=prod"]) {
      await bad({ method: "GET", url }, /is given more than once/);
    }
  });

  it("cursors: only what a list returned, and only for that list", async () => {
    await bad({ method: "GET", url: "/api/v1/history?cursor=bm9wZQ" }, /^query parameter cursor: not a cursor of this list/);
    const audit = (await api.get("/api/v1/audit?limit=1")).json<{ next: string }>().next;
    await bad({ method: "GET", url: `/api/v1/history?cursor=${audit}` }, /cursor: not a cursor of this list/);
    await bad({ method: "GET", url: "/api/v1/history?cursor=a%2Fb" }, /^query parameter cursor:/);
  });

  it("path parameters are names", async () => {
    await bad({ method: "GET", url: "/api/v1/environments/DEV/stacks/web" }, /^path parameter env:/);
  });

  it("bodies: fields named, unknown fields refused, not JSON refused, at most 64 KiB", async () => {
    const post = (payload: string, headers: Record<string, string> = { "content-type": "application/json" }): Parameters<Api["call"]>[0] => ({ method: "POST", url: "/api/v1/sync", token: "admin", payload, headers });
    await bad(post(JSON.stringify({ environment: "dev", stack: 3 })), /^body field stack:/);
    await bad(post(JSON.stringify({ environment: "dev", by: "alice\nforged" })), /^body field by: no control characters/);
    await bad(post(JSON.stringify({ environment: "dev", force: true })), /^unknown body field "force"/);
    await bad(post("{not json"), /JSON/);
    const big = await api.call(post(JSON.stringify({ environment: "dev", reason: "x".repeat(70 * 1024) })));
    assert.equal(big.statusCode, 413, big.body);
    assert.deepEqual(big.json<ErrorBody>().error, { code: "payload_too_large", message: "the request body is too large (at most 64 KiB)" });
    await bad(post("environment=dev", { "content-type": "text/plain" }), /^the body: .*expected object/);
  });

  it("unknown routes are 404 in the one error shape", async () => {
    const r = await api.get("/api/v1/nothing-here");
    assert.equal(r.statusCode, 404);
    assert.equal(r.json<ErrorBody>().error.code, "not_found");
  });

  it("a store failure is a 500 with a fixed message: no path, no stack trace", async () => {
    const closedApi = await startApi();
    await closedApi.store.close();
    const r = await closedApi.get("/api/v1/history");
    assert.equal(r.statusCode, 500, r.body);
    assert.deepEqual(r.json<ErrorBody>(), { error: { code: "internal", message: "internal error; the agent's log has the details" } });
    await closedApi.app.close();
    await closedApi.h.close();
  });
});
