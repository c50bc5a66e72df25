import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { refKey, type ObjRef } from "../core/objref.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import { stackHealth } from "../engine/health-state.ts";
import type { Recorder } from "../engine/recorder.ts";
import type { TargetPool } from "../engine/target-pool.ts";
import { isFenced, type Fence } from "../store/fence.ts";
import type { HealthState, SyncHealth } from "../store/store.ts";
import { errorText } from "./scheduler.ts";

/** A sync whose objects' health a {@link HealthWatch} follows. */
export interface FollowedSync {
  readonly id: string;
  readonly refs: readonly ObjRef[];
  readonly timeoutMs: number;
  /**
   * The stack's lease the sync ran under (several agents). Health is written under it: once the
   * lease is lost, even a write already under way is refused by the store, and following stops.
   */
  readonly fence?: Fence;
}

interface Followed {
  readonly instance: StackInstance;
  readonly syncId: string;
  readonly refs: readonly ObjRef[];
  /** On the clock's monotonic scale. */
  readonly deadline: number;
  /** The recorder writing this sync's health: fenced by its lease when it has one. */
  readonly recorder: Recorder;
  state: HealthState;
}

/** What a {@link HealthWatch} works with. */
export interface HealthWatchOptions {
  readonly pool: TargetPool;
  readonly recorder: Recorder;
  readonly clock: Clock;
  readonly logger: Logger;
  /** A followed stack reached a final state (healthy, degraded, timed out): its dependents may go on. */
  readonly settled: (environment: string, stack: string, state: HealthState) => void;
}

/**
 * Health followed after a sync without holding a worker: each synced stack's objects are
 * registered with a deadline, and one check reads the health of every followed object of a
 * target in one call (the Kubernetes provider reads a LIST per kind and namespace), records
 * each stack's state on its sync (progressing, then healthy, degraded or timed out), and
 * forgets the stacks that reached a final state.
 */
export class HealthWatch {
  readonly #o: HealthWatchOptions;
  readonly #followed = new Map<string, Followed>();

  constructor(opts: HealthWatchOptions) {
    this.#o = opts;
  }

  /** Stacks being followed. */
  get size(): number {
    return this.#followed.size;
  }

  /**
   * Follows a stack's objects after a sync, replacing what was followed for it; records
   * `progressing`. Throws `FencedError` (and follows nothing) when the sync's lease is lost.
   */
  async follow(instance: StackInstance, sync: FollowedSync): Promise<void> {
    const key = `${instance.environment}/${instance.stack}`;
    if (sync.refs.length === 0) {
      this.#followed.delete(key);
      return;
    }
    const recorder = sync.fence === undefined ? this.#o.recorder : this.#o.recorder.fenced?.(sync.fence) ?? this.#o.recorder;
    const f: Followed = { instance, syncId: sync.id, refs: sync.refs, deadline: this.#o.clock.now() + sync.timeoutMs, recorder, state: "progressing" };
    this.#followed.set(key, f);
    try {
      await recorder.health(sync.id, { state: "progressing", at: this.#o.clock.date().toISOString() });
    } catch (e: unknown) {
      if (isFenced(e) && this.#followed.get(key) === f) this.#followed.delete(key);
      throw e;
    }
  }

  /** Stops following a stack (a new sync of it started). */
  forget(environment: string, stack: string): void {
    this.#followed.delete(`${environment}/${stack}`);
  }

  /** One round: reads the health of every followed object, target by target, and records what changed. */
  async check(signal?: AbortSignal): Promise<void> {
    const byTarget = new Map<string, Followed[]>();
    for (const f of this.#followed.values()) {
      const k = `${f.instance.environment}/${f.instance.targetName}`;
      byTarget.set(k, [...(byTarget.get(k) ?? []), f]);
    }
    let failure: Error | undefined;
    for (const group of byTarget.values()) {
      try {
        await this.#checkTarget(group, signal);
      } catch (e: unknown) {
        // One unreachable target does not stop the others; the loop reports it.
        this.#o.logger.warn({ target: group[0]?.instance.targetName, err: errorText(e) }, "health check failed");
        failure ??= e instanceof Error ? e : new Error(errorText(e));
      }
    }
    if (failure !== undefined) throw failure;
  }

  async #checkTarget(group: readonly Followed[], signal: AbortSignal | undefined): Promise<void> {
    const first = group[0];
    if (first === undefined) return;
    const refs = new Map<string, ObjRef>();
    for (const f of group) for (const r of f.refs) refs.set(refKey(r), r);
    const report = await this.#o.pool.use(first.instance, (session) => session.wait([...refs.values()], { timeoutMs: 0, ...(signal === undefined ? {} : { signal }) }));
    const byRef = new Map(report.entries.map((e) => [refKey(e.ref), e]));
    const now = this.#o.clock.now();
    for (const f of group) {
      const key = `${f.instance.environment}/${f.instance.stack}`;
      if (this.#followed.get(key) !== f) continue; // replaced by a newer sync meanwhile
      const entries = f.refs.map((r) => byRef.get(refKey(r)) ?? { ref: r, health: "unknown" as const, message: "not read" });
      const h = stackHealth({ entries, timedOut: false }, now >= f.deadline);
      const final = h.state !== "progressing";
      if (h.state !== f.state || final) {
        f.state = h.state;
        if (!await this.#record(key, f, { state: h.state, at: this.#o.clock.date().toISOString(), ...(h.message === undefined ? {} : { message: h.message }) })) continue;
      }
      if (final) {
        this.#followed.delete(key);
        const log = h.state === "healthy" ? "info" : "warn";
        this.#o.logger[log]({ environment: f.instance.environment, stack: f.instance.stack, health: h.state, detail: h.message }, `stack ${h.state}`);
        this.#o.settled(f.instance.environment, f.instance.stack, h.state);
      }
    }
  }

  /**
   * Writes a followed stack's health; false when its lease was lost (the write refused, here or
   * by the store): the stack is no longer followed, its new owner follows its own sync.
   */
  async #record(key: string, f: Followed, health: SyncHealth): Promise<boolean> {
    try {
      await f.recorder.health(f.syncId, health);
      return true;
    } catch (e: unknown) {
      if (!isFenced(e)) throw e;
      if (this.#followed.get(key) === f) this.#followed.delete(key);
      this.#o.logger.warn({ environment: f.instance.environment, stack: f.instance.stack, sync: f.syncId, err: errorText(e) }, "health not recorded: the stack's lease was lost (fenced)");
      return false;
    }
  }
}
