import { createHash } from "node:crypto";

/** How long and how many deliveries a {@link DeliveryLog} remembers. */
export interface DeliveryLogOptions {
  /** Milliseconds a delivery is remembered; default 24 h. */
  readonly windowMs?: number;
  /** Deliveries remembered at most; the oldest are forgotten first. Default 10 000. */
  readonly max?: number;
  /** Milliseconds since the epoch; default Date.now. */
  readonly now?: () => number;
}

/**
 * The webhook deliveries seen lately, so that a replayed one triggers nothing. A delivery is
 * known by its forge's delivery id and by the digest of its body: the id header is not covered
 * by the signature (a replay may carry a new one), the signed body is. Memory is bounded: entries
 * expire after the window, and past `max` the oldest go first.
 */
export class DeliveryLog {
  readonly #windowMs: number;
  readonly #max: number;
  readonly #now: () => number;
  /** Key → when it expires; insertion order is expiry order, the window being fixed. */
  readonly #seen = new Map<string, number>();

  constructor(opts: DeliveryLogOptions = {}) {
    this.#windowMs = opts.windowMs ?? 24 * 3600 * 1000;
    this.#max = opts.max ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Remembers a delivery and returns true the first time; false when its id or its body was seen
   * within the window (a replay, or a forge's redelivery of one already acted on).
   */
  firstTime(source: string, id: string | undefined, body: Buffer): boolean {
    const now = this.#now();
    this.#expire(now);
    const keys = [`${source}\u0000body\u0000${createHash("sha256").update(body).digest("hex")}`];
    if (id !== undefined) keys.push(`${source}\u0000id\u0000${id}`);
    if (keys.some((k) => this.#seen.has(k))) return false;
    for (const k of keys) this.#seen.set(k, now + this.#windowMs);
    for (const k of this.#seen.keys()) {
      if (this.#seen.size <= this.#max) break;
      this.#seen.delete(k);
    }
    return true;
  }

  /** Entries remembered now. */
  get size(): number {
    return this.#seen.size;
  }

  #expire(now: number): void {
    for (const [k, expires] of this.#seen) {
      if (expires > now) break;
      this.#seen.delete(k);
    }
  }
}
