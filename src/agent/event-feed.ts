import type { Clock } from "../core/clock.ts";
import type { RecordObserver, Recorder } from "../engine/recorder.ts";
import type { Fence } from "../store/fence.ts";
import type { AgentEvents } from "./events.ts";

/**
 * The recorder the agent works with, publishing on the event bus what it records: a sync
 * started (`running`) and finished (its outcome, refusals included), and drift when it is
 * recorded as new (the same drift left in place is published once, as it is recorded once).
 */
export function publishingRecorder(inner: Recorder, events: AgentEvents, clock: Clock): Recorder {
  const now = (): string => clock.date().toISOString();
  return {
    ...(inner.fenced === undefined ? {} : { fenced: (fence: Fence) => publishingRecorder(inner.fenced?.(fence) ?? inner, events, clock) }),
    recorded: (environment, stack) => inner.recorded(environment, stack),
    async begin(sync) {
      const id = await inner.begin(sync);
      events.publish({ type: "sync", data: { environment: sync.environment, stack: sync.stack, id, revision: sync.revision.sha, outcome: "running", at: sync.startedAt ?? now() } });
      return id;
    },
    async finish(id, result, how) {
      const row = await inner.finish(id, result, how);
      if (row !== undefined) {
        events.publish({ type: "sync", data: { environment: row.environment, stack: row.stack, id: row.id, revision: row.revision.sha, outcome: row.outcome, at: row.finishedAt ?? now() } });
      }
      return row;
    },
    health: (id, health) => inner.health(id, health),
    audit: (event) => inner.audit(event),
    async drift(environment, stack, found) {
      const recorded = await inner.drift(environment, stack, found);
      if (recorded) {
        const at = found[0]?.detectedAt ?? now();
        events.publish({ type: "drift", data: { environment, stack, objects: found.length, corrected: found.some((e) => e.corrected), at } });
      }
      return recorded;
    },
  };
}

/** Observers called in turn: the metrics, and the bus's `status` event when a sync's health changes. */
export function observers(first: RecordObserver, events: AgentEvents): RecordObserver {
  return {
    finished: (row) => first.finished?.(row),
    refused: (environment, stack) => first.refused?.(environment, stack),
    drift: (environment, stack, objects) => first.drift?.(environment, stack, objects),
    health(row) {
      first.health?.(row);
      events.publish({ type: "status", data: { environment: row.environment, stack: row.stack } });
    },
  };
}
