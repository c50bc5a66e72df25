import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { ROLES } from "../../src/agent/http/access.ts";
import { secretValues } from "../../src/store/redact.ts";
import { withSecretValues } from "../../src/store/secret-values.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import {
  generateApiToken, hashApiToken, isApiTokenForm, parseTokenLifetime, tokenRoles,
} from "../../src/store/tokens.ts";
import { tokenContract } from "./token-contract.ts";

tokenContract("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gitward-tokens-"));
  let now = new Date("2024-05-01T10:00:00Z");
  const store = await openSqliteStore(join(dir, "state.db"), { now: () => now });
  return {
    store,
    setNow(iso: string) {
      now = new Date(iso);
    },
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("API tokens", () => {
  it("are gw_ and 43 base64url characters, different each time, hashed as hex SHA-256", () => {
    const a = generateApiToken();
    const b = generateApiToken();
    assert.match(a, /^gw_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, b);
    assert.ok(isApiTokenForm(a));
    assert.ok(!isApiTokenForm(`${a}x`));
    assert.equal(hashApiToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.match(hashApiToken(a), /^[0-9a-f]{64}$/);
  });

  it("store only the hash: the database file holds no token", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gitward-tokens-"));
    try {
      const file = join(dir, "state.db");
      const store = await openSqliteStore(file);
      const token = generateApiToken();
      await store.createToken({ name: "ci", role: "admin", environments: ["*"], hash: hashApiToken(token), createdBy: "jane" });
      await store.close();
      const db = new DatabaseSync(file);
      const rows = db.prepare("SELECT * FROM tokens").all();
      db.close();
      assert.equal(rows.length, 1);
      assert.ok(!JSON.stringify(rows).includes(token));
      assert.equal(rows[0]?.["hash"], hashApiToken(token));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("pass through the secret-values wrapper", async () => {
    const raw = await openSqliteStore(":memory:");
    const store = withSecretValues(raw, secretValues(["s3cr3t-value-of-the-agent"]));
    const token = generateApiToken();
    const created = await store.createToken({ name: "ci", role: "viewer", environments: ["dev"], hash: hashApiToken(token), createdBy: "jane" });
    assert.equal((await store.findToken(hashApiToken(token)))?.id, created.id);
    assert.equal((await store.listTokens()).length, 1);
    await store.touchToken(created.id, new Date().toISOString());
    assert.ok((await store.revokeToken("ci")).revokedAt !== undefined);
    await store.close();
  });

  it("carry the same roles as the access model", () => {
    assert.deepEqual([...tokenRoles], [...ROLES]);
  });

  it("lifetimes parse from minutes to weeks and refuse zero, junk and more than ten years", () => {
    assert.equal(parseTokenLifetime("30d"), 30 * 86_400_000);
    assert.equal(parseTokenLifetime("1d12h"), 36 * 3_600_000);
    assert.equal(parseTokenLifetime("2w"), 14 * 86_400_000);
    assert.equal(parseTokenLifetime("90m"), 90 * 60_000);
    for (const bad of ["", "0d", "30", "30x", "d", "-1d", "4000d"]) assert.equal(parseTokenLifetime(bad), undefined, bad);
  });
});
