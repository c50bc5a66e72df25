import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Principal } from "../../../src/agent/http/access.ts";
import type { PrincipalDeps, PrincipalRequest } from "../../../src/agent/http/principal.ts";
import { principalResolver, resolvePrincipal } from "../../../src/agent/http/principal.ts";
import { openSqliteStore } from "../../../src/store/sqlite.ts";
import type { Store } from "../../../src/store/store.ts";
import { generateApiToken, hashApiToken } from "../../../src/store/tokens.ts";

const legacy = "legacy-api-token-of-the-agent-config";

function req(authorization?: string | string[]): PrincipalRequest {
  return { headers: authorization === undefined ? {} : { authorization } };
}

describe("resolvePrincipal", () => {
  let store: Store;
  let now: Date;
  let deps: PrincipalDeps;
  let opsToken: string;

  beforeEach(async () => {
    now = new Date("2024-05-01T10:00:00Z");
    store = await openSqliteStore(":memory:", { now: () => now });
    opsToken = generateApiToken();
    await store.createToken({ name: "ops", role: "operator", environments: ["dev"], hash: hashApiToken(opsToken), createdBy: "jane", expiresAt: "2024-06-01T00:00:00Z" });
    deps = { store, legacyToken: legacy, legacyTokenName: "ci-bot", anonymousRead: false, now: () => now };
  });
  afterEach(async () => {
    await store.close();
  });

  it("resolves a bearer API token to its name and grant, and records its use", async () => {
    const p = await resolvePrincipal(req(`Bearer ${opsToken}`), deps);
    assert.deepEqual(p, { kind: "token", name: "ops", grants: [{ role: "operator", environments: ["dev"] }] });
    assert.equal((await store.listTokens())[0]?.lastUsedAt, "2024-05-01T10:00:00.000Z");
  });

  it("accepts the scheme in any case", async () => {
    assert.equal((await resolvePrincipal(req(`bearer ${opsToken}`), deps))?.name, "ops");
  });

  it("refuses an expired token", async () => {
    now = new Date("2024-06-01T00:00:00Z");
    assert.equal(await resolvePrincipal(req(`Bearer ${opsToken}`), deps), undefined);
  });

  it("refuses a revoked token, even with anonymous reads on", async () => {
    await store.revokeToken("ops");
    assert.equal(await resolvePrincipal(req(`Bearer ${opsToken}`), { ...deps, anonymousRead: true }), undefined);
  });

  it("refuses an unknown token of the right form", async () => {
    assert.equal(await resolvePrincipal(req(`Bearer ${generateApiToken()}`), deps), undefined);
  });

  it("resolves the legacy token to admin on every environment under its configured name", async () => {
    assert.deepEqual(await resolvePrincipal(req(`Bearer ${legacy}`), deps), { kind: "legacy-token", name: "ci-bot", grants: [{ role: "admin", environments: ["*"] }] });
    const { legacyTokenName: _, ...unnamed } = deps;
    assert.equal((await resolvePrincipal(req(`Bearer ${legacy}`), unnamed))?.name, "api-token");
  });

  it("refuses a token that only shares a prefix with the legacy token", async () => {
    assert.equal(await resolvePrincipal(req(`Bearer ${legacy.slice(0, -1)}`), deps), undefined);
    assert.equal(await resolvePrincipal(req(`Bearer ${legacy}x`), deps), undefined);
  });

  it("has no legacy token when none is configured, not even an empty one", async () => {
    assert.equal(await resolvePrincipal(req(`Bearer ${legacy}`), { ...deps, legacyToken: undefined }), undefined);
    assert.equal(await resolvePrincipal(req("Bearer "), { ...deps, legacyToken: "" }), undefined);
  });

  it("without credentials: anonymous viewer when anonymous reads are on, nobody otherwise", async () => {
    assert.equal(await resolvePrincipal(req(), deps), undefined);
    const p = await resolvePrincipal(req(), { ...deps, anonymousRead: true });
    assert.deepEqual(p, { kind: "anonymous", name: "anonymous", grants: [{ role: "viewer", environments: ["*"] }] });
  });

  it("refuses garbage headers rather than falling back to anonymous", async () => {
    const open = { ...deps, anonymousRead: true };
    for (const header of ["", "Bearer", "Basic dXNlcjpwYXNz", `Token ${opsToken}`, `Bearer ${opsToken} extra`, `Bearer\t${opsToken}`, "Bearer ä"]) {
      assert.equal(await resolvePrincipal(req(header), open), undefined, JSON.stringify(header));
    }
    assert.equal(await resolvePrincipal(req([`Bearer ${opsToken}`, `Bearer ${opsToken}`]), open), undefined);
  });

  it("checks the session hook first", async () => {
    const oidc: Principal = { kind: "oidc", name: "oidc:u1", subject: "u1", grants: [{ role: "viewer", environments: ["prod"] }] };
    const withSession = { ...deps, session: () => Promise.resolve(oidc) };
    assert.equal(await resolvePrincipal(req(`Bearer ${opsToken}`), withSession), oidc);
    const noSession = { ...deps, session: () => undefined };
    assert.equal((await resolvePrincipal(req(`Bearer ${opsToken}`), noSession))?.name, "ops");
  });

  it("still resolves the token when recording its use fails, and says so", async () => {
    const errors: unknown[] = [];
    const failing: PrincipalDeps = {
      ...deps,
      store: { findToken: (h) => store.findToken(h), touchToken: () => Promise.reject(new Error("database is locked")) },
      onTouchError: (e) => errors.push(e),
    };
    assert.equal((await principalResolver(failing)(req(`Bearer ${opsToken}`)))?.name, "ops");
    assert.equal(errors.length, 1);
  });
});

describe("api.anonymousRead in the agent configuration", () => {
  it("defaults to false and accepts only a boolean", async () => {
    const { agentConfigSchema } = await import("../../../src/agent/config.ts");
    assert.equal(agentConfigSchema.parse({}).api.anonymousRead, false);
    assert.equal(agentConfigSchema.parse({ api: { tokenName: "x" } }).api.anonymousRead, false);
    assert.equal(agentConfigSchema.parse({ api: { anonymousRead: true } }).api.anonymousRead, true);
    assert.equal(agentConfigSchema.safeParse({ api: { anonymousRead: "yes" } }).success, false);
  });
});
