import { systemClock, type Clock } from "../core/clock.ts";

/** A unit of work: what to do for one key, given a signal that ends it on shutdown. */
export type Task = (signal: AbortSignal) => Promise<void>;

interface Pending {
  readonly key: string;
  task: Task;
  due: number;
}

/**
 * One work queue keyed by (environment, stack): at most one task per key runs at a time, at most
 * `concurrency` in all. Enqueuing a key that is waiting replaces its task (the newest wish wins)
 * and keeps the earlier due time; enqueuing a key that is running queues one rerun after it.
 * Delays get ±20% jitter, so retries of many keys do not arrive together.
 */
export class WorkQueue {
  readonly #concurrency: number;
  readonly #pending = new Map<string, Pending>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #controller = new AbortController();
  readonly #onError: (key: string, error: unknown) => void;
  readonly #clock: Clock;
  readonly #random: () => number;
  #cancelTimer: (() => void) | undefined;
  #closed = false;
  #idleWaiters: { includeDelayed: boolean; resolve: () => void }[] = [];

  constructor(opts: { concurrency: number; onError: (key: string, error: unknown) => void; clock?: Clock; random?: () => number }) {
    this.#concurrency = opts.concurrency;
    this.#onError = opts.onError;
    this.#clock = opts.clock ?? systemClock();
    this.#random = opts.random ?? Math.random;
  }

  /** Tasks waiting, not running. */
  get depth(): number {
    return this.#pending.size;
  }

  /** Keys running now. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** Schedules `task` for `key` after `delayMs` (jittered); ignored once the queue is closed. */
  enqueue(key: string, task: Task, delayMs = 0): void {
    if (this.#closed) return;
    const due = this.#clock.now() + jitter(delayMs, this.#random);
    const existing = this.#pending.get(key);
    if (existing !== undefined) {
      existing.task = task;
      existing.due = Math.min(existing.due, due);
    } else {
      this.#pending.set(key, { key, task, due });
    }
    this.#pump();
  }

  /** Drops the key's waiting task, if any; a running one is not stopped. */
  cancel(key: string): void {
    if (this.#pending.delete(key)) this.#pump();
  }

  /** True when the key is waiting or running. */
  has(key: string): boolean {
    return this.#pending.has(key) || this.#running.has(key);
  }

  /**
   * Resolves when nothing runs and nothing waits: with `includeDelayed` false, tasks due later
   * (retries, dependency waits) do not count (tests, benchmarks, `quickstart --once`).
   */
  idle(includeDelayed = true): Promise<void> {
    if (this.#isIdle(includeDelayed)) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push({ includeDelayed, resolve }));
  }

  /**
   * Stops taking work: waiting tasks are dropped, running ones get `graceMs` to finish, then
   * their signal is aborted and they get a moment to record how they ended.
   * Returns the keys that were still running when the grace period ended.
   */
  async close(graceMs: number): Promise<string[]> {
    this.#closed = true;
    this.#pending.clear();
    this.#cancelTimer?.();
    this.#notifyIdle();
    const all = Promise.allSettled([...this.#running.values()]);
    const timedOut = await Promise.race([all.then(() => false), this.#after(graceMs).then(() => true)]);
    if (!timedOut) return [];
    const late = [...this.#running.keys()];
    this.#controller.abort(new Error("the agent is shutting down"));
    await Promise.race([all, this.#after(5000)]);
    return late;
  }

  #after(ms: number): Promise<void> {
    return new Promise((resolve) => this.#clock.timer(resolve, ms));
  }

  #isIdle(includeDelayed: boolean): boolean {
    if (this.#running.size > 0) return false;
    if (includeDelayed) return this.#pending.size === 0;
    const now = this.#clock.now();
    return ![...this.#pending.values()].some((p) => p.due <= now);
  }

  #notifyIdle(): void {
    const still: { includeDelayed: boolean; resolve: () => void }[] = [];
    for (const w of this.#idleWaiters) {
      if (this.#isIdle(w.includeDelayed)) w.resolve();
      else still.push(w);
    }
    this.#idleWaiters = still;
  }

  #pump(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    const now = this.#clock.now();
    const due = [...this.#pending.values()].filter((p) => p.due <= now && !this.#running.has(p.key)).sort((a, b) => a.due - b.due);
    for (const p of due) {
      if (this.#running.size >= this.#concurrency) break;
      this.#pending.delete(p.key);
      const run = (async (): Promise<void> => {
        try {
          await p.task(this.#controller.signal);
        } catch (e: unknown) {
          this.#onError(p.key, e);
        }
      })().finally(() => {
        this.#running.delete(p.key);
        this.#pump();
      });
      this.#running.set(p.key, run);
    }
    const next = [...this.#pending.values()].filter((p) => !this.#running.has(p.key)).reduce((m, p) => Math.min(m, p.due), Infinity);
    if (next !== Infinity && !this.#closed && this.#running.size < this.#concurrency) {
      this.#cancelTimer = this.#clock.timer(() => this.#pump(), Math.max(0, next - now));
    }
    this.#notifyIdle();
  }
}

function jitter(ms: number, random: () => number): number {
  return ms <= 0 ? 0 : ms * (0.8 + random() * 0.4);
}
