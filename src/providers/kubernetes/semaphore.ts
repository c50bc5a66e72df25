/** Bounds how many operations run at once; waiters are served first come, first served. */
export class Semaphore {
  private readonly limit: number;
  private active = 0;
  private readonly waiters: { grant: () => void; signal: AbortSignal | undefined; onAbort: () => void }[] = [];

  constructor(limit: number) {
    this.limit = Math.max(1, Math.floor(limit));
  }

  /** Operations running now. */
  get running(): number {
    return this.active;
  }

  /** Waits for a slot and returns the function that gives it back (call it exactly once). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => resolve(this.releaser()),
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          // The caller's reason, as every other abort in gitward rejects with.
          reject(signal?.reason as Error);
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next === undefined) {
        this.active--;
        return;
      }
      // The slot passes straight to the next waiter, so `active` stays the same.
      next.signal?.removeEventListener("abort", next.onAbort);
      next.grant();
    };
  }
}
