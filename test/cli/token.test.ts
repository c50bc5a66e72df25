import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resolvePrincipal } from "../../src/agent/http/principal.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { runCli } from "../support/cli.ts";

describe("gitward token (end to end)", () => {
  let dir: string;
  let state: string;
  const env = { GITWARD_USER: "jane" };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "gitward-token-cli-"));
    state = `sqlite:${join(dir, "state.db")}`;
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function resolve(token: string): Promise<string | undefined> {
    const store = await openSqliteStore(join(dir, "state.db"));
    try {
      const p = await resolvePrincipal({ headers: { authorization: `Bearer ${token}` } }, { store, anonymousRead: false });
      return p === undefined ? undefined : `${p.name}:${p.grants.map((g) => `${g.role}@${g.environments.join(",")}`).join(";")}`;
    } finally {
      await store.close();
    }
  }

  let ciToken = "";

  it("create prints the token alone on stdout and its details on stderr; the token works", async () => {
    const r = await runCli(["token", "create", "--role", "operator", "--env", "dev", "--env", "staging", "--name", "ci", "--expires", "30d", "--state", state], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^gw_[A-Za-z0-9_-]{43}\n$/);
    ciToken = r.stdout.trim();
    assert.match(r.stderr, /created token ci \(id [0-9a-f]{16}\): operator on dev, staging, expires 20\d\d-/);
    assert.ok(!r.stderr.includes(ciToken));
    assert.equal(await resolve(ciToken), "ci:operator@dev,staging");
  });

  it("create --output json gives the token and its info; without --env the role is on every environment", async () => {
    const r = await runCli(["token", "create", "--role", "admin", "--name", "root", "--output", "json", "--state", state], { env });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(doc["name"], "root");
    assert.deepEqual(doc["environments"], ["*"]);
    assert.equal(doc["createdBy"], "jane");
    assert.equal(doc["expiresAt"], undefined);
    assert.equal(await resolve(String(doc["token"])), "root:admin@*");
  });

  it("refuses a name in use, a bad role and a bad lifetime, exit 1, storing nothing", async () => {
    const taken = await runCli(["token", "create", "--role", "viewer", "--name", "ci", "--state", state], { env });
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /a token named "ci" exists already/);
    assert.equal(taken.stdout, "");
    const role = await runCli(["token", "create", "--role", "root", "--state", state], { env });
    assert.equal(role.code, 1);
    assert.match(role.stderr, /viewer, operator, admin/);
    const life = await runCli(["token", "create", "--role", "viewer", "--expires", "soon", "--state", state], { env });
    assert.equal(life.code, 1);
    assert.match(life.stderr, /invalid token lifetime "soon"/);
    const list = await runCli(["token", "list", "--output", "json", "--state", state]);
    assert.equal((JSON.parse(list.stdout) as { items: unknown[] }).items.length, 2);
  });

  it("list shows the tokens, never a token", async () => {
    const r = await runCli(["token", "list", "--state", state]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ID +NAME +ROLE +ENVIRONMENTS +CREATED +EXPIRES +LAST USED +STATE\n/);
    assert.match(r.stdout, /\bci +operator +dev,staging .* active\n/);
    assert.match(r.stdout, /\broot +admin +\* .* never .* active\n/);
    assert.ok(!r.stdout.includes("gw_"));
  });

  it("revoke by name refuses the token from then on and audits both events as the user", async () => {
    const r = await runCli(["token", "revoke", "ci", "--state", state], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^revoked token ci \(id [0-9a-f]{16}\)/);
    assert.equal(await resolve(ciToken), undefined);
    const list = await runCli(["token", "list", "--state", state]);
    assert.match(list.stdout, /\bci +operator .* revoked\n/);
    const store = await openSqliteStore(join(dir, "state.db"));
    try {
      const audit = await store.listAudit();
      assert.deepEqual(audit.map((e) => [e.kind, e.actor, e.details["name"], e.details["via"]]), [
        ["token-created", "jane", "ci", "cli"], ["token-created", "jane", "root", "cli"], ["token-revoked", "jane", "ci", "cli"],
      ]);
      assert.ok(!JSON.stringify(audit).includes(ciToken));
    } finally {
      await store.close();
    }
  });

  it("revoke of an unknown token fails naming it", async () => {
    const r = await runCli(["token", "revoke", "nope", "--state", state], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no token with id or name "nope"/);
  });

  it("every subcommand has --help", async () => {
    for (const sub of ["create", "list", "revoke"]) {
      const r = await runCli(["token", sub, "--help"]);
      assert.equal(r.code, 0, sub);
      assert.match(r.stdout, /--state <url>/, sub);
    }
  });
});
