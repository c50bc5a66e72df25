import { setTimeout as delay } from "node:timers/promises";
import { acquireLock, LockHeldError, type Lock } from "./fs/lock.ts";

/** Options of {@link RootLocks}. */
export interface RootLocksOptions {
  /** How long to wait for a root's file lock while another process holds it; default 30 000 ms. */
  readonly waitMs?: number;
  /** The pause between two tries of that lock; default 100 ms. */
  readonly retryMs?: number;
}

/** What {@link RootLocks.hold} waits for besides the other syncs of the same object. */
export interface HoldOptions {
  /** Take the root's file lock too (every sync but a dry run). */
  readonly fileLock: boolean;
  readonly signal?: AbortSignal;
}

/** A root held by one sync. */
export interface RootHold {
  /** Releases the file lock, then lets the next sync of the root in; a second call does nothing. */
  release(): Promise<void>;
}

/**
 * Serializes the syncs of each target root. Among the sessions that share one instance (a host
 * provider creates one for every session it opens), syncs of a root run one at a time, in the
 * order they asked, so stacks sharing a target queue instead of failing on each other's lock.
 * Then the root's file lock keeps other processes out; one that holds it (an apply beside the
 * agent) is waited for, up to `waitMs`. Two instances do not queue with each other: the second
 * one's sync meets the first one's file lock and waits for it like any other holder.
 */
export class RootLocks {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #waitMs: number;
  readonly #retryMs: number;

  constructor(opts: RootLocksOptions = {}) {
    this.#waitMs = opts.waitMs ?? 30_000;
    this.#retryMs = opts.retryMs ?? 100;
  }

  /** Waits for this object's earlier syncs of `root`, then for its file lock if asked. */
  async hold(root: string, opts: HoldOptions): Promise<RootHold> {
    const leave = await this.#enqueue(root);
    let lock: Lock | undefined;
    try {
      if (opts.fileLock) lock = await this.#lockWithWait(root, opts.signal);
    } catch (e: unknown) {
      leave();
      throw e;
    }
    let released = false;
    return {
      async release(): Promise<void> {
        if (released) return;
        released = true;
        try {
          await lock?.release();
        } finally {
          leave();
        }
      },
    };
  }

  /** Waits for the previous holder of `root`; resolves with the function that lets the next one in. */
  async #enqueue(root: string): Promise<() => void> {
    const previous = this.#tails.get(root) ?? Promise.resolve();
    let leave!: () => void;
    const mine = new Promise<void>((resolve) => {
      leave = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(root, tail);
    await previous;
    return () => {
      leave();
      if (this.#tails.get(root) === tail) this.#tails.delete(root);
    };
  }

  /** The root's file lock, trying again while another process holds it, until `waitMs` has passed or the signal aborts. */
  async #lockWithWait(root: string, signal?: AbortSignal): Promise<Lock> {
    const deadline = Date.now() + this.#waitMs;
    for (;;) {
      try {
        return await acquireLock(root);
      } catch (e: unknown) {
        if (!(e instanceof LockHeldError) || Date.now() > deadline || signal?.aborted === true) throw e;
        await delay(this.#retryMs);
      }
    }
  }
}
