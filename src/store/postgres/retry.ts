import type { BackoffPolicy } from "../../core/backoff.ts";
import { backoffDelay } from "../../core/backoff.ts";
import { isTransient, pgFailure } from "./pg-errors.ts";

/** Retries store calls that failed for a lost connection, and remembers whether the last call reached the server. */
export interface Retrier {
  /**
   * Runs `attempt`, and again with backoff while it fails for a transient reason (see
   * `isTransient`) and the time budget lasts; `stop` ends the retrying early (the store closed).
   * Failures come out as GitwardErrors naming the database and the operation.
   */
  run<T>(operation: string, attempt: () => Promise<T>, stop?: () => boolean): Promise<T>;
  /** False from a transient failure until a call succeeds again. */
  healthy(): boolean;
}

/** How retries of a lost connection back off: 100 ms, doubling, at most 2 s apart. */
const reconnectBackoff: BackoffPolicy = { baseMs: 100, maxMs: 2000 };

/** A {@link Retrier} that retries for at most `retryForMs` per call. */
export function newRetrier(location: string, retryForMs: number, policy: BackoffPolicy = reconnectBackoff): Retrier {
  let ok = true;
  return {
    async run<T>(operation: string, attempt: () => Promise<T>, stop: () => boolean = () => false): Promise<T> {
      const started = Date.now();
      for (let n = 1; ; n++) {
        try {
          const result = await attempt();
          ok = true;
          return result;
        } catch (e: unknown) {
          if (!isTransient(e)) throw pgFailure(location, operation, e);
          ok = false;
          const wait = backoffDelay(n, policy);
          const elapsed = Date.now() - started;
          if (stop() || elapsed + wait > retryForMs) throw pgFailure(location, operation, e, elapsed);
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    },
    healthy: () => ok,
  };
}
