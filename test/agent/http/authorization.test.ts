import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { ErrorBody } from "../../../src/agent/http/schemas.ts";
import { plantedForms, roles, startApi, type Api } from "./api-support.ts";

const environments = ["dev", "staging", "prod"] as const;
const rank = { viewer: 0, operator: 1, admin: 2 } as const;

/** One action of the matrix: the request that performs it on an environment, and the role it needs where. */
interface MatrixAction {
  readonly name: string;
  readonly needs: keyof typeof rank;
  /** The role is needed on every environment (`*`), not on the one named. */
  readonly everywhere?: boolean;
  request(env: string): { method: "GET" | "POST"; url: string; payload?: object };
}

const actions: readonly MatrixAction[] = [
  { name: "read stacks", needs: "viewer", request: (env) => ({ method: "GET", url: `/api/v1/stacks?environment=${env}` }) },
  { name: "read history", needs: "viewer", request: (env) => ({ method: "GET", url: `/api/v1/history?environment=${env}` }) },
  { name: "read drift", needs: "viewer", request: (env) => ({ method: "GET", url: `/api/v1/drift?environment=${env}&limit=1` }) },
  { name: "read a stack", needs: "viewer", request: (env) => ({ method: "GET", url: `/api/v1/environments/${env}/stacks/web` }) },
  { name: "read the audit log", needs: "viewer", everywhere: true, request: () => ({ method: "GET", url: "/api/v1/audit?limit=1" }) },
  { name: "sync", needs: "operator", request: (env) => ({ method: "POST", url: "/api/v1/sync", payload: { environment: env, stack: "web" } }) },
  { name: "roll back", needs: "operator", request: (env) => ({ method: "POST", url: "/api/v1/rollback", payload: { environment: env, reason: "matrix test" } }) },
];

/** Whether a grant allows the action on env, by the contract's table (written out, not asked of the code under test). */
function allowed(grant: { role: keyof typeof rank; environments: readonly string[] }, action: MatrixAction, env: string): boolean {
  const covers = grant.environments.includes("*") || (action.everywhere !== true && grant.environments.includes(env));
  return covers && rank[grant.role] >= rank[action.needs];
}

describe("authorization: role × environment × action", () => {
  let api: Api;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());
  afterEach(() => {
    for (const body of api.drain()) for (const s of plantedForms(Object.values(api.tokens))) assert.ok(!body.includes(s), `a response holds a secret: ${body.slice(0, 200)}`);
  });

  for (const [who, grant] of Object.entries(roles)) {
    it(`${who} (${grant.role} on ${grant.environments.join(",")}): allowed where its role reaches, 403 naming role and environment elsewhere`, async () => {
      for (const action of actions) {
        for (const env of environments) {
          const { payload, ...req } = action.request(env);
          const r = await api.call({ ...req, token: who, ...(payload === undefined ? {} : { payload }) });
          const where = `${who} ${action.name} on ${env}: ${r.statusCode} ${r.body.slice(0, 200)}`;
          if (allowed(grant, action, env)) {
            assert.ok(r.statusCode !== 401 && r.statusCode !== 403 && r.statusCode < 500, where);
          } else {
            assert.equal(r.statusCode, 403, where);
            const e = r.json<ErrorBody>().error;
            assert.equal(e.code, "forbidden", where);
            assert.match(e.message, new RegExp(`needs ${action.needs} on ${action.everywhere === true ? "every environment" : `environment "${env}"`}`), where);
          }
        }
      }
    });
  }

  it("the legacy token is admin everywhere", async () => {
    for (const env of environments) assert.equal((await api.call({ method: "POST", url: "/api/v1/sync", token: "legacy", payload: { environment: env } })).statusCode, 202);
    assert.equal((await api.get("/api/v1/audit", "legacy")).statusCode, 200);
  });

  it("no credentials, a wrong token, a malformed header or a revoked token: 401 on every route, reads and writes", async () => {
    const revoked = api.tokens["devStagingViewer"] ?? "";
    await api.store.revokeToken("devStagingViewer");
    for (const token of [null, "raw:gw_thisIsNotATokenTheStoreKnows000000000000000", "raw:not a token", `raw:${revoked}`]) {
      for (const action of actions) {
        const { payload, ...req } = action.request("dev");
        const r = await api.call({ ...req, token, ...(payload === undefined ? {} : { payload }) });
        assert.equal(r.statusCode, 401, `${String(token)} ${action.name}: ${r.body}`);
        assert.equal(r.json<ErrorBody>().error.code, "unauthenticated");
      }
      assert.equal((await api.get("/api/v1/me", token)).statusCode, 401);
    }
  });

  it("routes outside the API need nothing: health, readiness, the OpenAPI document", async () => {
    for (const url of ["/healthz", "/api/openapi.json"]) assert.equal((await api.get(url, null)).statusCode, 200, url);
  });
});

describe("anonymous reads (api.anonymousRead)", () => {
  let api: Api;
  before(async () => {
    api = await startApi({ anonymousRead: true });
  });
  after(() => api.close());

  it("reads without credentials as viewer on every environment; writes still need a token (401)", async () => {
    const me = await api.get("/api/v1/me", null);
    assert.deepEqual(me.json(), { name: "anonymous", kind: "anonymous", grants: [{ role: "viewer", environments: ["*"] }], oidc: false });
    for (const url of ["/api/v1/stacks?environment=prod", "/api/v1/history", "/api/v1/environments", "/api/v1/audit"]) assert.equal((await api.get(url, null)).statusCode, 200, url);
    const sync = await api.call({ method: "POST", url: "/api/v1/sync", token: null, payload: { environment: "dev" } });
    assert.equal(sync.statusCode, 401, sync.body);
    assert.equal((await api.get("/api/v1/history", "raw:wrong-token")).statusCode, 401, "a bad token is never downgraded to anonymous");
  });
});
