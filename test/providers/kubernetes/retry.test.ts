import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ApiErrorKind } from "../../../src/providers/kubernetes/errors.ts";
import { KubeApiError } from "../../../src/providers/kubernetes/errors.ts";
import type { RetryEvent, RetryPolicy } from "../../../src/providers/kubernetes/retry.ts";
import { backoffDelay, defaultRetryPolicy, withRetry } from "../../../src/providers/kubernetes/retry.ts";
import { FakeClock } from "../../support/fake-clock.ts";

const fail = (kind: ApiErrorKind, retryAfterSeconds?: number): KubeApiError =>
  new KubeApiError({ kind, status: 0, text: kind, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) }, { operation: "get" });

/** Runs withRetry over a script of outcomes (an error kind, or "ok"), with random() = 0.5. */
async function run(script: (ApiErrorKind | ["retry-after", number] | "ok")[], opts: { idempotent?: boolean; policy?: Partial<RetryPolicy> } = {}) {
  const clock = new FakeClock();
  const events: RetryEvent[] = [];
  let calls = 0;
  const outcome = await withRetry(
    () => {
      const step = script[calls++];
      if (step === undefined || step === "ok") return Promise.resolve("ok");
      return Promise.reject(Array.isArray(step) ? fail("TooManyRequests", step[1]) : fail(step));
    },
    { policy: { ...defaultRetryPolicy(), ...opts.policy }, clock, random: () => 0.5, idempotent: opts.idempotent ?? true, onRetry: (e) => events.push(e) },
  ).then(
    (v) => v,
    (err: unknown) => (err instanceof KubeApiError ? `threw ${err.kind}` : `threw ${String(err)}`),
  );
  return { outcome, calls, sleeps: clock.sleeps, events };
}

describe("withRetry", () => {
  const table: { name: string; script: Parameters<typeof run>[0]; idempotent?: boolean; policy?: Partial<RetryPolicy>; outcome: string; calls: number; sleeps: number[] }[] = [
    { name: "success at once", script: ["ok"], outcome: "ok", calls: 1, sleeps: [] },
    { name: "503 then success", script: ["ServiceUnavailable", "ok"], outcome: "ok", calls: 2, sleeps: [125] },
    { name: "429 honours Retry-After", script: [["retry-after", 2], "ok"], outcome: "ok", calls: 2, sleeps: [2000] },
    { name: "connection reset then success", script: ["ConnectionFailed", "ConnectionFailed", "ok"], outcome: "ok", calls: 3, sleeps: [125, 250] },
    { name: "backoff doubles with full jitter", script: ["InternalError", "InternalError", "InternalError", "InternalError", "ok"], outcome: "ok", calls: 5, sleeps: [125, 250, 500, 1000] },
    { name: "gives up after maxAttempts with the last error", script: ["Timeout", "Timeout", "Timeout", "Timeout", "Timeout", "ok"], outcome: "threw Timeout", calls: 5, sleeps: [125, 250, 500, 1000] },
    { name: "no retry on 422", script: ["Invalid", "ok"], outcome: "threw Invalid", calls: 1, sleeps: [] },
    { name: "no retry on 404", script: ["NotFound", "ok"], outcome: "threw NotFound", calls: 1, sleeps: [] },
    { name: "no retry on an apply conflict", script: ["ApplyConflict", "ok"], outcome: "threw ApplyConflict", calls: 1, sleeps: [] },
    { name: "no retry on a 500 apply rejection", script: ["ApplyRejected", "ok"], outcome: "threw ApplyRejected", calls: 1, sleeps: [] },
    { name: "no retry of a create after a 500", script: ["InternalError", "ok"], idempotent: false, outcome: "threw InternalError", calls: 1, sleeps: [] },
    { name: "a create is retried after 429, 503 and a refused connection", script: [["retry-after", 1], "ServiceUnavailable", "ConnectionRefused", "ok"], idempotent: false, outcome: "ok", calls: 4, sleeps: [1000, 250, 500] },
    { name: "gives up when Retry-After would pass maxElapsedMs", script: [["retry-after", 60], "ok"], outcome: "threw TooManyRequests", calls: 1, sleeps: [] },
    { name: "gives up when the next wait would pass maxElapsedMs", script: ["InternalError", "InternalError", "InternalError", "ok"], policy: { maxElapsedMs: 400 }, outcome: "threw InternalError", calls: 3, sleeps: [125, 250] },
    { name: "the delay is capped by maxDelayMs", script: ["InternalError", "InternalError", "InternalError", "ok"], policy: { baseDelayMs: 1000, maxDelayMs: 1500 }, outcome: "ok", calls: 4, sleeps: [500, 750, 750] },
  ];
  for (const c of table) {
    it(c.name, async () => {
      const got = await run(c.script, { ...(c.idempotent === undefined ? {} : { idempotent: c.idempotent }), ...(c.policy === undefined ? {} : { policy: c.policy }) });
      assert.deepEqual({ outcome: got.outcome, calls: got.calls, sleeps: got.sleeps }, { outcome: c.outcome, calls: c.calls, sleeps: c.sleeps });
      assert.deepEqual(got.events.map((e) => e.delayMs), c.sleeps);
    });
  }

  it("does not retry errors that are not API errors", async () => {
    const got = await withRetry(() => Promise.reject(new TypeError("bug")), { policy: defaultRetryPolicy(), clock: new FakeClock(), random: () => 0, idempotent: true }).catch((e: unknown) => e);
    assert.ok(got instanceof TypeError);
  });

  it("stops with the signal's reason when aborted between attempts", async () => {
    const controller = new AbortController();
    const clock = new FakeClock();
    let calls = 0;
    const got = await withRetry(
      () => {
        calls++;
        controller.abort(new Error("stopped"));
        return Promise.reject(fail("ServiceUnavailable"));
      },
      { policy: defaultRetryPolicy(), clock, random: () => 0.5, idempotent: true, signal: controller.signal },
    ).catch((e: unknown) => e);
    assert.equal((got as Error).message, "stopped");
    assert.equal(calls, 1);
  });

  it("does not start when the signal is already aborted", async () => {
    let calls = 0;
    const got = await withRetry(() => Promise.resolve(calls++), { policy: defaultRetryPolicy(), clock: new FakeClock(), random: () => 0, idempotent: true, signal: AbortSignal.abort(new Error("early")) }).catch((e: unknown) => e);
    assert.equal((got as Error).message, "early");
    assert.equal(calls, 0);
  });
});

describe("backoffDelay", () => {
  const policy = defaultRetryPolicy();
  it("is between 0 and the doubling ceiling", () => {
    assert.equal(backoffDelay(1, policy, () => 0), 0);
    assert.equal(backoffDelay(1, policy, () => 0.999999), 249);
    assert.equal(backoffDelay(3, policy, () => 0.5), 500);
    assert.equal(backoffDelay(30, policy, () => 0.5), 5000);
  });
  it("is exactly Retry-After when the server gives one", () => {
    assert.equal(backoffDelay(4, policy, () => 0.5, 3), 3000);
  });
});
