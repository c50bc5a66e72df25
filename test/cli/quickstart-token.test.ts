import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { resolvePrincipal } from "../../src/agent/http/principal.ts";
import { ensureAgentConfig, guide } from "../../src/cli/commands/quickstart-demo.ts";
import { ensureQuickstartToken } from "../../src/cli/commands/quickstart-token.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { parseDocument } from "yaml";

describe("quick start: admin token and anonymous reads", () => {
  let dir: string;
  let state: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "gitward-qs-token-"));
    state = `sqlite:${join(dir, "state.db")}`;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function principalName(token: string): Promise<string | undefined> {
    const store = await openSqliteStore(join(dir, "state.db"));
    try {
      const p = await resolvePrincipal({ headers: { authorization: `Bearer ${token}` } }, { store, anonymousRead: false });
      return p === undefined ? undefined : `${p.name}:${p.grants[0]?.role ?? ""}@${p.grants[0]?.environments.join(",") ?? ""}`;
    } finally {
      await store.close();
    }
  }

  it("makes an admin token once, keeps it in a private file, and reuses it on a re-run", async () => {
    const first = await ensureQuickstartToken(dir, state, "jane");
    assert.equal(first.created, true);
    assert.match(first.token, /^gw_/);
    assert.equal(statSync(first.file).mode & 0o777, 0o600);
    assert.equal(readFileSync(first.file, "utf8"), `${first.token}\n`);
    assert.equal(await principalName(first.token), "quickstart-admin:admin@*");
    const again = await ensureQuickstartToken(dir, state, "jane");
    assert.deepEqual(again, { ...first, created: false });
    const store = await openSqliteStore(join(dir, "state.db"));
    assert.equal((await store.listTokens()).length, 1);
    assert.deepEqual((await store.listAudit()).map((e) => [e.kind, e.actor, e.details["via"]]), [["token-created", "jane", "quickstart"]]);
    await store.close();
  });

  it("replaces a kept token the state no longer accepts, revoking the old one", async () => {
    const first = await ensureQuickstartToken(dir, state, "jane");
    const store = await openSqliteStore(join(dir, "state.db"));
    await store.revokeToken("quickstart-admin");
    await store.close();
    const second = await ensureQuickstartToken(dir, state, "jane");
    assert.equal(second.created, true);
    assert.notEqual(second.token, first.token);
    assert.equal(await principalName(first.token), undefined);
    assert.equal(await principalName(second.token), "quickstart-admin:admin@*");
    writeFileSync(second.file, "garbage\n");
    const third = await ensureQuickstartToken(dir, state, "jane");
    assert.equal(third.created, true);
    assert.equal(await principalName(second.token), undefined, "the replaced token was revoked");
  });

  it("its agent configuration allows anonymous reads", () => {
    const file = ensureAgentConfig(dir, join(dir, "api-token"));
    const config = agentConfigSchema.parse(parseDocument(readFileSync(file, "utf8")).toJS());
    assert.equal(config.api.anonymousRead, true);
  });

  it("the guide prints the UI URL with the admin token, and nothing when there is none", () => {
    const base = { dir, url: "http://127.0.0.1:8080", tokenFile: join(dir, "api-token"), gitward: ["node", "gitward.js"] };
    const text = guide({ ...base, adminToken: { token: "gw_TOKEN", file: join(dir, "admin-token") } });
    assert.match(text, /Web UI: http:\/\/127\.0\.0\.1:8080\/ /);
    assert.match(text, /\n {2}gw_TOKEN\n/);
    assert.ok(!guide(base).includes("Web UI"));
  });
});
