/**
 * Follows `/api/v1/events` with an EventSource and refreshes the queries each event makes
 * stale. Events arriving together (a sync of 200 stacks) are merged and applied at most every
 * 300 ms, so a burst is one refetch, not hundreds.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { eventTypes, invalidationsFor, mergeInvalidations, parseEvent } from "./events.ts";
import type { Key } from "./keys.ts";

/** Whether the stream is connected. */
export type LiveState = "connecting" | "live" | "offline";

const batchMs = 300;

/** Connects while `enabled`; returns the connection state for the header. */
export function useLiveEvents(enabled: boolean): LiveState {
  const client = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  useEffect(() => {
    if (!enabled) return undefined;
    // EventSource reconnects by itself and sends Last-Event-ID, so missed events are replayed.
    const source = new EventSource("/api/v1/events", { withCredentials: true });
    let pending: Key[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = (): void => {
      timer = undefined;
      const batch = mergeInvalidations(pending);
      pending = [];
      for (const queryKey of batch) void client.invalidateQueries({ queryKey });
    };
    const onEvent = (e: MessageEvent<string>): void => {
      const event = parseEvent(e.type, e.data);
      if (event === undefined) return;
      pending.push(...invalidationsFor(event));
      timer ??= setTimeout(flush, batchMs);
    };
    for (const t of eventTypes) source.addEventListener(t, onEvent);
    let dropped = false;
    source.onopen = () => {
      setState("live");
      // Events older than the agent's replay buffer may have been missed while away: re-read all.
      if (dropped) void client.invalidateQueries();
      dropped = false;
    };
    source.onerror = () => {
      dropped = true;
      setState(source.readyState === EventSource.CLOSED ? "offline" : "connecting");
    };
    return () => {
      source.close();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [client, enabled]);
  return enabled ? state : "offline";
}
