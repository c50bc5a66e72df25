import type { Logger } from "pino";
import type { GateView } from "./gate-view.ts";

/** A sync started (`outcome: "running"`) or finished (its outcome). */
export interface SyncEventData {
  readonly environment: string;
  readonly stack: string;
  /** The sync's id in the history. */
  readonly id: string;
  readonly revision: string;
  readonly outcome: string;
  readonly at: string;
}

/** Objects of a stack found changed outside Git, and whether the agent corrected them. */
export interface DriftEventData {
  readonly environment: string;
  readonly stack: string;
  readonly objects: number;
  readonly corrected: boolean;
  readonly at: string;
}

/** Where an environment stands at the gate changed (held, refused, overridden, open again). */
export interface GateEventData {
  readonly environment: string;
  readonly revision: string;
  readonly gate: GateView;
}

/** Something about this stack changed (its health, mostly): clients read it again. */
export interface StatusEventData {
  readonly environment: string;
  readonly stack: string;
}

/** An event as it is published, without its id. */
export type NewAgentEvent =
  | { readonly type: "sync"; readonly data: SyncEventData }
  | { readonly type: "drift"; readonly data: DriftEventData }
  | { readonly type: "gate"; readonly data: GateEventData }
  | { readonly type: "status"; readonly data: StatusEventData };

/** An event as subscribers see it: numbered in publishing order, from 1. */
export type AgentEvent = NewAgentEvent & { readonly id: number };

/** Why a subscription ended. */
export type SubscriptionEnd = "dropped" | "closed";

/** How a subscriber listens. */
export interface SubscribeOptions {
  /** Replay the kept events after this id first (an SSE client's Last-Event-ID). */
  readonly since?: number;
  /** Only events this accepts are queued for the subscriber (e.g. the environments it may read). */
  readonly filter?: (event: AgentEvent) => boolean;
  /** Called once when the subscription ends: the subscriber was too slow, or the bus closed. */
  readonly onEnd?: (why: SubscriptionEnd) => void;
  /** A name for the log line when it is dropped (never a credential). */
  readonly name?: string;
}

/**
 * Receives one event; may return a promise to say it is busy (a socket's buffer is full):
 * the next event waits for it, and meanwhile events queue up to the bus's bound.
 */
export type EventSink = (event: AgentEvent) => void | Promise<void>;

interface Subscriber {
  readonly sink: EventSink;
  readonly opts: SubscribeOptions;
  readonly queue: AgentEvent[];
  draining: boolean;
  ended: boolean;
}

/** Options of {@link AgentEvents}. */
export interface AgentEventsOptions {
  readonly logger?: Logger;
  /** Events kept for resuming; default 1,000. */
  readonly capacity?: number;
  /** Events a subscriber may have waiting before it is dropped; default 500. */
  readonly queueLimit?: number;
}

/**
 * The agent's in-process event bus: what happened (syncs, drift, the gate, status changes),
 * numbered, kept in a ring of the last events for clients that resume, and handed to each
 * subscriber through a queue of its own. Publishing never waits for a subscriber: one whose
 * queue overflows is dropped (with a log line) and told so.
 */
export class AgentEvents {
  readonly #capacity: number;
  readonly #queueLimit: number;
  readonly #logger: Logger | undefined;
  readonly #ring: AgentEvent[] = [];
  readonly #subscribers = new Set<Subscriber>();
  #next = 1;
  #closed = false;

  constructor(opts: AgentEventsOptions = {}) {
    this.#capacity = opts.capacity ?? 1000;
    this.#queueLimit = opts.queueLimit ?? 500;
    this.#logger = opts.logger;
  }

  /** The id of the newest event published; 0 before the first. */
  get lastId(): number {
    return this.#next - 1;
  }

  /** Subscribers connected now. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** Numbers the event, keeps it in the ring, and queues it for every subscriber that wants it. */
  publish(event: NewAgentEvent): AgentEvent {
    const numbered = { ...event, id: this.#next++ } as AgentEvent;
    if (this.#closed) return numbered;
    this.#ring.push(numbered);
    if (this.#ring.length > this.#capacity) this.#ring.shift();
    for (const s of this.#subscribers) this.#offer(s, numbered);
    return numbered;
  }

  /** Events kept with an id above `since`, oldest first. */
  since(since: number): AgentEvent[] {
    return this.#ring.filter((e) => e.id > since);
  }

  /** Starts delivering events to `sink` (the kept ones after `since` first); returns the function that stops it. */
  subscribe(sink: EventSink, opts: SubscribeOptions = {}): () => void {
    const s: Subscriber = { sink, opts, queue: [], draining: false, ended: false };
    if (this.#closed) {
      queueMicrotask(() => this.#end(s, "closed"));
      return () => undefined;
    }
    this.#subscribers.add(s);
    if (opts.since !== undefined) for (const e of this.since(opts.since)) this.#offer(s, e);
    return () => {
      s.ended = true;
      s.queue.length = 0;
      this.#subscribers.delete(s);
    };
  }

  /** Ends every subscription (the agent stops); later publishes are numbered but reach no one. */
  close(): void {
    this.#closed = true;
    for (const s of [...this.#subscribers]) this.#end(s, "closed");
  }

  #offer(s: Subscriber, event: AgentEvent): void {
    if (s.ended || (s.opts.filter !== undefined && !s.opts.filter(event))) return;
    if (s.queue.length >= this.#queueLimit) {
      this.#logger?.warn({ subscriber: s.opts.name ?? "anonymous", waiting: s.queue.length }, "event subscriber dropped: it did not keep up");
      this.#end(s, "dropped");
      return;
    }
    s.queue.push(event);
    if (!s.draining) void this.#drain(s);
  }

  async #drain(s: Subscriber): Promise<void> {
    s.draining = true;
    try {
      for (let e = s.queue.shift(); e !== undefined && !s.ended; e = s.queue.shift()) {
        const busy = s.sink(e);
        if (busy !== undefined) await busy;
      }
    } catch (err: unknown) {
      // A sink that throws is gone (its connection failed): it gets nothing more.
      this.#logger?.debug({ subscriber: s.opts.name ?? "anonymous", err: err instanceof Error ? err.message : String(err) }, "event subscriber failed");
      this.#end(s, "dropped");
    } finally {
      s.draining = false;
    }
  }

  #end(s: Subscriber, why: SubscriptionEnd): void {
    if (s.ended && !this.#subscribers.has(s)) return;
    s.ended = true;
    s.queue.length = 0;
    this.#subscribers.delete(s);
    s.opts.onEnd?.(why);
  }
}
