import type { ObjRef } from "../core/objref.ts";
import type { Action, ChangeSetEntry, CommandOutput, Drift } from "../providers/provider.ts";
import type { CoordinationStore } from "./coordination.ts";
import type { LeaseFence } from "./fence.ts";
import type { NewToken, TokenInfo } from "./tokens.ts";

/**
 * The Store: history of syncs, drift events and a tamper-evident audit log, behind one
 * interface with two implementations: embedded SQLite (`sqlite.ts`) and PostgreSQL
 * (`postgres.ts`), for several agents or a managed database. Every method is async.
 *
 * The store is given data the engine has already masked; as defence in depth every
 * implementation passes free text (errors, command lines and output, messages, audit details)
 * through {@link redact} before writing it (see `prepare.ts`).
 */

export { TriggerKind, type SyncTrigger } from "./trigger.ts";
import type { SyncTrigger, TriggerKind } from "./trigger.ts";

/** The Git revision a sync deployed. */
export interface RevisionInfo {
  /** The full commit SHA. */
  readonly sha: string;
  readonly author: string;
  readonly authorEmail?: string;
  readonly committer?: string;
  /** The commit message. Redacted. */
  readonly message: string;
  /** Commit time, ISO 8601. */
  readonly committedAt?: string;
}

/** How a sync ended; `running` until it does. */
export const SyncOutcome = {
  Running: "running",
  Succeeded: "succeeded",
  Failed: "failed",
  /** Nothing to do, or not allowed to run (a gate, a paused environment). */
  Skipped: "skipped",
  /** Its signal aborted it. */
  Cancelled: "cancelled",
  /** The process running it died; found `running` when an agent started. */
  Interrupted: "interrupted",
} as const;
/** One of {@link SyncOutcome}. */
export type SyncOutcome = (typeof SyncOutcome)[keyof typeof SyncOutcome];

/** The outcomes a caller may finish a sync with; `interrupted` is only set by {@link Store.interruptRunning}. */
export type FinishedOutcome = Exclude<SyncOutcome, "running" | "interrupted">;

/** Where a synced stack's objects stand after the sync, as followed in the background. */
export const HealthState = {
  Progressing: "progressing",
  Healthy: "healthy",
  Degraded: "degraded",
  /** Not healthy when the health timeout ran out. */
  TimedOut: "timed-out",
} as const;
/** One of {@link HealthState}. */
export type HealthState = (typeof HealthState)[keyof typeof HealthState];

/** The health of a sync's objects, with when it was seen. */
export interface SyncHealth {
  readonly state: HealthState;
  /** ISO 8601. */
  readonly at: string;
  /** The first unhealthy objects and why. Redacted. */
  readonly message?: string;
}

/** Counts of objects by action: the plan summary of a sync. */
export type ActionSummary = Readonly<Partial<Record<Action, number>>>;

/** One sync of (environment, stack, revision) as history remembers it. */
export interface SyncRow {
  /** Opaque, unique within a store; SQLite uses its row id. */
  readonly id: string;
  readonly environment: string;
  readonly stack: string;
  readonly revision: RevisionInfo;
  readonly trigger: SyncTrigger;
  /** ISO 8601, UTC, millisecond precision. */
  readonly startedAt: string;
  /** ISO 8601; absent while running. */
  readonly finishedAt?: string;
  /** Wall time the engine measured; absent while running. */
  readonly durationMs?: number;
  readonly outcome: SyncOutcome;
  /** Why it failed as a whole. Redacted. */
  readonly error?: string;
  readonly summary: ActionSummary;
  /** Per-object results; messages redacted. */
  readonly objects: readonly ChangeSetEntry[];
  /** Commands a provider ran (host targets); command lines and output redacted. */
  readonly commands?: readonly CommandOutput[];
  /** Health of the applied objects when it is followed after the sync (the agent). */
  readonly health?: SyncHealth;
}

/** What {@link Store.beginSync} needs: a sync about to run. */
export interface NewSync {
  readonly environment: string;
  readonly stack: string;
  readonly revision: RevisionInfo;
  readonly trigger: SyncTrigger;
  /** ISO 8601; default now. */
  readonly startedAt?: string;
  /** The plan's counts when known before applying; {@link Store.finishSync} replaces them. */
  readonly summary?: ActionSummary;
  /** The planned objects when known before applying; {@link Store.finishSync} replaces them. */
  readonly objects?: readonly ChangeSetEntry[];
}

/** What {@link Store.finishSync} records: how a running sync ended. */
export interface SyncResult {
  readonly outcome: FinishedOutcome;
  readonly error?: string;
  readonly summary: ActionSummary;
  readonly objects: readonly ChangeSetEntry[];
  readonly commands?: readonly CommandOutput[];
  /** ISO 8601; default now. */
  readonly finishedAt?: string;
  /** Measured by the engine on a monotonic clock, not derived from the timestamps. */
  readonly durationMs: number;
}

/** Filters of {@link Store.listSyncs}; the result is newest first. */
export interface SyncQuery {
  readonly environment?: string;
  /** Only these environments (the ones a caller may read); an empty list matches nothing. */
  readonly environments?: readonly string[];
  readonly stack?: string;
  readonly outcome?: SyncOutcome;
  /** Only syncs started by this kind of trigger. */
  readonly trigger?: TriggerKind;
  /** Only syncs started at or after this time (ISO 8601). */
  readonly since?: string;
  /** Only syncs started before this time (ISO 8601). */
  readonly until?: string;
  /** Default {@link defaultListLimit}; at most {@link maxListLimit}. */
  readonly limit?: number;
  /** A cursor: only syncs older than this one (the last id of the previous page). */
  readonly beforeId?: string;
}

/** Changes made to one object outside gitward, as a drift check found them. */
export interface DriftRow {
  /** Opaque, unique within a store. */
  readonly id: string;
  readonly environment: string;
  readonly stack: string;
  /** ISO 8601. */
  readonly detectedAt: string;
  readonly ref: ObjRef;
  readonly apiVersion: string;
  /** The fields that changed and, from the provider's attribution, who changed them and when. */
  readonly fields: readonly Drift[];
  /** True when a sync put the object back (self-heal). */
  readonly corrected: boolean;
  /** The sync that corrected it. */
  readonly syncId?: string;
}

/** What {@link Store.recordDrift} needs for one object. */
export interface NewDrift {
  readonly environment: string;
  readonly stack: string;
  /** ISO 8601; default now. */
  readonly detectedAt?: string;
  readonly ref: ObjRef;
  readonly apiVersion: string;
  readonly fields: readonly Drift[];
  readonly corrected: boolean;
  /** Must name an existing sync. */
  readonly syncId?: string;
}

/** Filters of {@link Store.listDrift}; the result is newest first. */
export interface DriftQuery {
  readonly environment?: string;
  /** Only these environments (the ones a caller may read); an empty list matches nothing. */
  readonly environments?: readonly string[];
  readonly stack?: string;
  /** Default {@link defaultListLimit}; at most {@link maxListLimit}. */
  readonly limit?: number;
  /** A cursor: only events older than this one. */
  readonly beforeId?: string;
}

/** Audit event kinds gitward itself writes; the column is open, so others need no schema change. */
export const AuditKind = {
  Sync: "sync",
  ManualTrigger: "manual-trigger",
  Rollback: "rollback",
  GateOverride: "gate-override",
  /** The approval gate decided on a revision for an environment (held or allowed), with why and who approved. */
  ApprovalGate: "approval-gate",
  /** An operator synced past the approval gate (`gitward sync --override-approval REASON`). */
  ApprovalOverride: "approval-override",
  /** An API token was created (`gitward token create`, the API); details name it, never hold it. */
  TokenCreated: "token-created",
  /** An API token was revoked. */
  TokenRevoked: "token-revoked",
  AgentStart: "agent-start",
  AgentStop: "agent-stop",
} as const;
/** One of {@link AuditKind}. */
export type AuditKind = (typeof AuditKind)[keyof typeof AuditKind];

/**
 * One record of the append-only audit log. `hash` is SHA-256 over the canonical JSON of every
 * other field (see `audit-hash.ts`), and `prevHash` is the previous record's hash, so that an
 * edited, removed or reordered record breaks the chain.
 */
export interface AuditEvent {
  /** 1, 2, 3, … without gaps. */
  readonly seq: number;
  /** ISO 8601. */
  readonly at: string;
  /** One of {@link AuditKind}, or a kind a later version writes. */
  readonly kind: string;
  /** Who did it: a user, or `agent` for what the agent does on its own. */
  readonly actor: string;
  readonly environment?: string;
  readonly stack?: string;
  /** A commit SHA. */
  readonly revision?: string;
  /** JSON data; string values redacted, values under credential-like keys masked. */
  readonly details: Readonly<Record<string, unknown>>;
  /** The previous record's hash; 64 zeros for the first. */
  readonly prevHash: string;
  /** Lower-case hex SHA-256. */
  readonly hash: string;
}

/** What {@link Store.appendAudit} needs; the store assigns seq and the hashes. */
export interface NewAuditEvent {
  /** One of {@link AuditKind}, or another non-empty kind. */
  readonly kind: string;
  readonly actor: string;
  /** ISO 8601; default now. */
  readonly at?: string;
  readonly environment?: string;
  readonly stack?: string;
  readonly revision?: string;
  /** JSON-serialisable: no functions, bigints, NaN or Infinity. */
  readonly details: Readonly<Record<string, unknown>>;
  /**
   * A key the caller makes once per event, so that an append repeated after its outcome was
   * lost (the store unreachable) is made once. Default: a key per call. Not stored in the event.
   */
  readonly requestKey?: string;
}

/** Filters of {@link Store.listAudit}; the result is oldest first. */
export interface AuditQuery {
  /** Default {@link defaultListLimit}; at most {@link maxListLimit}. */
  readonly limit?: number;
  /** A cursor: only events after this seq (the last seq of the previous page). */
  readonly afterSeq?: number;
  /** Only events of this kind. */
  readonly kind?: AuditKind;
  /** Only events about this environment. */
  readonly environment?: string;
  /** Only events about this revision (full SHA). */
  readonly revision?: string;
}

/** The answer of {@link Store.verifyAudit}. */
export type AuditVerification =
  | {
      readonly ok: true;
      /** Events verified. */
      readonly count: number;
      /** The last event's hash (64 zeros when empty): keep it elsewhere to detect a truncated or rewritten log. */
      readonly head: string;
    }
  | {
      readonly ok: false;
      /** Events verified before the broken one. */
      readonly count: number;
      /** The first event that does not verify. */
      readonly seq: number;
      readonly reason: string;
    };

/** How many rows a list returns when not told. */
export const defaultListLimit = 50;
/** The most rows one list call returns; page with the cursor for more. */
export const maxListLimit = 1000;

/** History, drift and audit of syncs, written alike by the agent (pull) and `gitward apply --state` (push). */
export interface Store {
  /** Where it is, for messages (`sqlite:/var/lib/gitward/state.db`); never holds a password. */
  readonly location: string;
  /** Records a sync as running and returns it with its id. */
  beginSync(sync: NewSync): Promise<SyncRow>;
  /** Records how a running sync ended; fails if it is unknown or no longer running (interrupted). */
  finishSync(id: string, result: SyncResult): Promise<SyncRow>;
  /** Records the health of a finished sync's objects (replacing what was recorded); fails if the sync is unknown. */
  recordHealth(id: string, health: SyncHealth): Promise<SyncRow>;
  getSync(id: string): Promise<SyncRow | undefined>;
  /** Newest first (by start time, then id). */
  listSyncs(query?: SyncQuery): Promise<SyncRow[]>;
  /** The latest sync of a stack, whatever its outcome (including a running one). */
  lastSync(environment: string, stack: string): Promise<SyncRow | undefined>;
  /** The latest succeeded sync of a stack: its revision is the last good one. */
  lastSucceeded(environment: string, stack: string): Promise<SyncRow | undefined>;
  /**
   * Marks every `running` sync `interrupted` with `reason` as its error, and returns them.
   * Called when an agent starts: such rows were left by a process that died. A store shared by
   * several agents leaves alone the running syncs of agents still alive (heartbeat within their lease).
   */
  interruptRunning(reason: string): Promise<SyncRow[]>;
  /** Records drift events, all or none; returns them with their ids, in the order given. */
  recordDrift(events: readonly NewDrift[]): Promise<DriftRow[]>;
  /** Newest first (by detection time, then id). */
  listDrift(query?: DriftQuery): Promise<DriftRow[]>;
  /** Appends to the audit chain; safe against concurrent writers in other processes. */
  appendAudit(event: NewAuditEvent): Promise<AuditEvent>;
  /** Oldest first. */
  listAudit(query?: AuditQuery): Promise<AuditEvent[]>;
  /** Walks the whole chain: seq without gaps, each prevHash the previous hash, each hash recomputed. */
  verifyAudit(): Promise<AuditVerification>;
  /** Stores a new API token (only its hash); a name held by an unrevoked token is refused ({@link TokenError} `name-taken`). */
  createToken(token: NewToken): Promise<TokenInfo>;
  /** Every token, revoked and expired ones included, oldest first; never a token or its hash. */
  listTokens(): Promise<TokenInfo[]>;
  /** Revokes a token by id, or by name among unrevoked ones; unknown is {@link TokenError} `not-found`. Idempotent by id. */
  revokeToken(idOrName: string): Promise<TokenInfo>;
  /** The token whose hash this is, when it is neither revoked nor expired. */
  findToken(hash: string): Promise<TokenInfo | undefined>;
  /** Records a token's use at `at` (ISO 8601), at most once a minute per token. */
  touchToken(id: string, at: string): Promise<void>;
  /**
   * Whether the database answered the last call: false while a networked store (PostgreSQL) is
   * retrying a lost connection, for the agent's `/readyz`. Absent means always reachable.
   */
  healthy?(): boolean;
  /**
   * This store with every history write (beginSync, finishSync, recordHealth, recordDrift,
   * appendAudit) made under a stack's lease, and refused with a `FencedError` (store error kind
   * `fenced`) unless that lease is still held, checked in the write's own transaction. Absent on a
   * store with a single agent (SQLite): there the writes need no fence.
   */
  fenced?(fence: LeaseFence): Store;
  /** Leases, heartbeats and routed work of several agents sharing the store; absent on a single-agent store (SQLite). */
  coordination?(): CoordinationStore;
  /** Releases the database; further calls fail. Idempotent. */
  close(): Promise<void>;
}
