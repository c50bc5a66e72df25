import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LayeredCache } from "../../src/core/layered-cache.ts";

describe("LayeredCache", () => {
  it("keeps at most maxEntries in memory, dropping the least recently used, and still answers from disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gitward-cache-test-"));
    try {
      const cache = new LayeredCache<number>(dir, { maxEntries: 3 });
      for (const [i, k] of ["aa1", "bb2", "cc3"].entries()) await cache.put(k, i);
      assert.equal(await cache.get("aa1"), 0); // aa1 is now the most recently used
      await cache.put("dd4", 3);
      assert.equal(cache.size, 3);
      const memoryOnly = new LayeredCache<number>(undefined, { maxEntries: 3 });
      for (const [i, k] of ["aa1", "bb2", "cc3"].entries()) await memoryOnly.put(k, i);
      await memoryOnly.get("aa1");
      await memoryOnly.put("dd4", 3);
      assert.equal(await memoryOnly.get("bb2"), undefined, "the least recently used went");
      assert.equal(await memoryOnly.get("aa1"), 0, "a recently read one stayed");
      assert.equal(await cache.get("bb2"), 1, "the disk layer still has what memory dropped");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
