import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { describe, it } from "node:test";
import { forEachBounded } from "../../../../src/providers/host/fs/bounded.ts";
import { segments } from "../../../../src/providers/host/fs/operation.ts";
import { forEachSliced } from "../../../../src/providers/host/fs/sliced.ts";

describe("forEachBounded", () => {
  it("keeps at most `limit` in flight and visits every item", async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachBounded([...Array(20).keys()], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await delay(1);
      seen.push(n);
      inFlight--;
    });
    assert.equal(peak, 3);
    assert.deepEqual(seen.toSorted((a, b) => a - b), [...Array(20).keys()]);
  });

  it("stops starting work after a failure and rejects only once the work in flight has settled", async () => {
    const started: number[] = [];
    let settled = 0;
    await assert.rejects(forEachBounded([...Array(50).keys()], 4, async (n) => {
      started.push(n);
      await delay(n === 5 ? 1 : 5);
      settled++;
      if (n === 5) throw new Error("boom 5");
    }), /boom 5/);
    assert.equal(settled, started.length, "nothing was still running when it rejected");
    assert.ok(started.length < 15, `started ${started.length}`);
  });
});

describe("forEachSliced", () => {
  it("visits every item in order and lets timers run during long work", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const seen: number[] = [];
    await forEachSliced([...Array(200).keys()], (n) => {
      const until = performance.now() + 0.3;
      while (performance.now() < until);
      seen.push(n);
    });
    clearInterval(timer);
    assert.deepEqual(seen, [...Array(200).keys()]);
    assert.ok(ticks > 0, "the event loop turned");
  });
});

describe("segments", () => {
  it("groups consecutive writes and removes, and keeps each directory operation alone", () => {
    const ops = ["mkdir", "mkdir", "write", "write", "remove", "rmdir", "write", "rmdir"].map((op) => ({ op: op as "write" }));
    assert.deepEqual(segments(ops), [
      { kind: "dir", indexes: [0] },
      { kind: "dir", indexes: [1] },
      { kind: "files", indexes: [2, 3, 4] },
      { kind: "dir", indexes: [5] },
      { kind: "files", indexes: [6] },
      { kind: "dir", indexes: [7] },
    ]);
  });
});
