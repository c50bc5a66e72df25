import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { generateApiToken, hashApiToken } from "../../src/store/tokens.ts";
import { runCli } from "../support/cli.ts";
import type { TestPostgres } from "../support/postgres.ts";
import { startPostgres } from "../support/postgres.ts";

describe("gitward state migrate", () => {
  let server: TestPostgres;
  let dir: string;
  before(async () => {
    server = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), "gitward-migrate-"));
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("copies history, drift, audit and tokens keeping ids and hashes, verifies, and refuses a non-empty target", async () => {
    const file = join(dir, "state.db");
    const sqlite = await openSqliteStore(file);
    const web = { group: "apps", kind: "Deployment", namespace: "web", name: "api" };
    const rev = { sha: "abc123", author: "jane", message: "m" };
    const s1 = await sqlite.beginSync({ environment: "dev", stack: "web", revision: rev, trigger: { kind: "manual", by: "jane" }, startedAt: "2024-05-01T10:00:00Z" });
    await sqlite.finishSync(s1.id, { outcome: "succeeded", summary: { created: 1 }, objects: [{ ref: web, apiVersion: "apps/v1", action: "created" }], durationMs: 12 });
    await sqlite.recordHealth(s1.id, { state: "healthy", at: "2024-05-01T10:01:00Z" });
    const s2 = await sqlite.beginSync({ environment: "prod", stack: "web", revision: rev, trigger: { kind: "poll" }, startedAt: "2024-05-01T11:00:00Z" });
    await sqlite.recordDrift([{ environment: "dev", stack: "web", ref: web, apiVersion: "apps/v1", corrected: true, syncId: s1.id, fields: [{ field: "spec.replicas" }] }]);
    for (let i = 0; i < 5; i++) await sqlite.appendAudit({ kind: "sync", actor: "agent", details: { i, nested: { x: 1.5 } } });
    const token = generateApiToken();
    const t = await sqlite.createToken({ name: "ci", role: "operator", environments: ["dev"], hash: hashApiToken(token), createdBy: "jane" });
    const expected = { syncs: await sqlite.listSyncs(), drift: await sqlite.listDrift(), audit: await sqlite.listAudit(), verify: await sqlite.verifyAudit() };
    await sqlite.close();

    const url = await server.createDatabase();
    const r = await runCli(["state", "migrate", "--from", `sqlite:${file}`, "--to", url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /copied 2 syncs, 1 drift events, 5 audit events and 1 tokens/);
    assert.match(r.stdout, /audit chain verified: 5 events/);
    assert.ok(!(r.stdout + r.stderr).includes(server.password), "the password was printed");

    const pgStore = await openPostgresStore(url);
    try {
      assert.deepEqual(await pgStore.listSyncs(), expected.syncs);
      assert.deepEqual(await pgStore.listDrift(), expected.drift);
      assert.deepEqual(await pgStore.listAudit(), expected.audit);
      assert.deepEqual(await pgStore.verifyAudit(), expected.verify);
      assert.equal((await pgStore.findToken(hashApiToken(token)))?.id, t.id);
      assert.equal((await pgStore.getSync(s2.id))?.outcome, "running");
      const next = await pgStore.beginSync({ environment: "dev", stack: "web", revision: rev, trigger: { kind: "poll" } });
      assert.ok(Number(next.id) > Number(s2.id), "the id sequence continues after the copied ids");
      assert.equal((await pgStore.appendAudit({ kind: "sync", actor: "agent", details: {} })).seq, 6);
    } finally {
      await pgStore.close();
    }

    const again = await runCli(["state", "migrate", "--from", `sqlite:${file}`, "--to", url]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not empty \(syncs has 3 rows\)/);
    assert.ok(!again.stderr.includes(server.password));
  });
});
