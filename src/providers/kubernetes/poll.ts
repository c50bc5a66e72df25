import type { Clock } from "../../core/clock.ts";

/** Options of {@link pollUntil}. */
export interface PollOptions {
  readonly clock: Clock;
  /** The first pause; each next one doubles, up to `maxDelayMs`. */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** What a poll ended with: the last value, and whether the time ran out before it was done. */
export interface PollResult<T> {
  readonly value: T;
  readonly timedOut: boolean;
}

/**
 * Calls `probe` until it says done or `timeoutMs` has passed, pausing with exponential backoff
 * between calls (the last pause cut short to end at the deadline). The caller's signal ends it
 * with the signal's reason.
 */
export async function pollUntil<T>(probe: () => Promise<{ readonly done: boolean; readonly value: T }>, opts: PollOptions): Promise<PollResult<T>> {
  const deadline = opts.clock.now() + opts.timeoutMs;
  let delay = opts.minDelayMs;
  for (;;) {
    opts.signal?.throwIfAborted();
    const r = await probe();
    if (r.done) return { value: r.value, timedOut: false };
    const left = deadline - opts.clock.now();
    if (left <= 0) return { value: r.value, timedOut: true };
    await opts.clock.sleep(Math.min(delay, left), opts.signal);
    delay = Math.min(delay * 2, opts.maxDelayMs);
  }
}
