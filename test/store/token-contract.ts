import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Store } from "../../src/store/store.ts";
import type { NewToken } from "../../src/store/tokens.ts";
import { generateApiToken, hashApiToken, TokenError } from "../../src/store/tokens.ts";

/** A store under test for tokens; `now` moves the store's clock (ISO 8601). */
export interface TokenHarness {
  readonly store: Store;
  setNow(iso: string): void;
  cleanup(): Promise<void>;
}

/**
 * The token behaviour every Store implementation must have (SQLite now, PostgreSQL later).
 * The harness's store must use a clock the test sets, starting at 2024-05-01T10:00:00Z.
 */
export function tokenContract(name: string, open: () => Promise<TokenHarness>): void {
  describe(`Store tokens: ${name}`, () => {
    let h: TokenHarness;
    let store: Store;
    beforeEach(async () => {
      h = await open();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    function newToken(over: Partial<NewToken> = {}): { token: string; input: NewToken } {
      const token = generateApiToken();
      return { token, input: { name: "ci", role: "operator", environments: ["dev"], hash: hashApiToken(token), createdBy: "jane", ...over } };
    }

    it("creates a token and finds it by the hash of the token, never returning the hash", async () => {
      const { token, input } = newToken({ environments: ["dev", "staging", "dev"] });
      const created = await store.createToken(input);
      assert.equal(created.name, "ci");
      assert.equal(created.role, "operator");
      assert.deepEqual(created.environments, ["dev", "staging"]);
      assert.equal(created.createdAt, "2024-05-01T10:00:00.000Z");
      assert.equal(created.createdBy, "jane");
      assert.equal(created.expiresAt, undefined);
      const found = await store.findToken(hashApiToken(token));
      assert.deepEqual(found, created);
      const all = JSON.stringify([created, found, await store.listTokens(), await store.revokeToken(created.id)]);
      assert.ok(!all.includes(input.hash), "a hash was returned");
      assert.ok(!all.includes(token), "a token was returned");
      assert.ok(!Object.keys(created).includes("hash"));
    });

    it("finds nothing for an unknown, malformed or empty hash", async () => {
      await store.createToken(newToken().input);
      assert.equal(await store.findToken(hashApiToken(generateApiToken())), undefined);
      assert.equal(await store.findToken("not-a-hash"), undefined);
      assert.equal(await store.findToken(""), undefined);
    });

    it("lists every token oldest first, revoked ones included", async () => {
      const a = await store.createToken(newToken({ name: "a" }).input);
      h.setNow("2024-05-01T11:00:00Z");
      const b = await store.createToken(newToken({ name: "b", role: "admin", environments: ["*"] }).input);
      await store.revokeToken("a");
      const list = await store.listTokens();
      assert.deepEqual(list.map((t) => t.name), ["a", "b"]);
      assert.equal(list[0]?.revokedAt, "2024-05-01T11:00:00.000Z");
      assert.equal(list[1]?.id, b.id);
      assert.notEqual(a.id, b.id);
    });

    it("revokes by id or by name; a revoked token is not found; revoking again by id is a no-op", async () => {
      const one = newToken({ name: "one" });
      const two = newToken({ name: "two" });
      const t1 = await store.createToken(one.input);
      const t2 = await store.createToken(two.input);
      h.setNow("2024-05-02T00:00:00Z");
      assert.equal((await store.revokeToken(t1.id)).revokedAt, "2024-05-02T00:00:00.000Z");
      assert.equal((await store.revokeToken("two")).id, t2.id);
      assert.equal(await store.findToken(hashApiToken(one.token)), undefined);
      assert.equal(await store.findToken(hashApiToken(two.token)), undefined);
      h.setNow("2024-05-03T00:00:00Z");
      assert.equal((await store.revokeToken(t1.id)).revokedAt, "2024-05-02T00:00:00.000Z");
    });

    it("refuses to revoke an unknown token, naming it", async () => {
      await assert.rejects(store.revokeToken("nope"), (e: unknown) => e instanceof TokenError && e.reason === "not-found" && /no token .*"nope"/.test(e.message));
    });

    it("does not find an expired token, and finds it until then", async () => {
      const { token, input } = newToken({ expiresAt: "2024-05-31T10:00:00Z" });
      const created = await store.createToken(input);
      assert.equal(created.expiresAt, "2024-05-31T10:00:00.000Z");
      h.setNow("2024-05-31T09:59:59Z");
      assert.equal((await store.findToken(hashApiToken(token)))?.id, created.id);
      h.setNow("2024-05-31T10:00:00Z");
      assert.equal(await store.findToken(hashApiToken(token)), undefined);
    });

    it("refuses a name in use by an unrevoked token, and reuses a revoked token's name", async () => {
      const first = await store.createToken(newToken({ name: "deploy" }).input);
      await assert.rejects(store.createToken(newToken({ name: "deploy" }).input), (e: unknown) => e instanceof TokenError && e.reason === "name-taken");
      await store.revokeToken("deploy");
      const second = newToken({ name: "deploy", role: "viewer" });
      const again = await store.createToken(second.input);
      assert.notEqual(again.id, first.id);
      assert.equal((await store.findToken(hashApiToken(second.token)))?.role, "viewer");
      assert.equal((await store.revokeToken("deploy")).id, again.id, "the name now names the unrevoked one");
    });

    it("refuses a bad name, role or environment list", async () => {
      for (const over of [{ name: "" }, { name: "has space" }, { role: "root" as never }, { environments: [] }, { environments: [" "] }]) {
        await assert.rejects(store.createToken(newToken(over).input), (e: unknown) => e instanceof TokenError && e.reason === "invalid", JSON.stringify(over));
      }
      assert.deepEqual(await store.listTokens(), []);
    });

    it("records the last use at most once a minute", async () => {
      const { token, input } = newToken();
      const t = await store.createToken(input);
      await store.touchToken(t.id, "2024-05-01T10:00:10Z");
      await store.touchToken(t.id, "2024-05-01T10:00:50Z");
      assert.equal((await store.findToken(hashApiToken(token)))?.lastUsedAt, "2024-05-01T10:00:10.000Z");
      await store.touchToken(t.id, "2024-05-01T10:01:10Z");
      assert.equal((await store.listTokens())[0]?.lastUsedAt, "2024-05-01T10:01:10.000Z");
    });
  });
}
