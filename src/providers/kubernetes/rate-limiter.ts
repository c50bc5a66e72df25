import type { Clock } from "../../core/clock.ts";

/** A client-side request rate: `qps` tokens a second, up to `burst` saved. */
export interface RateLimit {
  readonly qps: number;
  readonly burst: number;
}

/**
 * No client-side limit by default: API Priority and Fairness protects the server and answers 429
 * when it must, which the client honours (Retry-After, backoff). A fixed client limit made a
 * 1,000-object create take 38 s instead of 0.5 s (bench/RESULTS.md). A qps of 0 or less turns
 * the limit off; `--kube-qps` sets one.
 */
export function defaultRateLimit(): RateLimit {
  return { qps: 0, burst: 0 };
}

/**
 * A token bucket. Each `take` reserves a token at once and waits until it is due, so concurrent
 * callers are spaced out fairly in the order they asked.
 */
export class TokenBucket {
  private readonly limit: RateLimit;
  private readonly clock: Clock;
  private tokens: number;
  private last: number | undefined;

  constructor(limit: RateLimit, clock: Clock) {
    this.limit = limit;
    this.clock = clock;
    this.tokens = Math.max(1, limit.burst);
    this.last = undefined;
  }

  /** Waits for a token; when the signal aborts first, the token is given back and the reason thrown. */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (!(this.limit.qps > 0) || this.limit.qps === Number.POSITIVE_INFINITY) return;
    const now = this.clock.now();
    const capacity = Math.max(1, this.limit.burst);
    if (this.last !== undefined) this.tokens = Math.min(capacity, this.tokens + ((now - this.last) * this.limit.qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    const waitMs = (-this.tokens * 1000) / this.limit.qps;
    try {
      await this.clock.sleep(waitMs, signal);
    } catch (err: unknown) {
      this.tokens += 1;
      throw err;
    }
  }
}
