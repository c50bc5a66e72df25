import { backoffDelay, type BackoffPolicy } from "../core/backoff.ts";
import { StoreUnavailableError } from "../store/store-error.ts";

/** How a held record ended, for the agent's log. */
export type PendingOutcome = "written" | "dropped";

/** Options of {@link PendingRecords}. */
export interface PendingRecordsOptions {
  /** Between attempts while the store stays unreachable; default 1 s doubling to 30 s. */
  readonly backoff?: BackoffPolicy;
  /** Told when a held record was finally written, or dropped because the store refused it for good (a lost lease). */
  readonly onSettled?: (what: string, outcome: PendingOutcome, error?: unknown) => void;
}

interface Held {
  readonly what: string;
  readonly write: () => Promise<unknown>;
}

/**
 * Records the state store could not take when a sync ended (PostgreSQL down longer than a call
 * waits, a failover): held in memory, in order, and written at the next chance, so a sync's
 * outcome and its audit entry are never lost. Each write is idempotent (a finish is refused once
 * done, an audit entry carries its request key), so one that landed before its answer was lost
 * is not made twice. A write the store refuses for another reason (the lease was taken: the new
 * owner records its own) is dropped, and said.
 */
export class PendingRecords {
  readonly #o: PendingRecordsOptions;
  readonly #queue: Held[] = [];
  #draining: Promise<void> | undefined;
  #closed = false;

  constructor(o: PendingRecordsOptions = {}) {
    this.#o = o;
  }

  /** True when `e` says the store could not be reached, so the write may be held. */
  static holds(e: unknown): boolean {
    return e instanceof StoreUnavailableError;
  }

  /** Holds a write to make once the store answers again. */
  hold(what: string, write: () => Promise<unknown>): void {
    this.#queue.push({ what, write });
    this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
  }

  /** Writes held now. */
  get size(): number {
    return this.#queue.length;
  }

  /** Resolves when nothing is held (or the holder closed). */
  async settled(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  /** Stops trying; what is still held is lost with the process (the next start marks its syncs interrupted). */
  close(): void {
    this.#closed = true;
  }

  async #drain(): Promise<void> {
    let attempt = 0;
    while (this.#queue.length > 0 && !this.#closed) {
      const next = this.#queue[0] as Held;
      try {
        await next.write();
        this.#queue.shift();
        attempt = 0;
        this.#o.onSettled?.(next.what, "written");
      } catch (e: unknown) {
        if (!PendingRecords.holds(e)) {
          this.#queue.shift();
          this.#o.onSettled?.(next.what, "dropped", e);
          continue;
        }
        attempt++;
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, this.#o.backoff ?? { baseMs: 1000, maxMs: 30_000 })));
      }
    }
  }
}
