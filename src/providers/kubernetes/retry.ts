import type { Clock } from "../../core/clock.ts";
import type { KubeApiError } from "./errors.ts";
import { isApiError } from "./errors.ts";

/**
 * Retries of one API request: exponential backoff with full jitter (a random delay between 0 and
 * `baseDelayMs * 2^(attempt-1)`, capped at `maxDelayMs`), or exactly the server's Retry-After.
 * Only failures whose class says a repeat can succeed are retried: 429 and 503 always; other 5xx,
 * timeouts and broken connections only for idempotent requests (apply, get, list, delete), because
 * the server may have acted on a create before failing. Other 4xx are never retried.
 */

/** Limits of {@link withRetry}; see {@link defaultRetryPolicy}. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** No retry starts once this much time has passed since the first attempt (or would pass while waiting). */
  readonly maxElapsedMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** 5 attempts within 30 s, delays from 0–250 ms doubling up to 0–10 s. */
export function defaultRetryPolicy(): RetryPolicy {
  return { maxAttempts: 5, maxElapsedMs: 30_000, baseDelayMs: 250, maxDelayMs: 10_000 };
}

/** One retry about to happen, for logs and metrics. */
export interface RetryEvent {
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: KubeApiError;
}

/** Options of {@link withRetry}. */
export interface RetryOptions {
  readonly policy: RetryPolicy;
  readonly clock: Clock;
  /** A number in [0, 1); `Math.random` in production. */
  readonly random: () => number;
  /** True when sending the request twice does no harm. */
  readonly idempotent: boolean;
  readonly signal?: AbortSignal;
  readonly onRetry?: (event: RetryEvent) => void;
}

/** True when the failure may succeed if the same request is sent again. */
export function isRetryable(err: unknown, idempotent: boolean): err is KubeApiError {
  if (!isApiError(err)) return false;
  return err.retryability === "yes" || (err.retryability === "idempotent" && idempotent);
}

/** The wait before the attempt after `attempt`: Retry-After when given, otherwise full jitter. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Runs `fn` until it succeeds, fails in a way a retry cannot fix, or the policy's attempts or
 * time run out; then the last error is thrown. An aborted signal ends it with the signal's reason.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const start = opts.clock.now();
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err: unknown) {
      if (opts.signal?.aborted === true) throw opts.signal.reason;
      if (!isRetryable(err, opts.idempotent) || attempt >= opts.policy.maxAttempts) throw err;
      const delayMs = backoffDelay(attempt, opts.policy, opts.random, err.retryAfterSeconds);
      if (opts.clock.now() - start + delayMs > opts.policy.maxElapsedMs) throw err;
      opts.onRetry?.({ attempt, delayMs, error: err });
      await opts.clock.sleep(delayMs, opts.signal);
    }
  }
}
