import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { openStore } from "../../src/store/open.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, "0");

describe("the state file", () => {
  let dir: string;
  let umask: number;
  before(() => {
    umask = process.umask(0o022);
  });
  after(() => {
    process.umask(umask);
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "gitward-state-file-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe("modes", () => {
    it("a new database is 0600, its -wal and -shm too, and the directory made for it 0700, whatever the umask", async () => {
      const file = join(dir, "var", "gitward", "state.db");
      const store = await openSqliteStore(file);
      await store.appendAudit({ kind: "agent-start", actor: "agent", details: {} });
      try {
        assert.equal(mode(join(dir, "var")), "0700");
        assert.equal(mode(join(dir, "var", "gitward")), "0700");
        assert.equal(mode(file), "0600");
        assert.ok(existsSync(`${file}-wal`) && existsSync(`${file}-shm`), "WAL files exist while open");
        assert.equal(mode(`${file}-wal`), "0600");
        assert.equal(mode(`${file}-shm`), "0600");
      } finally {
        await store.close();
      }
    });

    it("an existing database readable by others is narrowed to 0600 when the agent opens it", async () => {
      const file = join(dir, "state.db");
      await (await openSqliteStore(file)).close();
      chmodSync(file, 0o644);
      const store = await openSqliteStore(file);
      await store.appendAudit({ kind: "agent-start", actor: "agent", details: {} });
      assert.equal(mode(file), "0600");
      assert.equal(mode(`${file}-wal`), "0600");
      await store.close();
    });
  });

  describe("read-only opening, for the reading commands", () => {
    it("a missing file is an error, and nothing is created: no file, no directory", async () => {
      const file = join(dir, "typo", "x.db");
      await assert.rejects(openStore(`sqlite:${file}`, { readOnly: true }), (e: unknown) => {
        assert.match(String((e as Error).message), /state sqlite:.*typo\/x\.db: does not exist/);
        return true;
      });
      assert.equal(existsSync(join(dir, "typo")), false);
    });

    it("reads a database the agent has open, and one it closed; writes nothing", async () => {
      const file = join(dir, "state.db");
      const writer = await openSqliteStore(file);
      await writer.appendAudit({ kind: "agent-start", actor: "agent", details: {} });
      const reader = await openStore(`sqlite:${file}`, { readOnly: true });
      assert.equal((await reader.verifyAudit()).ok, true);
      await assert.rejects(reader.appendAudit({ kind: "agent-stop", actor: "agent", details: {} }), /read-only/);
      await reader.close();
      await writer.close();
      const later = await openStore(`sqlite:${file}`, { readOnly: true });
      assert.deepEqual(await later.verifyAudit().then((v) => [v.ok, v.count]), [true, 1]);
      await later.close();
    });

    it("a file that is not a gitward database is refused, and left as it was", async () => {
      const file = join(dir, "other.db");
      const db = new DatabaseSync(file);
      db.exec("CREATE TABLE t (x)");
      db.close();
      await assert.rejects(openStore(`sqlite:${file}`, { readOnly: true }), /is not a gitward state database/);
      writeFileSync(join(dir, "text.db"), "not a database at all, just some text that is long enough\n".repeat(4));
      await assert.rejects(openStore(`sqlite:${join(dir, "text.db")}`, { readOnly: true }), /is not an SQLite database/);
    });
  });

  describe("the audit triggers", () => {
    it("INSERT OR REPLACE and REPLACE INTO an existing seq are refused through raw SQL; the chain stays intact", async () => {
      const file = join(dir, "state.db");
      const store = await openSqliteStore(file);
      for (let i = 0; i < 3; i++) await store.appendAudit({ kind: "sync", actor: "agent", details: { i } });
      await store.close();
      const db = new DatabaseSync(file);
      try {
        assert.throws(() => db.exec(`INSERT OR REPLACE INTO audit_events (seq, at, kind, actor, details, prev_hash, hash)
          SELECT seq, at, kind, 'mallory', details, prev_hash, hash FROM audit_events WHERE seq = 2`), /append-only: rows cannot be replaced/);
        assert.throws(() => db.exec(`REPLACE INTO audit_events (seq, at, kind, actor, details, prev_hash, hash)
          SELECT seq, at, kind, 'mallory', details, prev_hash, hash FROM audit_events WHERE seq = 3`), /append-only: rows cannot be replaced/);
        assert.deepEqual(db.prepare("SELECT actor FROM audit_events ORDER BY seq").all().map((r) => r["actor"]), ["agent", "agent", "agent"]);
      } finally {
        db.close();
      }
      const reader = await openStore(`sqlite:${file}`, { readOnly: true });
      assert.deepEqual(await reader.verifyAudit().then((v) => [v.ok, v.count]), [true, 3]);
      await reader.close();
    });
  });
});
