import type { Clock } from "../../src/core/clock.ts";

/**
 * A clock for tests. Sleeps return at once and move time forward, recording each wait (what
 * retry and rate-limit tests need). Timers fire only when the test moves time with
 * {@link FakeClock.advance} (what queue and agent tests need).
 */
export class FakeClock implements Clock {
  time = 0;
  /** Wall time at `time` 0. */
  epoch = Date.parse("2026-12-01T00:00:00.000Z");
  readonly sleeps: number[] = [];
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #nextId = 0;

  now(): number {
    return this.time;
  }

  date(): Date {
    return new Date(this.epoch + this.time);
  }

  /** Returns at once, moving time forward by `ms` and firing the timers that came due. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    const end = this.time + Math.max(0, ms);
    for (let t = this.#due(end); t !== undefined; t = this.#due(end)) {
      this.time = Math.max(this.time, t.at);
      t.fn();
    }
    this.time = end;
    return Promise.resolve();
  }

  #due(end: number): { at: number; fn: () => void; id: number } | undefined {
    const next = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
    if (next !== undefined) this.#timers = this.#timers.filter((t) => t !== next);
    return next;
  }

  timer(fn: () => void, ms: number): () => void {
    const id = this.#nextId++;
    this.#timers.push({ at: this.time + Math.max(0, ms), fn, id });
    return () => {
      this.#timers = this.#timers.filter((t) => t.id !== id);
    };
  }

  /** Timers not fired yet. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order, letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const next = this.#due(end);
      if (next === undefined) break;
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = end;
    await settle();
  }
}

/** Lets pending promise callbacks and immediates run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
