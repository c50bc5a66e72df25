import type { Logger } from "pino";
import type { AgentInfo, CoordinationSnapshot, CoordinationStore, Notice, RoutedWork, StackKey } from "../store/coordination.ts";
import type { Fence } from "../store/fence.ts";
import { FenceContext } from "./fenced-runner.ts";
import { LeaseBook, rendezvousOwner, stackKey } from "./leases.ts";
import { errorText } from "./scheduler.ts";

/** The lease time when the configuration does not say: 15 s. */
export const defaultLeaseMs = 15_000;

/** What a {@link Coordinator} runs on, and how it hands stacks to the agent and takes them back. */
export interface CoordinatorOptions {
  readonly store: CoordinationStore;
  readonly agent: AgentInfo;
  readonly leaseMs: number;
  readonly logger: Logger;
  /** The stacks this agent serves now (from the repository's configuration); undefined until it has been read (nothing is taken or given up then). */
  served(): Promise<readonly StackKey[] | undefined>;
  /** True while the stack's work is waiting or running here: its lease is given up only once it is not. */
  busy(s: StackKey): boolean;
  /** A lease was taken: the stack should be checked at once. */
  acquired(s: StackKey): void;
  /** A lease was lost or is being given up: the stack's queued work is dropped. */
  lost(s: StackKey): void;
  /** Another agent received a push: read the remote now. */
  pushed(): void;
  /** A manual sync of a stack owned here, received by another agent. */
  routed(work: RoutedWork): void;
  /** A monotonic clock in ms; default `performance.now`. */
  readonly now?: () => number;
  /** Where the running work's fence is kept for the commands it runs (see fencedRunner); default a new one. */
  readonly fences?: FenceContext;
}

/**
 * Several agents on one PostgreSQL state: each (environment, stack) owned by one live agent
 * through a lease it renews every third of the lease time, with its heartbeat, in one statement.
 * Owners are spread by rendezvous hashing over the live agents: each agent takes the free or
 * expired leases it should own, and gives up (once idle) the ones another live agent should.
 * Manual syncs of stacks owned elsewhere are routed through the store's work queue; pushes are
 * announced with NOTIFY. Work runs inside {@link Coordinator.run}, which carries the stack's
 * {@link Fence} to the engine and to the commands a target runs.
 */
export class Coordinator {
  readonly #o: CoordinatorOptions;
  readonly #book: LeaseBook;
  /** Held leases being given up: no new work, released once idle. */
  readonly #releasing = new Set<string>();
  readonly #context: FenceContext;
  readonly #stop = new AbortController();
  #live: readonly string[] = [];
  /** When another agent would stop being live (ms from the last round): a round just after it takes its stacks over. */
  #nextExpiryMs: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();
  #listening: Promise<void> = Promise.resolve();
  #lastError: string | undefined;
  #failures = 0;

  constructor(o: CoordinatorOptions) {
    this.#o = o;
    this.#context = o.fences ?? new FenceContext();
    this.#book = new LeaseBook({ owner: o.agent.id, leaseMs: o.leaseMs, ...(o.now === undefined ? {} : { now: o.now }) });
  }

  /** This agent's id. */
  get id(): string {
    return this.#o.agent.id;
  }

  /** Runs a first round (heartbeat, leases), then one every third of the lease, and listens for notifications. */
  async start(): Promise<void> {
    await this.round();
    const every = Math.max(100, Math.floor(this.#o.leaseMs / 3));
    // Every third of the lease, and also just after another agent's heartbeat would run out, so
    // a dead agent's stacks are taken over at its lease's end, not up to a round later.
    const next = (): number => Math.min(every, this.#nextExpiryMs === undefined ? every : this.#nextExpiryMs + 50);
    const tick = (): void => {
      if (this.#stop.signal.aborted) return;
      void this.round().finally(() => {
        if (!this.#stop.signal.aborted) this.#timer = setTimeout(tick, next());
      });
    };
    this.#timer = setTimeout(tick, next());
    this.#listening = this.#o.store.listen((n) => this.#notice(n), this.#stop.signal)
      .catch((e: unknown) => this.#o.logger.error({ err: errorText(e) }, "listening for other agents' notifications stopped"));
  }

  /** Stops the rounds and the listener, then gives every lease up and removes this agent, so others take its stacks at once. */
  async stop(): Promise<void> {
    this.#stop.abort();
    clearTimeout(this.#timer);
    await this.#round;
    await this.#listening;
    await this.#o.store.leave(this.#o.agent.id)
      .catch((e: unknown) => this.#o.logger.warn({ err: errorText(e) }, "could not give the leases up; they expire within the lease time"));
  }

  /** One renewal round; never rejects (a failure is logged and shown in readiness). Rounds never overlap. */
  round(): Promise<void> {
    this.#round = this.#round.then(() => this.#roundOnce()).then(() => {
      this.#failures = 0;
      this.#lastError = undefined;
    }, (e: unknown) => {
      this.#failures++;
      this.#lastError = errorText(e);
      this.#o.logger.warn({ err: this.#lastError }, "lease round failed; leases not renewed lapse at their deadline");
    });
    return this.#round;
  }

  async #roundOnce(): Promise<void> {
    const { store, agent, leaseMs } = this.#o;
    const t0 = this.#book.now();
    for (const s of this.#book.renewed(t0, await store.heartbeat(agent, leaseMs))) {
      this.#releasing.delete(stackKey(s));
      this.#o.logger.warn({ environment: s.environment, stack: s.stack }, "lease lost: another agent owns the stack now");
      this.#o.lost(s);
    }
    const live = await store.liveAgents(agent.id);
    this.#live = live.ids;
    this.#nextExpiryMs = live.nextExpiryMs;
    const served = await this.#o.served();
    if (served === undefined) return await this.#takeWork();
    const wanted = served.filter((s) => rendezvousOwner(s, this.#live) === agent.id);
    const wantedKeys = new Set(wanted.map(stackKey));
    const t1 = this.#book.now();
    const taken = await store.acquire(agent.id, leaseMs, wanted.filter((s) => !this.#book.holds(s)));
    this.#book.acquired(t1, taken);
    for (const s of taken) {
      this.#o.logger.info({ environment: s.environment, stack: s.stack, epoch: s.epoch }, "lease acquired");
      this.#o.acquired({ environment: s.environment, stack: s.stack });
    }
    await this.#giveUp(this.#book.stacks().filter((s) => !wantedKeys.has(stackKey(s))));
    await this.#takeWork();
  }

  /** Leases another live agent should own (or of stacks no longer served): no new work at once, released once idle. */
  async #giveUp(unwanted: readonly StackKey[]): Promise<void> {
    const idle: StackKey[] = [];
    for (const s of unwanted) {
      const key = stackKey(s);
      if (!this.#releasing.has(key)) {
        this.#releasing.add(key);
        this.#o.lost(s);
      }
      if (!this.#o.busy(s)) idle.push(s);
    }
    if (idle.length === 0) return;
    await this.#o.store.release(this.#o.agent.id, idle);
    for (const s of idle) {
      this.#book.drop(s);
      this.#releasing.delete(stackKey(s));
      this.#o.logger.info({ environment: s.environment, stack: s.stack }, "lease released: another agent should own the stack");
    }
  }

  async #takeWork(): Promise<void> {
    for (const w of await this.#o.store.takeWork(this.#o.agent.id)) {
      this.#o.logger.info({ environment: w.environment, stack: w.stack, from: w.from, by: w.trigger.by }, "sync routed here by another agent");
      this.#o.routed(w);
    }
  }

  #notice(n: Notice): void {
    if (n === "repo" || n === "reconnected") this.#o.pushed();
    if (n === "work" || n === "reconnected") {
      void this.#takeWork().catch((e: unknown) => this.#o.logger.warn({ err: errorText(e) }, "could not take routed work; the next round tries again"));
    }
  }

  /** True while this agent holds the stack's lease (and is not giving it up): only then is its work queued and run. */
  owns(s: StackKey): boolean {
    return this.#book.holds(s) && !this.#releasing.has(stackKey(s));
  }

  /** The epoch of the lease this agent holds on the stack now, undefined when it holds none (see {@link owns}). */
  epoch(s: StackKey): number | undefined {
    return this.owns(s) ? this.#book.fence(s)?.epoch : undefined;
  }

  /** True for the first live agent by id: it alone runs the passes that belong to no stack (orphans, preview sweeps). */
  leads(): boolean {
    return this.#live[0] === this.#o.agent.id;
  }

  /**
   * Runs a stack's work under its fence: the fence is given to `fn` for the engine, and is the
   * current fence of the {@link FenceContext} (the command runner) while it runs. Without
   * the lease, `fn` is not run and undefined is returned.
   */
  async run<T>(s: StackKey, fn: (fence: Fence) => Promise<T>): Promise<T | undefined> {
    const fence = this.owns(s) ? this.#book.fence(s) : undefined;
    if (fence === undefined) return undefined;
    return this.#context.run(fence, () => fn(fence));
  }

  /** Queues a manual sync of a stack for its owner, through the store. */
  async route(work: Omit<RoutedWork, "from">): Promise<void> {
    await this.#o.store.enqueueWork({ ...work, from: this.#o.agent.id });
  }

  /** Tells the other agents a push arrived, so they read the remote now. */
  async announcePush(detail: string): Promise<void> {
    await this.#o.store.announcePush(detail);
  }

  /** Every agent and lease as the store has them. */
  snapshot(): Promise<CoordinationSnapshot> {
    return this.#o.store.snapshot();
  }

  /** Why the agent is not ready, for /readyz: lease rounds failing. */
  problems(): string[] {
    return this.#failures >= 2 ? [`lease renewal failing: ${this.#lastError ?? ""}`] : [];
  }
}
