/**
 * Serializes operations per key (a working directory): each one waits for the ones that asked
 * before it. Terraform's own state lock keeps other processes out; this keeps two operations
 * of this process from sharing one working directory (its copy of the module, its plan files).
 */
export class OperationLocks {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier operation on `key` has finished. */
  async run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let leave!: () => void;
    const mine = new Promise<void>((resolve) => {
      leave = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    try {
      await previous;
      signal?.throwIfAborted();
      return await fn();
    } finally {
      leave();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/**
 * The locks every workspace of this process shares unless given others: a working directory
 * is one per (environment, stack), whichever code made the workspace for it.
 */
export const processLocks = new OperationLocks();
