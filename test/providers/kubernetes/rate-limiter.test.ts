import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultRateLimit, TokenBucket } from "../../../src/providers/kubernetes/rate-limiter.ts";
import { Semaphore } from "../../../src/providers/kubernetes/semaphore.ts";
import { FakeClock } from "../../support/fake-clock.ts";

describe("TokenBucket", () => {
  const table = [
    { name: "a burst goes at once", qps: 10, burst: 3, takes: 3, sleeps: [] },
    { name: "then one token per 1/qps", qps: 10, burst: 2, takes: 5, sleeps: [100, 100, 100] },
    { name: "burst 0 still lets one through", qps: 4, burst: 0, takes: 3, sleeps: [250, 250] },
    { name: "qps 0 turns the limit off", qps: 0, burst: 1, takes: 10, sleeps: [] },
  ];
  for (const c of table) {
    it(c.name, async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket({ qps: c.qps, burst: c.burst }, clock);
      for (let i = 0; i < c.takes; i++) await bucket.take();
      assert.deepEqual(clock.sleeps, c.sleeps);
    });
  }

  it("spaces concurrent callers by reservation", async () => {
    const clock = new FakeClock();
    clock.sleep = function (ms: number) {
      this.sleeps.push(ms);
      return Promise.resolve();
    };
    const bucket = new TokenBucket({ qps: 10, burst: 1 }, clock);
    await Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    assert.deepEqual(clock.sleeps, [100, 200]);
  });

  it("refills while idle, up to the burst", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 2 }, clock);
    await bucket.take();
    await bucket.take();
    clock.time += 10_000;
    for (let i = 0; i < 3; i++) await bucket.take();
    assert.deepEqual(clock.sleeps, [100]);
  });

  it("has no client-side limit by default (the server flow-controls)", () => {
    assert.deepEqual(defaultRateLimit(), { qps: 0, burst: 0 });
  });
});

describe("Semaphore", () => {
  it("lets `limit` through and queues the rest in order", async () => {
    const sem = new Semaphore(2);
    const order: string[] = [];
    const a = await sem.acquire();
    const b = await sem.acquire();
    const c = sem.acquire().then((release) => (order.push("c"), release));
    const d = sem.acquire().then((release) => (order.push("d"), release));
    assert.equal(sem.running, 2);
    a();
    a();
    (await c)();
    b();
    (await d)();
    assert.deepEqual(order, ["c", "d"]);
    assert.equal(sem.running, 0);
  });

  it("drops a waiter whose signal aborts", async () => {
    const sem = new Semaphore(1);
    const held = await sem.acquire();
    const controller = new AbortController();
    const waiting = sem.acquire(controller.signal).then(() => "granted", (e: unknown) => (e as Error).message);
    controller.abort(new Error("gave up"));
    assert.equal(await waiting, "gave up");
    held();
    assert.equal(sem.running, 0);
  });
});
