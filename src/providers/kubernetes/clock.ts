import { setTimeout as delay } from "node:timers/promises";

/** Time as a port, so backoff, rate limits and timeouts can be tested without waiting. */
export interface Clock {
  /** Milliseconds since some fixed point; only differences matter. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `performance.now()` and timers. */
export function systemClock(): Clock {
  return {
    now: () => performance.now(),
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
  };
}
