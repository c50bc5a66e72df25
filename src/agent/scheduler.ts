import type { Logger } from "pino";
import { backoffDelay, type BackoffPolicy } from "../core/backoff.ts";
import type { Clock } from "../core/clock.ts";
import { WorkQueue, type Task } from "./queue.ts";

/** How a background loop is doing, for /readyz. */
export interface LoopHealth {
  readonly lastOk?: string;
  readonly lastError?: string;
  readonly failures: number;
}

/** What a {@link Scheduler} runs on. */
export interface SchedulerOptions {
  readonly concurrency: number;
  /** Retries of failed work and failing loops back off by this policy. */
  readonly backoff: BackoffPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Jitter source; default Math.random. */
  readonly random?: () => number;
}

/**
 * The agent's time and work: one queue keyed by (environment, stack), retries with one
 * backoff policy counted per key, and supervised background loops (poll, drift) whose
 * failures are caught, logged, backed off and shown in /readyz. Nothing runs after
 * {@link Scheduler.close}.
 */
export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #queue: WorkQueue;
  readonly #failures = new Map<string, number>();
  readonly #loops = new Map<string, LoopHealth & { cancel?: () => void }>();
  /** Loop runs in progress, so that {@link Scheduler.idle} waits for the work they queue. */
  readonly #ticks = new Set<Promise<void>>();
  #closed = false;

  constructor(opts: SchedulerOptions) {
    this.#o = opts;
    this.#queue = new WorkQueue({
      concurrency: opts.concurrency, clock: opts.clock, ...(opts.random === undefined ? {} : { random: opts.random }),
      onError: (key, e) => opts.logger.error({ key, err: errorText(e) }, "work item failed"),
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Tasks waiting, not running. */
  get depth(): number {
    return this.#queue.depth;
  }

  /** Keys running now. */
  get inFlight(): number {
    return this.#queue.inFlight;
  }

  /** Schedules work for a key (see {@link WorkQueue.enqueue}: the newest wish for a waiting key wins). */
  enqueue(key: string, task: Task, delayMs = 0): void {
    this.#queue.enqueue(key, task, delayMs);
  }

  /** Drops the key's waiting work (a running task goes on: the fence stops its writes). */
  cancel(key: string): void {
    this.#queue.cancel(key);
  }

  /** True when the key's work is waiting or running. */
  has(key: string): boolean {
    return this.#queue.has(key);
  }

  /** Counts a failure of the key's work and returns how long to wait before retrying it. */
  failed(key: string): number {
    const n = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, n);
    return backoffDelay(n, this.#o.backoff);
  }

  /** The key's work succeeded: its next failure backs off from the start. */
  succeeded(key: string): void {
    this.#failures.delete(key);
  }

  /** Resolves when no loop is running and the queue has nothing running or waiting (delayed retries included unless told). */
  async idle(includeDelayed = true): Promise<void> {
    do {
      await Promise.all(this.#ticks);
      await this.#queue.idle(includeDelayed);
    } while (this.#ticks.size > 0);
  }

  /**
   * Runs `fn` now (awaited) or after `intervalMs`, then every `intervalMs`. A failure is logged
   * and retried sooner, by the backoff policy, but never later than the interval.
   */
  async every(name: string, intervalMs: number, fn: () => Promise<void>, opts: { readonly now: boolean }): Promise<void> {
    this.#loops.set(name, this.#loops.get(name) ?? { failures: 0 });
    const tick = async (): Promise<void> => {
      if (this.#closed) return;
      const delay = await this.#runLoop(name, intervalMs, fn);
      if (!this.#closed) this.#loops.set(name, { ...this.#health(name), cancel: this.#o.clock.timer(later, delay) });
    };
    // Each run is tracked until it ends; #runLoop never rejects.
    const later = (): void => {
      const run = tick().finally(() => this.#ticks.delete(run));
      this.#ticks.add(run);
    };
    if (opts.now) await tick();
    else this.#loops.set(name, { ...this.#health(name), cancel: this.#o.clock.timer(later, intervalMs) });
  }

  async #runLoop(name: string, intervalMs: number, fn: () => Promise<void>): Promise<number> {
    try {
      await fn();
      const { lastError } = this.#health(name);
      this.#loops.set(name, { failures: 0, lastOk: this.#o.clock.date().toISOString(), ...(lastError === undefined ? {} : { lastError }) });
      return intervalMs;
    } catch (e: unknown) {
      const current = this.#health(name);
      const failures = current.failures + 1;
      const delay = Math.min(intervalMs, backoffDelay(failures, this.#o.backoff));
      this.#loops.set(name, { ...current, failures, lastError: errorText(e) });
      this.#o.logger.warn({ loop: name, err: errorText(e), retryInMs: delay }, "background loop failed");
      return delay;
    }
  }

  #health(name: string): LoopHealth {
    const l = this.#loops.get(name);
    return { failures: l?.failures ?? 0, ...(l?.lastOk === undefined ? {} : { lastOk: l.lastOk }), ...(l?.lastError === undefined ? {} : { lastError: l.lastError }) };
  }

  /** Each loop's health. */
  loops(): Readonly<Record<string, LoopHealth>> {
    return Object.fromEntries([...this.#loops.keys()].map((n) => [n, this.#health(n)]));
  }

  /** Stops the loops and the queue: running work gets `graceMs`, then is cancelled; returns the keys cancelled. */
  async close(graceMs: number): Promise<string[]> {
    this.#closed = true;
    for (const loop of this.#loops.values()) loop.cancel?.();
    return this.#queue.close(graceMs);
  }
}

/** The message of an error, or the thing thrown as text. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
