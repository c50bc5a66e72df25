import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, it } from "node:test";
import { GitwardError } from "../../src/core/errors.ts";
import { auditHash, genesisHash } from "../../src/store/audit-hash.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { migrate, migrations, schemaVersion } from "../../src/store/sqlite/migrations.ts";
import type { AuditEvent, Store } from "../../src/store/store.ts";
import { storeContract } from "./contract.ts";

storeContract("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gitward-store-"));
  const file = join(dir, "state.db");
  const opened: Store[] = [await openSqliteStore(file)];
  return {
    store: opened[0]!,
    async openAnother() {
      const s = await openSqliteStore(file);
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("SQLite store", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "gitward-store-"));
    file = join(dir, "state.db");
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A raw connection to the same file, closed after `fn`. */
  function raw<T>(fn: (db: DatabaseSync) => T): T {
    const db = new DatabaseSync(file);
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }

  /** Opens the store, appends `n` audit events, closes it, and returns them. */
  async function auditLog(n: number): Promise<AuditEvent[]> {
    const store = await openSqliteStore(file);
    const out: AuditEvent[] = [];
    for (let i = 1; i <= n; i++) out.push(await store.appendAudit({ kind: "sync", actor: "agent", details: { i } }));
    await store.close();
    return out;
  }

  async function verify(): Promise<Awaited<ReturnType<Store["verifyAudit"]>>> {
    const store = await openSqliteStore(file);
    try {
      return await store.verifyAudit();
    } finally {
      await store.close();
    }
  }

  const dropTriggers = (db: DatabaseSync): void => {
    db.exec("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete");
  };

  describe("opening", () => {
    it("creates the file and its directory, in WAL mode", async () => {
      file = join(dir, "a", "b", "state.db");
      const store = await openSqliteStore(file);
      assert.equal(store.location, `sqlite:${file}`);
      await store.close();
      assert.equal(raw((db) => db.prepare("PRAGMA journal_mode").get()?.["journal_mode"]), "wal");
    });

    it("applies the migrations once, and again on reopen changes nothing", async () => {
      const first = await openSqliteStore(file);
      const s = await first.beginSync({ environment: "dev", stack: "web", revision: { sha: "a", author: "x", message: "m" }, trigger: { kind: "poll" } });
      await first.close();
      const second = await openSqliteStore(file);
      assert.equal((await second.getSync(s.id))?.revision.sha, "a");
      await second.close();
      const versions = raw((db) => db.prepare("SELECT version FROM schema_migrations ORDER BY version").all().map((r) => r["version"]));
      assert.deepEqual(versions, migrations.map((m) => m.version));
      assert.equal(versions.at(-1), schemaVersion);
    });

    it("applies only the pending migrations, in order", () => {
      raw((db) => {
        assert.deepEqual(migrate(db, "test"), { from: 0, to: schemaVersion, applied: migrations.map((m) => m.version) });
        assert.deepEqual(migrate(db, "test"), { from: schemaVersion, to: schemaVersion, applied: [] });
        const next = schemaVersion + 1;
        const more = [...migrations, { version: next, name: "notes", sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY) STRICT" }];
        assert.deepEqual(migrate(db, "test", more), { from: schemaVersion, to: next, applied: [next] });
        assert.ok(db.prepare("SELECT name FROM sqlite_schema WHERE name = 'notes'").get() !== undefined);
      });
    });

    it("refuses a database a newer gitward migrated, naming the file and both versions", async () => {
      await (await openSqliteStore(file)).close();
      raw((db) => db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', '2030-01-01T00:00:00Z')").run(schemaVersion + 1));
      await assert.rejects(openSqliteStore(file), (e: unknown) => {
        assert.ok(e instanceof GitwardError);
        assert.equal(e.code, "config");
        assert.equal(e.message, `state sqlite:${file}: has schema version ${schemaVersion + 1}, newer than ${schemaVersion}, the latest this gitward knows`);
        assert.match(e.hint ?? "", /upgrade gitward/);
        return true;
      });
    });

    it("refuses a file that is not an SQLite database, naming it", async () => {
      writeFileSync(file, "this is a text file, not a database; ".repeat(50));
      await assert.rejects(openSqliteStore(file), (e: unknown) => {
        assert.ok(e instanceof GitwardError);
        assert.equal(e.code, "config");
        assert.match(e.message, new RegExp(`^state sqlite:${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: is not an SQLite database`));
        return true;
      });
    });

    it("refuses another program's database instead of adding tables to it", async () => {
      raw((db) => db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY)"));
      await assert.rejects(openSqliteStore(file), /database of another program \(it has a table customers/);
      assert.equal(raw((db) => db.prepare("SELECT name FROM sqlite_schema WHERE name = 'syncs'").get()), undefined);
    });

    it("reports a lock held past the busy timeout", async () => {
      const store = await openSqliteStore(file, { busyTimeoutMs: 100 });
      const db = new DatabaseSync(file);
      try {
        db.exec("BEGIN IMMEDIATE");
        await assert.rejects(store.appendAudit({ kind: "sync", actor: "agent", details: {} }), /append to the audit log: the database stayed locked for 100 ms/);
        db.exec("ROLLBACK");
        assert.equal((await store.appendAudit({ kind: "sync", actor: "agent", details: {} })).seq, 1);
      } finally {
        db.close();
        await store.close();
      }
    });

    it("uses the clock it is given for default times", async () => {
      const store = await openSqliteStore(":memory:", { now: () => new Date("2030-01-02T03:04:05.678Z") });
      const e = await store.appendAudit({ kind: "agent-start", actor: "agent", details: {} });
      assert.equal(e.at, "2030-01-02T03:04:05.678Z");
      assert.equal(store.location, "sqlite::memory:");
      await store.close();
    });
  });

  describe("audit log", () => {
    it("refuses UPDATE and DELETE of audit rows", async () => {
      await auditLog(2);
      raw((db) => {
        assert.throws(() => db.exec("UPDATE audit_events SET actor = 'mallory' WHERE seq = 1"), /append-only: rows cannot be updated/);
        assert.throws(() => db.exec("DELETE FROM audit_events WHERE seq = 2"), /append-only: rows cannot be deleted/);
      });
      assert.deepEqual(await verify(), { ok: true, count: 2, head: (await listAll()).at(-1)?.hash });
    });

    async function listAll(): Promise<AuditEvent[]> {
      const store = await openSqliteStore(file);
      try {
        return await store.listAudit({ limit: 1000 });
      } finally {
        await store.close();
      }
    }

    it("detects an edited row once the triggers are dropped", async () => {
      await auditLog(4);
      raw((db) => {
        dropTriggers(db);
        db.exec(`UPDATE audit_events SET details = '{"i":20}' WHERE seq = 2`);
      });
      assert.deepEqual(await verify(), { ok: false, count: 1, seq: 2, reason: "the hash does not match the event's content: it was edited" });
    });

    it("detects an edited row whose hash was recomputed, at the next row", async () => {
      const events = await auditLog(4);
      const forged = { ...events[1]!, actor: "mallory" };
      const { hash: _h, ...unhashed } = forged;
      raw((db) => {
        dropTriggers(db);
        db.prepare("UPDATE audit_events SET actor = 'mallory', hash = ? WHERE seq = 2").run(auditHash(unhashed));
      });
      const v = await verify();
      assert.deepEqual(v, { ok: false, count: 2, seq: 3, reason: "prevHash is not the hash of seq 2: the chain was replaced or reordered" });
    });

    it("detects a row deleted in the middle", async () => {
      await auditLog(5);
      raw((db) => {
        dropTriggers(db);
        db.exec("DELETE FROM audit_events WHERE seq = 3");
      });
      assert.deepEqual(await verify(), { ok: false, count: 2, seq: 4, reason: "seq 4 follows seq 2: events were removed or reordered" });
    });

    it("detects the first row deleted", async () => {
      await auditLog(3);
      raw((db) => {
        dropTriggers(db);
        db.exec("DELETE FROM audit_events WHERE seq = 1");
      });
      assert.deepEqual(await verify(), { ok: false, count: 0, seq: 2, reason: "the chain starts at seq 2, not 1: events were removed" });
    });

    it("detects reordered rows", async () => {
      await auditLog(4);
      raw((db) => {
        dropTriggers(db);
        db.exec("UPDATE audit_events SET seq = 100 WHERE seq = 2; UPDATE audit_events SET seq = 2 WHERE seq = 3; UPDATE audit_events SET seq = 3 WHERE seq = 100");
      });
      const v = await verify();
      assert.equal(v.ok, false);
      assert.equal(!v.ok && v.seq, 2);
    });

    it("reports a row it cannot read as a break, not a crash", async () => {
      await auditLog(2);
      raw((db) => {
        dropTriggers(db);
        db.exec("UPDATE audit_events SET details = 'not json' WHERE seq = 2");
      });
      const v = await verify();
      assert.ok(!v.ok);
      assert.equal(v.seq, 2);
      assert.match(v.reason, /cannot be read: .*column details is not valid JSON/);
    });

    it("cannot see a chain rewritten from the start: that is what keeping the head elsewhere is for", async () => {
      const events = await auditLog(3);
      const head = events.at(-1)!.hash;
      raw((db) => {
        dropTriggers(db);
        let prevHash = genesisHash;
        for (const e of events) {
          const unhashed = { ...e, actor: "mallory", prevHash };
          const { hash: _h, ...rest } = unhashed;
          const hash = auditHash(rest);
          db.prepare("UPDATE audit_events SET actor = 'mallory', prev_hash = ?, hash = ? WHERE seq = ?").run(prevHash, hash, e.seq);
          prevHash = hash;
        }
      });
      const v = await verify();
      assert.ok(v.ok);
      assert.equal(v.count, 3);
      assert.notEqual(v.head, head);
    });

    it("keeps one unbroken chain when two processes append at once", { timeout: 120_000 }, async () => {
      await (await openSqliteStore(file)).close();
      const moduleUrl = new URL("../../src/store/sqlite.ts", import.meta.url).href;
      const script = `
        const [moduleUrl, file, who, startAt] = process.argv.slice(1);
        const { openSqliteStore } = await import(moduleUrl);
        const store = await openSqliteStore(file, { busyTimeoutMs: 30000 });
        while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 1));
        for (let i = 0; i < 200; i++) {
          await store.appendAudit({ kind: "sync", actor: who, details: { i } });
          // A pause lets the other writer in: SQLite's busy handler sleeps, so a writer that never
          // pauses wins every lock and the two would run one after the other.
          if (i % 4 === 3) await new Promise((r) => setTimeout(r, 1));
        }
        await store.close();
      `;
      const startAt = String(Date.now() + 1500);
      const run = (who: string): Promise<void> => new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script, moduleUrl, file, who, startAt], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${who} exited ${code}: ${stderr}`))));
      });
      await Promise.all([run("a"), run("b")]);
      const events = await listAll();
      assert.equal(events.length, 400);
      assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 400 }, (_, i) => i + 1));
      for (const who of ["a", "b"]) {
        assert.deepEqual(events.filter((e) => e.actor === who).map((e) => e.details["i"]), Array.from({ length: 200 }, (_, i) => i));
      }
      // Interleaved: both wrote while the other was writing.
      const switches = events.filter((e, i) => i > 0 && e.actor !== events[i - 1]!.actor).length;
      assert.ok(switches > 1, `the two writers did not overlap (${switches} switches)`);
      assert.deepEqual(await verify(), { ok: true, count: 400, head: events.at(-1)!.hash });
    });
  });
});
