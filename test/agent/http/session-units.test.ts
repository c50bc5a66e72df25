import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { agentConfigSchema } from "../../../src/agent/config.ts";
import { grantsForGroups, groupsFromClaim } from "../../../src/agent/http/oidc-roles.ts";
import { safeReturnTo } from "../../../src/agent/http/oidc-routes.ts";
import { browserSetup } from "../../../src/agent/http/session-setup.ts";
import { ExpiringMap, SessionStore } from "../../../src/agent/http/session-store.ts";
import { agentLogger } from "../../../src/agent/logger.ts";

const logger = agentLogger({ level: "silent", pretty: false });

describe("session pieces", () => {
  it("maps groups to grants through oidc.roles; unknown groups and odd claims grant nothing", () => {
    const roles = [
      { group: "dev-ops", role: "operator" as const, environments: ["dev"] },
      { group: "all", role: "viewer" as const, environments: ["*"] },
    ];
    assert.deepEqual(grantsForGroups(["all", "dev-ops", "other"], roles), [{ role: "operator", environments: ["dev"] }, { role: "viewer", environments: ["*"] }]);
    assert.deepEqual(grantsForGroups(["other"], roles), []);
    assert.deepEqual(groupsFromClaim({ groups: ["a", 3, "", "b"] }, "groups"), ["a", "b"]);
    assert.deepEqual(groupsFromClaim({ roles: "a  b" }, "roles"), ["a", "b"]);
    assert.deepEqual(groupsFromClaim({ groups: { a: true } }, "groups"), []);
    assert.deepEqual(groupsFromClaim({}, "groups"), []);
  });

  it("returns after login only to paths of this agent", () => {
    for (const ok of ["/", "/stacks?environment=dev", "/a/b#c"]) assert.equal(safeReturnTo(ok), ok);
    for (const bad of ["//evil.example", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/a b", "/x\nSet-Cookie: a", undefined, 3, `/${"a".repeat(2001)}`]) {
      assert.equal(safeReturnTo(bad), "/", String(bad));
    }
  });

  it("keeps sessions bounded and expiring", () => {
    const clock = { now: 1000 };
    const map = new ExpiringMap<number>({ max: 3, now: () => clock.now });
    map.set("a", 1, 2000);
    map.set("b", 2, 5000);
    map.set("c", 3, 5000);
    map.set("d", 4, 5000);
    assert.equal(map.size, 3);
    assert.equal(map.get("a"), undefined, "the oldest made way");
    clock.now = 5000;
    assert.equal(map.get("b"), undefined, "expired at its time");
    const store = new SessionStore({ now: () => clock.now });
    const s = store.create({ principal: { kind: "token", name: "t", grants: [] } }, 60_000, clock.now + 1000);
    assert.equal(s.expiresAt, clock.now + 1000, "never outlives its token");
    assert.notEqual(s.id, s._csrf);
    assert.equal(store.get(s.id)?.principal.name, "t");
    assert.equal(store.delete(s.id), true);
    assert.equal(store.get(s.id), undefined);
  });

  it("derives the redirect URL and the Secure flag from the configuration, and refuses OIDC without an address", () => {
    const oidc = { issuer: "https://id.example.com", clientId: "gitward", roles: [] };
    const a = browserSetup(agentConfigSchema.parse({ url: "https://gitward.example.com/", oidc }), {}, { logger, tls: false });
    assert.equal(a.sessions.oidc?.settings.redirectUrl, "https://gitward.example.com/auth/callback");
    assert.deepEqual(a.sessions.oidc.settings.scopes, ["openid", "profile", "email", "groups"]);
    assert.equal(a.sessions.secure, true);
    assert.equal(a.security.https, true);
    const b = browserSetup(agentConfigSchema.parse({}), {}, { logger, tls: false });
    assert.equal(b.sessions.secure, false);
    assert.equal(b.sessions.oidc, undefined);
    assert.notEqual(b.sessions.secret, browserSetup(agentConfigSchema.parse({}), {}, { logger, tls: false }).sessions.secret, "a random key per process");
    assert.throws(() => browserSetup(agentConfigSchema.parse({ oidc }), {}, { logger, tls: false }), /redirect URL/);
  });
});
