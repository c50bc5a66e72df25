import type { SyncTrigger } from "./trigger.ts";

/**
 * The coordination port of a store shared by several agents (PostgreSQL): agents and their
 * heartbeats, one lease per (environment, stack), work routed to a stack's owner, and
 * notifications between agents. Every time here comes from the database's clock, never an
 * agent's: agents' clocks may disagree, the database's is one.
 */
export interface CoordinationStore {
  /**
   * One renewal round's write, in one statement: records the agent's heartbeat (creating its
   * row on the first call) and extends every lease it holds to now + `leaseMs`. Returns the
   * leases it still holds; a lease missing from the answer was lost (expired and taken).
   */
  heartbeat(agent: AgentInfo, leaseMs: number): Promise<HeldLease[]>;
  /**
   * The ids of the agents whose heartbeat is within their lease time, sorted, and in how many ms
   * the first of them other than `self` stops being live if it does not renew (its leases expire
   * then too, being renewed with the heartbeat): when a takeover could happen next.
   */
  liveAgents(self: string): Promise<LiveAgents>;
  /**
   * Takes the leases of these stacks that are free or expired, for `agentId`, bumping their
   * epoch; a lease held (unexpired) by another agent is left alone. The syncs the previous
   * owners left running on the stacks taken are marked interrupted (their writers are fenced out).
   */
  acquire(agentId: string, leaseMs: number, stacks: readonly StackKey[]): Promise<HeldLease[]>;
  /**
   * Gives up these leases of `agentId`, so their new owner takes them at once. The rows stay,
   * expired: an epoch never starts again from 1, so a fence of an earlier ownership never
   * matches a later one.
   */
  release(agentId: string, stacks: readonly StackKey[]): Promise<void>;
  /** The agent stops: all its leases are given up (expired) and its agent row is removed. */
  leave(agentId: string): Promise<void>;
  /** Queues a manual sync of a stack for whoever owns it, and notifies the agents. */
  enqueueWork(work: RoutedWork): Promise<void>;
  /** Takes (removes and returns) the queued work of the stacks `agentId` holds unexpired leases of. */
  takeWork(agentId: string): Promise<RoutedWork[]>;
  /** Notifies every listening agent that the repository moved (a webhook reached one of them). */
  announcePush(detail: string): Promise<void>;
  /**
   * Listens for notifications on a dedicated connection, reconnecting after a drop (and calling
   * `onNotice("reconnected")` then, since notifications sent meanwhile were lost). Ends with the signal.
   */
  listen(onNotice: (kind: Notice) => void, signal: AbortSignal): Promise<void>;
  /** Every agent and lease, for status: who owns what, and who is alive. */
  snapshot(): Promise<CoordinationSnapshot>;
}

/** See {@link CoordinationStore.liveAgents}. */
export interface LiveAgents {
  readonly ids: readonly string[];
  /** Undefined when no other agent is live. */
  readonly nextExpiryMs: number | undefined;
}

/** A stack, as leases name it. */
export interface StackKey {
  readonly environment: string;
  readonly stack: string;
}

/** What an agent says about itself in its heartbeat. */
export interface AgentInfo {
  readonly id: string;
  readonly hostname: string;
  readonly pid: number;
  /** The agent's API address, when it has one people reach. */
  readonly url?: string;
}

/** A lease as its owner holds it. */
export interface HeldLease extends StackKey {
  readonly epoch: number;
}

/** A manual sync routed through the store to the stack's owner. */
export interface RoutedWork extends StackKey {
  readonly trigger: SyncTrigger;
  /** The agent that received the request. */
  readonly from: string;
}

/** What a notification announces: the repository moved, work was queued, or the listener reconnected (notices may have been lost). */
export type Notice = "repo" | "work" | "reconnected";

/** An agent as the store knows it. */
export interface AgentRecord extends AgentInfo {
  /** ISO 8601. */
  readonly startedAt: string;
  /** ISO 8601, the database's clock. */
  readonly heartbeatAt: string;
  readonly leaseSeconds: number;
  /** Heartbeat within its lease time, by the database's clock. */
  readonly live: boolean;
}

/** A lease as the store knows it. */
export interface LeaseRecord extends HeldLease {
  readonly owner: string;
  /** ISO 8601, the database's clock. */
  readonly expiresAt: string;
  /** Not expired, by the database's clock. */
  readonly valid: boolean;
}

/** See {@link CoordinationStore.snapshot}. */
export interface CoordinationSnapshot {
  readonly agents: readonly AgentRecord[];
  readonly leases: readonly LeaseRecord[];
}
