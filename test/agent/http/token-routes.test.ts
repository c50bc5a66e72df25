import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { ErrorBody, TokenCreated, TokenInfo } from "../../../src/agent/http/schemas.ts";
import { plantedForms, startApi, type Api } from "./api-support.ts";

/** The token endpoints: admin on every environment only, the token shown once, audited, usable at once, revocable. */
describe("API tokens over the API", () => {
  let api: Api;
  const created: string[] = [];
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());
  afterEach(() => {
    // The new tokens may appear in their own creation answer only.
    for (const body of api.drain()) {
      if (body.includes('"token":"gw_')) continue;
      for (const s of plantedForms([...Object.values(api.tokens), ...created])) assert.ok(!body.includes(s), `a response holds a secret: ${body.slice(0, 200)}`);
    }
  });

  it("creates a token once, lists it without its secret, and the token works at once with its grants", async () => {
    const r = await api.call({ method: "POST", url: "/api/v1/tokens", token: "admin", payload: { name: "ci-deployer", role: "operator", environments: ["dev"], expiresIn: "30d" } });
    assert.equal(r.statusCode, 201, r.body);
    const t = r.json<TokenCreated>();
    created.push(t.token);
    assert.match(t.token, /^gw_[A-Za-z0-9_-]{40,}$/);
    assert.deepEqual([t.name, t.role, t.environments], ["ci-deployer", "operator", ["dev"]]);
    assert.ok(t.expiresAt !== undefined);
    const list = await api.get("/api/v1/tokens", "admin");
    assert.equal(list.statusCode, 200);
    assert.ok(!list.body.includes(t.token));
    assert.ok(list.json<{ items: TokenInfo[] }>().items.some((i) => i.id === t.id && i.name === "ci-deployer"));
    assert.equal((await api.call({ method: "POST", url: "/api/v1/sync", token: `raw:${t.token}`, payload: { environment: "dev" } })).statusCode, 202);
    assert.equal((await api.call({ method: "POST", url: "/api/v1/sync", token: `raw:${t.token}`, payload: { environment: "prod" } })).statusCode, 403);
    const audit = (await api.store.listAudit()).filter((e) => e.kind === "token-created" && e.details["name"] === "ci-deployer");
    assert.equal(audit.length, 1);
    assert.ok(!JSON.stringify(audit).includes(t.token));
  });

  it("refuses a taken name (409) and bad input (400)", async () => {
    const first = await api.call({ method: "POST", url: "/api/v1/tokens", token: "admin", payload: { name: "twice", role: "viewer" } });
    created.push(first.json<TokenCreated>().token);
    const again = await api.call({ method: "POST", url: "/api/v1/tokens", token: "admin", payload: { name: "twice", role: "viewer" } });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json<ErrorBody>().error.code, "conflict");
    const bad = await api.call({ method: "POST", url: "/api/v1/tokens", token: "admin", payload: { name: "x", role: "root" } });
    assert.equal(bad.statusCode, 400);
  });

  it("revokes: the token stops working; an unknown id is 404", async () => {
    const r = await api.call({ method: "POST", url: "/api/v1/tokens", token: "admin", payload: { name: "short-lived", role: "viewer" } });
    const t = r.json<TokenCreated>();
    created.push(t.token);
    assert.equal((await api.get("/api/v1/me", `raw:${t.token}`)).statusCode, 200);
    const del = await api.call({ method: "DELETE", url: `/api/v1/tokens/${t.id}`, token: "admin" });
    assert.equal(del.statusCode, 204, del.body);
    assert.equal((await api.get("/api/v1/me", `raw:${t.token}`)).statusCode, 401);
    assert.equal((await api.call({ method: "DELETE", url: "/api/v1/tokens/nosuchtoken0000", token: "admin" })).statusCode, 404);
    assert.equal((await api.store.listAudit()).filter((e) => e.kind === "token-revoked" && e.actor === "admin").length, 1);
  });

  it("is admin on every environment only: 403 for an operator or a viewer, 401 without credentials", async () => {
    for (const who of ["viewer", "devOperator", "prodViewer"]) {
      assert.equal((await api.get("/api/v1/tokens", who)).statusCode, 403, who);
      assert.equal((await api.call({ method: "POST", url: "/api/v1/tokens", token: who, payload: { name: "nope", role: "admin" } })).statusCode, 403, who);
    }
    assert.equal((await api.get("/api/v1/tokens", null)).statusCode, 401);
  });
});
