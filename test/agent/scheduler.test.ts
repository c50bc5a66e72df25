import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { agentLogger } from "../../src/agent/logger.ts";
import { Scheduler } from "../../src/agent/scheduler.ts";
import { backoffDelay } from "../../src/core/backoff.ts";
import { FakeClock } from "../support/fake-clock.ts";

const logger = agentLogger({ level: "silent", pretty: false });

function scheduler(clock: FakeClock, concurrency = 2): Scheduler {
  return new Scheduler({ concurrency, backoff: { baseMs: 1000, maxMs: 8000 }, clock, logger, random: () => 0.5 });
}

describe("backoffDelay", () => {
  const table: [attempt: number, ms: number][] = [[0, 0], [1, 1000], [2, 2000], [3, 4000], [4, 8000], [5, 8000], [30, 8000]];
  for (const [attempt, ms] of table) {
    it(`attempt ${attempt}: ${ms} ms`, () => assert.equal(backoffDelay(attempt, { baseMs: 1000, maxMs: 8000 }), ms));
  }
});

describe("Scheduler", () => {
  it("counts failures per key and resets them on success", () => {
    const s = scheduler(new FakeClock());
    assert.deepEqual([s.failed("a"), s.failed("a"), s.failed("b"), s.failed("a")], [1000, 2000, 1000, 4000]);
    s.succeeded("a");
    assert.equal(s.failed("a"), 1000);
  });

  it("runs delayed work when the clock reaches it, one task per key at a time, within the concurrency", async () => {
    const clock = new FakeClock();
    const s = scheduler(clock, 1);
    const ran: string[] = [];
    s.enqueue("x", () => { ran.push("x"); return Promise.resolve(); }, 5000);
    s.enqueue("y", () => { ran.push("y"); return Promise.resolve(); }, 1000);
    await clock.advance(999);
    assert.deepEqual(ran, []);
    await clock.advance(1);
    assert.deepEqual(ran, ["y"]);
    assert.equal(s.has("x"), true);
    await clock.advance(4000);
    assert.deepEqual(ran, ["y", "x"]);
    await s.idle();
    await s.close(0);
  });

  it("a failing loop backs off, is reported, and recovers", async () => {
    const clock = new FakeClock();
    const s = scheduler(clock);
    let fail = 3;
    let calls = 0;
    await s.every("poll", 60_000, () => {
      calls++;
      if (fail-- > 0) return Promise.reject(new Error("unreachable"));
      return Promise.resolve();
    }, { now: true });
    assert.equal(calls, 1);
    assert.equal(s.loops()["poll"]?.failures, 1);
    await clock.advance(1000);
    assert.equal(calls, 2);
    await clock.advance(2000);
    assert.equal(calls, 3);
    assert.equal(s.loops()["poll"]?.failures, 3);
    assert.equal(s.loops()["poll"]?.lastError, "unreachable");
    await clock.advance(4000);
    assert.equal(calls, 4);
    assert.equal(s.loops()["poll"]?.failures, 0);
    await clock.advance(59_999);
    assert.equal(calls, 4, "back to the interval after a success");
    await clock.advance(1);
    assert.equal(calls, 5);
    await s.close(0);
    await clock.advance(120_000);
    assert.equal(calls, 5, "no loop runs after close");
  });
});
