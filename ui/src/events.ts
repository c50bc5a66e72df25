/**
 * The agent's event stream (`/api/v1/events`) read as data: which event names exist, how
 * their JSON is checked, and which queries each one makes stale. Pure; `live.ts` connects it
 * to an EventSource and the query client.
 */
import { keys, type Key } from "./keys.ts";

/** The event types the agent sends. */
export const eventTypes = ["sync", "drift", "gate", "status"] as const;

/** One of {@link eventTypes}. */
export type EventType = (typeof eventTypes)[number];

/** An event as the UI needs it: its type and the environment (and stack) it is about. */
export interface AgentEvent {
  readonly type: EventType;
  readonly environment: string;
  readonly stack?: string;
}

/** Reads an event's JSON data; undefined when it is not the shape the contract gives (the event is then ignored). */
export function parseEvent(type: string, data: string): AgentEvent | undefined {
  if (!(eventTypes as readonly string[]).includes(type)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { environment, stack } = value as { environment?: unknown; stack?: unknown };
  if (typeof environment !== "string" || environment === "") return undefined;
  return { type: type as EventType, environment, ...(typeof stack === "string" && stack !== "" ? { stack } : {}) };
}

/**
 * The queries an event makes stale. A stack's event refreshes the overview, that stack's page,
 * and what lists it (history for a sync, drift for drift); a gate event is about a whole
 * environment, so every stack of it is refreshed.
 */
export function invalidationsFor(e: AgentEvent): Key[] {
  const out: Key[] = [keys.stacks(), keys.environments()];
  const scope = e.stack === undefined ? ["stack", e.environment] : keys.stack(e.environment, e.stack);
  switch (e.type) {
    case "status":
      out.push(scope);
      break;
    case "sync":
      out.push(scope, keys.history({ environment: e.environment, ...(e.stack === undefined ? {} : { stack: e.stack }) }), keys.audit());
      // A finished sync may have been the one an unfiltered history list shows first.
      out.push(["history", "*"]);
      break;
    case "drift":
      out.push(scope, keys.drift({ environment: e.environment, ...(e.stack === undefined ? {} : { stack: e.stack }) }), ["drift", "*"]);
      break;
    case "gate":
      out.push(["stack", e.environment], keys.gate(), keys.audit());
      break;
  }
  return out;
}

/** The keys of several events, without repeats and without a key another one already covers as a prefix. */
export function mergeInvalidations(all: readonly Key[]): Key[] {
  const unique = new Map<string, Key>();
  for (const k of all) unique.set(JSON.stringify(k), k);
  const list = [...unique.values()];
  return list.filter((k) => !list.some((other) => other !== k && other.length < k.length && isPrefix(other, k)));
}

function isPrefix(prefix: Key, key: Key): boolean {
  return prefix.every((part, i) => JSON.stringify(part) === JSON.stringify(key[i]));
}
