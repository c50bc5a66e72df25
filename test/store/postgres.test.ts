import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GitwardError } from "../../src/core/errors.ts";
import { openStore } from "../../src/store/open.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { passwordFromFile, resolveTarget } from "../../src/store/postgres/connection.ts";
import { pgMigrations } from "../../src/store/postgres/migrations.ts";
import type { Store } from "../../src/store/store.ts";
import type { TestPostgres } from "../support/postgres.ts";
import { startPostgres } from "../support/postgres.ts";
import { storeContract } from "./contract.ts";
import { tokenContract } from "./token-contract.ts";

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server.stop();
});

storeContract("PostgreSQL", async () => {
  const url = await server.createDatabase();
  const opened: Store[] = [await openPostgresStore(url)];
  return {
    store: opened[0]!,
    async openAnother() {
      const s = await openPostgresStore(url);
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close();
    },
  };
});

tokenContract("PostgreSQL", async () => {
  const url = await server.createDatabase();
  let now = new Date("2024-05-01T10:00:00Z");
  const store = await openPostgresStore(url, { now: () => now });
  return {
    store,
    setNow(iso: string) {
      now = new Date(iso);
    },
    cleanup: () => store.close(),
  };
});

describe("PostgreSQL store", () => {
  const sync = { environment: "dev", stack: "web", revision: { sha: "abc", author: "a", message: "m" }, trigger: { kind: "poll" as const } };

  it("serializes concurrent appends from two stores: the chain verifies and has no fork", async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([openPostgresStore(url, { poolSize: 5 }), openPostgresStore(url, { poolSize: 5 })]);
    try {
      const appends = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).appendAudit({ kind: "sync", actor: `w${i}`, details: { i } }));
      const events = await Promise.all(appends);
      assert.deepEqual(events.map((e) => e.seq).sort((x, y) => x - y), Array.from({ length: 60 }, (_, i) => i + 1));
      assert.equal(new Set(events.map((e) => e.prevHash)).size, 60, "two events chained onto the same previous one");
      const v = await b.verifyAudit();
      assert.equal(v.ok, true);
      assert.equal(v.ok && v.count, 60);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("refuses UPDATE, DELETE and TRUNCATE of the audit table", async () => {
    const url = await server.createDatabase();
    const store = await openPostgresStore(url);
    await store.appendAudit({ kind: "sync", actor: "agent", details: {} });
    await store.close();
    const db = new URL(url).pathname.slice(1);
    for (const statement of ["UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events", "TRUNCATE audit_events"]) {
      await assert.rejects(server.sql(statement, db), (e: unknown) => (e as { code?: string }).code === "42501" && /append-only/.test(String(e)), statement);
    }
    assert.equal((await server.sql("SELECT count(*)::int AS n FROM audit_events", db)).rows[0].n, 1);
  });

  it("migrates once when two stores open a fresh database at once", async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all([openPostgresStore(url), openPostgresStore(url), openPostgresStore(url)]);
    for (const s of stores) await s.close();
    const rows = (await server.sql("SELECT version FROM schema_migrations ORDER BY version", new URL(url).pathname.slice(1))).rows;
    assert.deepEqual(rows.map((r: { version: number }) => r.version), pgMigrations.map((m) => m.version));
  });

  it("survives a restart of PostgreSQL during a series of writes: all complete, none duplicated", async () => {
    const url = await server.createDatabase();
    const store = await openPostgresStore(url, { retryForMs: 30_000 });
    try {
      let done = false;
      let reachedTen: () => void = () => undefined;
      const atTen = new Promise<void>((resolve) => (reachedTen = resolve));
      const writes = (async () => {
        for (let i = 0; i < 80; i++) {
          if (i === 10) reachedTen();
          const row = await store.beginSync({ ...sync, startedAt: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString() });
          await store.finishSync(row.id, { outcome: "succeeded", summary: {}, objects: [], durationMs: i });
          await store.appendAudit({ kind: "sync", actor: "agent", details: { i } });
        }
        done = true;
      })();
      await atTen;
      await server.restart({ downMs: 500 });
      assert.equal(done, false, "the writes finished before the restart: the test proves nothing");
      assert.equal(store.healthy(), false, "no call has failed over yet");
      await writes;
      const syncs = await store.listSyncs({ limit: 1000 });
      assert.equal(syncs.length, 80);
      assert.ok(syncs.every((s) => s.outcome === "succeeded"));
      const v = await store.verifyAudit();
      assert.deepEqual(v.ok && v.count, 80);
      assert.deepEqual((await store.listAudit({ limit: 1000 })).map((e) => e.details["i"]), Array.from({ length: 80 }, (_, i) => i));
      assert.equal(store.healthy(), true);
    } finally {
      await store.close();
    }
  });

  it("reports a wrong password clearly, naming the user and database, never the password", async () => {
    const url = await server.createDatabase();
    const wrong = url.replace(`:${server.password}@`, ":not-the-Pa55word@");
    await assert.rejects(openStore(wrong), (e: unknown) => {
      assert.ok(e instanceof GitwardError);
      const text = `${e.message} ${e.hint ?? ""}`;
      assert.match(text, /refused the login/);
      assert.match(text, new RegExp(`postgres://${server.user}@127\\.0\\.0\\.1:${server.port}/`));
      assert.ok(!text.includes("not-the-Pa55word"), text);
      assert.ok(!text.includes(server.password), text);
      return true;
    });
  });

  it("gives up on an unreachable server after the retry time, saying so", async () => {
    const t0 = Date.now();
    await assert.rejects(openStore("postgres://u@127.0.0.1:1/db", { retryForMs: 600 }), /postgres:\/\/u@127\.0\.0\.1:1\/db.*unreachable/);
    assert.ok(Date.now() - t0 < 5000);
  });

  it("reads the password from PGPASSWORD, then the password file, as libpq does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gitward-pgpass-"));
    try {
      const file = join(dir, "pgpass");
      writeFileSync(file, `# comment\nother:*:*:*:nope\n127.0.0.1:${server.port}:*:${server.user}:${server.password.replace(/:/g, "\\:")}\n`, { mode: 0o600 });
      const env = { PGPASSFILE: file, PGUSER: server.user, PGHOST: "127.0.0.1", PGPORT: String(server.port) };
      const db = new URL(await server.createDatabase()).pathname.slice(1);
      const store = await openPostgresStore(`postgres:///${db}`, { env });
      assert.equal(store.location, `postgres://${server.user}@127.0.0.1:${server.port}/${db}`);
      await store.close();
      assert.equal((await resolveTarget("postgres://x@h/d", { PGPASSWORD: "envpw", PGPASSFILE: file })).password, "envpw");
      writeFileSync(join(dir, "open"), "*:*:*:*:secret\n", { mode: 0o644 });
      assert.equal(await passwordFromFile({ host: "h", port: 5432, database: "d", user: "x" }, { PGPASSFILE: join(dir, "open") }), undefined, "a file others can read is ignored");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("opens read-only without migrating, and refuses a database that is not gitward's", async () => {
    const url = await server.createDatabase();
    await assert.rejects(openPostgresStore(url, { readOnly: true }), /not a gitward state database/);
    const db = new URL(url).pathname.slice(1);
    await server.sql("CREATE TABLE syncs (x int)", db);
    await assert.rejects(openPostgresStore(url), /another program's database/);
  });
});
