import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Action, Grant, Principal, Role } from "../../../src/agent/http/access.ts";
import {
  ACTIONS, anonymousPrincipal, can, denialReason, readableEnvironments, requiredRole, roleOn,
} from "../../../src/agent/http/access.ts";

function principal(...grants: Grant[]): Principal {
  return { kind: "token", name: "t", grants };
}

// What each single grant allows, environment by environment: dev is granted, prod is not.
// Columns: read, sync, rollback on dev; the same on prod; audit; tokens.
type Row = readonly [label: string, grant: Grant, dev: string, prod: string, audit: boolean, tokens: boolean];
const matrix: readonly Row[] = [
  ["viewer on dev", { role: "viewer", environments: ["dev"] }, "r--", "---", false, false],
  ["operator on dev", { role: "operator", environments: ["dev"] }, "rsb", "---", false, false],
  ["admin on dev", { role: "admin", environments: ["dev"] }, "rsb", "---", false, false],
  ["viewer on *", { role: "viewer", environments: ["*"] }, "r--", "r--", true, false],
  ["operator on *", { role: "operator", environments: ["*"] }, "rsb", "rsb", true, false],
  ["admin on *", { role: "admin", environments: ["*"] }, "rsb", "rsb", true, true],
  ["operator on dev and staging", { role: "operator", environments: ["dev", "staging"] }, "rsb", "---", false, false],
  ["no environments", { role: "admin", environments: [] }, "---", "---", false, false],
];

function allowed(p: Principal, env: string): string {
  return `${can(p, "read", env) ? "r" : "-"}${can(p, "sync", env) ? "s" : "-"}${can(p, "rollback", env) ? "b" : "-"}`;
}

describe("access: role × environment grant × action", () => {
  for (const [label, grant, dev, prod, audit, tokens] of matrix) {
    it(label, () => {
      const p = principal(grant);
      assert.equal(allowed(p, "dev"), dev, "on dev");
      assert.equal(allowed(p, "prod"), prod, "on prod");
      assert.equal(can(p, "audit"), audit, "audit");
      assert.equal(can(p, "audit", "dev"), audit, "audit ignores the environment");
      assert.equal(can(p, "tokens"), tokens, "tokens");
      assert.equal(can(p, "tokens", "dev"), tokens, "tokens ignore the environment");
    });
  }

  it("takes the highest role among the grants covering an environment", () => {
    const p = principal({ role: "operator", environments: ["dev"] }, { role: "viewer", environments: ["*"] }, { role: "admin", environments: ["lab"] });
    assert.equal(roleOn(p, "dev"), "operator");
    assert.equal(roleOn(p, "prod"), "viewer");
    assert.equal(roleOn(p, "lab"), "admin");
    assert.equal(roleOn(p, "*"), "viewer", "only * grants count for every environment");
    assert.equal(allowed(p, "dev"), "rsb");
    assert.equal(allowed(p, "prod"), "r--");
    assert.equal(can(p, "tokens"), false, "admin on one environment is not admin on *");
    assert.equal(can(p, "audit"), true);
  });

  it("without an environment, read, sync and rollback need the role on every environment", () => {
    assert.equal(can(principal({ role: "operator", environments: ["dev"] }), "sync"), false);
    assert.equal(can(principal({ role: "operator", environments: ["*"] }), "sync"), true);
  });

  it("a principal with no grants can do nothing", () => {
    const p = principal();
    assert.equal(roleOn(p, "dev"), undefined);
    for (const action of ACTIONS) assert.equal(can(p, action, "dev"), false, action);
  });

  it("an environment literally named like a grant list entry is matched exactly", () => {
    const p = principal({ role: "viewer", environments: ["dev"] });
    assert.equal(roleOn(p, "Dev"), undefined);
    assert.equal(roleOn(p, "dev "), undefined);
  });

  it("lists the readable environments in the given order", () => {
    const p = principal({ role: "viewer", environments: ["prod", "dev"] });
    assert.deepEqual(readableEnvironments(p, ["dev", "staging", "prod"]), ["dev", "prod"]);
    assert.deepEqual(readableEnvironments(principal({ role: "viewer", environments: ["*"] }), ["a", "b"]), ["a", "b"]);
    assert.deepEqual(readableEnvironments(principal(), ["a"]), []);
  });

  it("names the role each action needs", () => {
    const expected: Record<Action, Role> = { read: "viewer", audit: "viewer", sync: "operator", rollback: "operator", tokens: "admin" };
    for (const action of ACTIONS) assert.equal(requiredRole(action), expected[action], action);
  });

  it("says why a request is denied", () => {
    assert.equal(denialReason("sync", "prod"), 'sync needs operator on environment "prod"');
    assert.equal(denialReason("tokens", "prod"), "tokens needs admin on every environment (*)");
  });

  it("anonymous is viewer everywhere and nothing more", () => {
    const p = anonymousPrincipal();
    assert.equal(p.kind, "anonymous");
    assert.equal(allowed(p, "prod"), "r--");
    assert.equal(can(p, "audit"), true);
    assert.equal(can(p, "tokens"), false);
  });
});
