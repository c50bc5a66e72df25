import { ErrorCode, GitwardError } from "../core/errors.ts";

/**
 * The lease a fenced write is made under: the stack it is for, the agent that holds the lease,
 * and the lease's epoch, which grows by one at each takeover. A store that coordinates several
 * agents (PostgreSQL) refuses the write unless this very lease is still held and unexpired.
 */
export interface LeaseFence {
  readonly environment: string;
  readonly stack: string;
  /** The agent id holding the lease. */
  readonly owner: string;
  readonly epoch: number;
}

/**
 * A {@link LeaseFence} that also knows, locally, whether the lease is still held: `check()`
 * throws {@link FencedError} once it is not (lost, released, or past its local deadline after a
 * pause of the process). The engine calls it before every write to a target.
 */
export interface Fence extends LeaseFence {
  check(): void;
}

/** What a {@link FencedError} was raised by: the agent's own deadline, or the store's check. */
export type FencedBy = "agent" | "store";

/**
 * A write refused because the lease it was made under is no longer held: another agent owns
 * the stack now, and it alone writes the stack's target and history. The store error kind
 * `fenced`; never retried.
 */
export class FencedError extends GitwardError {
  readonly kind = "fenced" as const;
  readonly by: FencedBy;
  readonly fence: LeaseFence;

  constructor(fence: LeaseFence, by: FencedBy, why: string) {
    super(ErrorCode.Internal, `${fence.environment}/${fence.stack}: write refused: the lease of agent ${fence.owner} (epoch ${fence.epoch}) ${why}`, {
      hint: "another agent took the stack over; it records its own sync",
    });
    this.name = "FencedError";
    this.by = by;
    this.fence = fence;
  }
}

/** True for a {@link FencedError}, also across module copies (checked by kind, not by class). */
export function isFenced(e: unknown): e is FencedError {
  return e instanceof Error && (e as { kind?: unknown }).kind === "fenced";
}
