import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { GitwardError } from "../../src/core/errors.ts";
import { openStore, parseStateUrl } from "../../src/store/open.ts";

describe("parseStateUrl", () => {
  const cases: { url: string; path: string }[] = [
    { url: "sqlite:state.db", path: "state.db" },
    { url: "sqlite:/var/lib/gitward/state.db", path: "/var/lib/gitward/state.db" },
    { url: "sqlite:///var/lib/gitward/state.db", path: "/var/lib/gitward/state.db" },
    { url: "sqlite://state.db", path: "state.db" },
    { url: "SQLITE:state.db", path: "state.db" },
    { url: "sqlite::memory:", path: ":memory:" },
    { url: "/var/lib/gitward/state.db", path: "/var/lib/gitward/state.db" },
    { url: "  ./state.db ", path: "./state.db" },
    { url: ":memory:", path: ":memory:" },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.url)} is SQLite at ${c.path}`, () => {
      assert.deepEqual(parseStateUrl(c.url), { kind: "sqlite", path: c.path });
    });
  }

  it("takes postgres:// and postgresql:// as PostgreSQL, and a malformed one fails without repeating the password", async () => {
    for (const url of ["postgres://gitward:hunter2@db:5432/gitward", "postgresql://gitward:hunter2@db/gitward"]) {
      assert.deepEqual(parseStateUrl(url), { kind: "postgres", url });
    }
    await assert.rejects(openStore("postgres://gitward:hunter2@db:port/gitward"), (e: unknown) => {
      assert.ok(e instanceof GitwardError);
      assert.equal(e.code, "config");
      assert.match(e.message, /the PostgreSQL state URL cannot be parsed/);
      assert.ok(!JSON.stringify({ m: e.message, h: e.hint }).includes("hunter2"));
      return true;
    });
  });

  it("refuses other schemes and empty URLs", () => {
    assert.throws(() => parseStateUrl("mysql://root:pw@db/x"), /unsupported state URL scheme "mysql"/);
    assert.throws(() => parseStateUrl(""), /the state URL is empty/);
    assert.throws(() => parseStateUrl("sqlite:"), /names no file/);
  });
});

describe("openStore", () => {
  it("opens the SQLite file a URL names", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gitward-store-"));
    try {
      const store = await openStore(`sqlite:${join(dir, "state.db")}`);
      assert.equal(store.location, `sqlite:${join(dir, "state.db")}`);
      assert.equal((await store.appendAudit({ kind: "agent-start", actor: "agent", details: {} })).seq, 1);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
