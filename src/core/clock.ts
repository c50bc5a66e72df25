import { setTimeout as delay } from "node:timers/promises";

/**
 * Time as a port, so backoff, queues, rate limits and timeouts can be tested without waiting:
 * the agent, its scheduler and the Kubernetes client take a Clock; tests pass a fake one.
 */
export interface Clock {
  /** Milliseconds since some fixed point, monotonic; only differences matter. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Wall-clock time, for timestamps that people and stores read. */
  date(): Date;
  /**
   * Calls `fn` once after `ms`; returns a function that cancels it. The timer does not keep
   * the process alive: whoever sets it owns its lifetime and cancels it when stopping.
   */
  timer(fn: () => void, ms: number): () => void;
}

/** The real clock: `performance.now()`, `Date` and Node timers. */
export function systemClock(): Clock {
  return {
    now: () => performance.now(),
    date: () => new Date(),
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      if (ms <= 0) return;
      try {
        await delay(ms, undefined, signal === undefined ? {} : { signal });
      } catch (err: unknown) {
        // timers/promises rejects with its own AbortError; callers expect the signal's reason.
        if (signal?.aborted === true) throw signal.reason;
        throw err;
      }
    },
    timer: (fn, ms) => {
      const t = setTimeout(fn, Math.max(0, ms));
      t.unref();
      return () => clearTimeout(t);
    },
  };
}

/** The clock's wall time as ISO 8601, the form records keep. */
export function isoNow(clock: Clock): string {
  return clock.date().toISOString();
}
