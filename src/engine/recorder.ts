import type { Clock } from "../core/clock.ts";
import type { Fence } from "../store/fence.ts";
import { randomUUID } from "node:crypto";
import { PendingRecords } from "./pending-records.ts";
import type { NewAuditEvent, NewDrift, NewSync, Store, SyncHealth, SyncResult, SyncRow } from "../store/store.ts";

/**
 * The Record stage's port: where a reconcile writes what it did. The engine calls it in one
 * place ({@link reconcileStack}); the agent and `gitward apply --state` pass a store-backed one,
 * `gitward apply` without state and `gitward diff` a no-op one (the target's inventory still
 * keeps its last syncs).
 */
export interface Recorder {
  /** The stack's latest sync whatever its outcome, and its latest successful one. */
  recorded(environment: string, stack: string): Promise<RecordedSyncs>;
  /** Records a sync as running; returns its id. */
  begin(sync: NewSync): Promise<string>;
  /** Records how it ended; `refused` marks a revision not applied (render failed, gate refused). */
  finish(id: string, result: SyncResult, opts?: { readonly refused?: boolean }): Promise<SyncRow | undefined>;
  /** Records the health of a finished sync's objects, as followed after it. */
  health(id: string, health: SyncHealth): Promise<void>;
  audit(event: NewAuditEvent): Promise<void>;
  /**
   * Records drift found on a stack (none recorded for no events, but observed). True when it
   * was recorded as new: the same uncorrected drift as last time is recorded once.
   */
  drift(environment: string, stack: string, events: readonly NewDrift[]): Promise<boolean>;
  /**
   * This recorder with its writes made under a stack's lease (several agents): each write first
   * checks the fence locally, then the store checks the lease in the write's transaction; a
   * refused write throws `FencedError`. Absent where there is no lease to hold.
   */
  fenced?(fence: Fence): Recorder;
}

/** See {@link Recorder.recorded}. */
export interface RecordedSyncs {
  readonly last: SyncRow | undefined;
  readonly good: SyncRow | undefined;
}

/** Who watches records as they are made (the agent's metrics); every method optional. */
export interface RecordObserver {
  finished?(row: SyncRow): void;
  /** A revision not applied to a stack (render failed or gate refused). */
  refused?(environment: string, stack: string): void;
  drift?(environment: string, stack: string, objects: number): void;
  /** The health of a sync's objects changed. */
  health?(row: SyncRow): void;
}

/** A recorder that keeps nothing: every stack looks never synced. */
export function noopRecorder(): Recorder {
  return {
    recorded: () => Promise.resolve({ last: undefined, good: undefined }),
    begin: () => Promise.resolve(""),
    finish: () => Promise.resolve(undefined),
    health: () => Promise.resolve(),
    audit: () => Promise.resolve(),
    drift: (_e, _s, events) => Promise.resolve(events.length > 0),
  };
}

/** Options of {@link storeRecorder}. */
export interface StoreRecorderOptions {
  readonly clock?: Clock;
  readonly observer?: RecordObserver;
  /**
   * Several agents write the store (stacks move between them): the last syncs are read from the
   * store each time instead of kept in memory, except as {@link held} allows. Default false.
   */
  readonly shared?: boolean;
  /**
   * With `shared`: the epoch of this process's lease on a stack, undefined when it holds none.
   * While it holds the same lease it alone writes the stack's history, so what it read or wrote
   * under that epoch is kept in memory; a new epoch (the stack was lost and taken again) reads
   * the store again.
   */
  readonly held?: (environment: string, stack: string) => number | undefined;
  /**
   * Where a sync's end, its health, drift and audit entries go when the store cannot be reached:
   * written at the next chance instead of lost (the agent). Default: the error is thrown.
   */
  readonly pending?: PendingRecords;
}

type Remembered = RecordedSyncs & { readonly epoch?: number | undefined };

/**
 * A recorder writing history, drift and audit to a {@link Store}. The last and last good sync
 * of each stack are kept in memory once read: the process that records a stack's syncs is
 * its only writer (one agent per environment; a push run is one process), unless `shared`.
 */
export function storeRecorder(store: Store, opts: StoreRecorderOptions = {}): Recorder & { readonly store: Store } {
  /** The last drift recorded per stack, so the same uncorrected drift is recorded once, not at every check. */
  return recorderOver(store, new Map<string, Remembered>(), new Map(), opts);
}

function recorderOver(store: Store, rows: Map<string, Remembered>, lastDrift: Map<string, string>, opts: StoreRecorderOptions, fence?: Fence): Recorder & { readonly store: Store } {
  const check = (): void => fence?.check();
  const epochOf = (environment: string, stack: string): number | undefined => (opts.shared === true ? opts.held?.(environment, stack) : undefined);
  const remember = (environment: string, stack: string, r: RecordedSyncs): void => {
    rows.set(`${environment}/${stack}`, { ...r, epoch: epochOf(environment, stack) });
  };
  const rememberHeldEnd = (id: string, ended: SyncResult): void => {
    for (const [k, r] of rows) {
      if (r.last?.id !== id) continue;
      const { finishedAt, ...rest } = ended;
      const last: SyncRow = { ...r.last, ...rest, ...(finishedAt === undefined ? {} : { finishedAt }) };
      rows.set(k, { ...r, last, good: ended.outcome === "succeeded" ? last : r.good });
    }
  };
  const recorded = async (environment: string, stack: string): Promise<RecordedSyncs> => {
    const cached = rows.get(`${environment}/${stack}`);
    const epoch = epochOf(environment, stack);
    if (cached !== undefined && (opts.shared !== true || (epoch !== undefined && cached.epoch === epoch))) return cached;
    const [last, good] = await Promise.all([store.lastSync(environment, stack), store.lastSucceeded(environment, stack)]);
    const r = { last, good };
    remember(environment, stack, r);
    return r;
  };
  const at = (): string | undefined => opts.clock?.date().toISOString();
  /** Runs a write; when the store cannot be reached and the recorder holds writes, holds it and answers undefined. */
  const held = async <T>(what: string, write: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await write();
    } catch (e: unknown) {
      if (opts.pending === undefined || !PendingRecords.holds(e)) throw e;
      opts.pending.hold(what, write);
      return undefined;
    }
  };
  return {
    store,
    recorded,
    // A view sharing this recorder's memory, writing through the store's fenced view.
    fenced: (f) => recorderOver(store.fenced?.(f) ?? store, rows, lastDrift, opts, f),
    async begin(sync) {
      check();
      const startedAt = sync.startedAt ?? at();
      const row = await store.beginSync({ ...sync, ...(startedAt === undefined ? {} : { startedAt }) });
      const r = await recorded(sync.environment, sync.stack);
      remember(sync.environment, sync.stack, { ...r, last: row });
      return row.id;
    },
    async finish(id, result, how) {
      check();
      const finishedAt = result.finishedAt ?? at();
      const ended = { ...result, ...(finishedAt === undefined ? {} : { finishedAt }) };
      const row = await held(`the end of sync ${id}`, () => store.finishSync(id, ended));
      if (row === undefined) {
        // Held for later: this process decides on the outcome it knows, not on a sync left running.
        rememberHeldEnd(id, ended);
        return undefined;
      }
      const r = await recorded(row.environment, row.stack);
      remember(row.environment, row.stack, { last: row, good: row.outcome === "succeeded" ? row : r.good });
      if (how?.refused === true) opts.observer?.refused?.(row.environment, row.stack);
      else opts.observer?.finished?.(row);
      return row;
    },
    async health(id, health) {
      check();
      const row = await held(`the health of sync ${id}`, () => store.recordHealth(id, health));
      if (row === undefined) return;
      const r = rows.get(`${row.environment}/${row.stack}`);
      if (r !== undefined) rows.set(`${row.environment}/${row.stack}`, { ...r, last: r.last?.id === id ? row : r.last, good: r.good?.id === id ? row : r.good });
      opts.observer?.health?.(row);
    },
    async audit(event) {
      check();
      const when = event.at ?? at();
      // One key for every attempt: an append whose answer was lost is not made twice.
      const keyed = { requestKey: randomUUID(), ...event, ...(when === undefined ? {} : { at: when }) };
      await held(`an audit entry (${event.kind})`, () => store.appendAudit(keyed));
    },
    async drift(environment, stack, events) {
      opts.observer?.drift?.(environment, stack, events.length);
      const k = `${environment}/${stack}`;
      const signature = driftSignature(events);
      const corrected = events.some((e) => e.corrected);
      if (events.length === 0 || (!corrected && lastDrift.get(k) === signature)) {
        if (events.length === 0) lastDrift.delete(k);
        return false;
      }
      check();
      await held(`drift of ${k}`, () => store.recordDrift(events));
      if (corrected) lastDrift.delete(k);
      else lastDrift.set(k, signature);
      return true;
    },
  };
}

/** What identifies a drift: the objects and fields that differ, and who changed them when. */
export function driftSignature(events: readonly NewDrift[]): string {
  return JSON.stringify(events.map((e) => [e.ref, e.fields.map((f) => [f.field, f.manager ?? "", f.time ?? ""])])
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)));
}
