import { createHash } from "node:crypto";
import type { HeldLease, StackKey } from "../store/coordination.ts";
import { FencedError, type Fence } from "../store/fence.ts";

/**
 * The owner rendezvous hashing picks for a stack among the live agents: the agent with the
 * highest hash of `agentId + environment/stack` (ties, which need equal hashes, by id). Every
 * agent computes the same answer from the same list, and when an agent joins or leaves only the
 * stacks it wins or held move. Undefined when no agent is live.
 */
export function rendezvousOwner(stack: StackKey, agents: readonly string[]): string | undefined {
  let best: { id: string; score: string } | undefined;
  for (const id of agents) {
    const score = createHash("sha256").update(`${id}\n${stack.environment}/${stack.stack}`).digest("hex");
    if (best === undefined || score > best.score || (score === best.score && id > best.id)) best = { id, score };
  }
  return best?.id;
}

/** The key of a stack in maps and logs: `environment/stack`. */
export function stackKey(s: StackKey): string {
  return `${s.environment}/${s.stack}`;
}

interface Held extends HeldLease {
  /** Monotonic ms (the book's clock) after which the lease is no longer trusted here. */
  readonly deadline: number;
}

/** What a {@link LeaseBook} runs on. */
export interface LeaseBookOptions {
  /** This agent's id: the owner its fences name. */
  readonly owner: string;
  readonly leaseMs: number;
  /** Taken off every deadline, for the drift between this machine's and the database's clocks; default a tenth of the lease. */
  readonly marginMs?: number;
  /** A monotonic clock in ms; default `performance.now`. */
  readonly now?: () => number;
}

/**
 * The leases this agent holds, as it may trust them: each until `t0 + lease − margin`, where
 * `t0` is the MONOTONIC time taken before the query that took or renewed it was sent. The
 * database's expiry is later than that, so while the local deadline holds no other agent can
 * have taken the lease. A process paused past its deadline (SIGSTOP, a long GC, a partition)
 * wakes with the deadline passed, and its fences refuse.
 */
export class LeaseBook {
  readonly #o: LeaseBookOptions;
  readonly #now: () => number;
  readonly #margin: number;
  readonly #held = new Map<string, Held>();

  constructor(o: LeaseBookOptions) {
    this.#o = o;
    this.#now = o.now ?? ((): number => performance.now());
    this.#margin = o.marginMs ?? o.leaseMs / 10;
  }

  /** The monotonic time to take before sending a renewal or acquire query. */
  now(): number {
    return this.#now();
  }

  /** A renewal round answered at `t0` with the leases still held; returns those lost (held here, not renewed). */
  renewed(t0: number, leases: readonly HeldLease[]): StackKey[] {
    const kept = new Map(leases.map((l) => [stackKey(l), l]));
    const lost: StackKey[] = [];
    for (const [key, h] of this.#held) {
      const l = kept.get(key);
      if (l === undefined || l.epoch !== h.epoch) {
        this.#held.delete(key);
        lost.push({ environment: h.environment, stack: h.stack });
      } else {
        this.#held.set(key, { ...h, deadline: t0 + this.#o.leaseMs - this.#margin });
      }
    }
    return lost;
  }

  /** Leases taken by a query sent at `t0`. */
  acquired(t0: number, leases: readonly HeldLease[]): void {
    for (const l of leases) this.#held.set(stackKey(l), { ...l, deadline: t0 + this.#o.leaseMs - this.#margin });
  }

  /** Forgets a lease (released, or found lost). */
  drop(s: StackKey): void {
    this.#held.delete(stackKey(s));
  }

  /** True while the lease is held and its local deadline has not passed. */
  holds(s: StackKey): boolean {
    const h = this.#held.get(stackKey(s));
    return h !== undefined && this.#now() < h.deadline;
  }

  /** The stacks held (deadline passed or not). */
  stacks(): StackKey[] {
    return [...this.#held.values()].map((h) => ({ environment: h.environment, stack: h.stack }));
  }

  /** A fence for the lease held now, or undefined when it is not. It refuses once this very lease (same epoch) is gone or past its deadline. */
  fence(s: StackKey): Fence | undefined {
    const h = this.#held.get(stackKey(s));
    if (h === undefined || this.#now() >= h.deadline) return undefined;
    const lease = { environment: h.environment, stack: h.stack, owner: this.#o.owner, epoch: h.epoch };
    return {
      ...lease,
      check: (): void => {
        const now = this.#held.get(stackKey(s));
        if (now === undefined || now.epoch !== lease.epoch) throw new FencedError(lease, "agent", "was lost");
        if (this.#now() >= now.deadline) throw new FencedError(lease, "agent", "ran out before it was renewed (the process was paused or the database unreachable)");
      },
    };
  }
}
