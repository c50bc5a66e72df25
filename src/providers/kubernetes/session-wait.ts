import { mapLimit } from "../../core/map-limit.ts";
import type { KObject } from "../../core/object.ts";
import type { ObjRef } from "../../core/objref.ts";
import type { HealthReport, WaitOptions } from "../provider.ts";
import { Health } from "../provider.ts";
import { isApiError } from "./errors.ts";
import { failureMessage } from "./failure.ts";
import { objectHealth } from "./health.ts";
import { LiveIndex, Locator } from "./live-objects.ts";
import { pollUntil } from "./poll.ts";
import type { ObjectLocation } from "./resource-path.ts";
import type { SessionContext } from "./session-context.ts";

/**
 * Waiting for health: every ref is read (a GET each, or one LIST for a kind and namespace with
 * many of them) and judged by {@link objectHealth}, again and again with backoff, until all are
 * healthy, one is degraded, or the time runs out. A read that fails is `unknown` for that round.
 */

type HealthEntry = HealthReport["entries"][number];

/** Objects of one kind and namespace from which one LIST is cheaper than a GET each. */
const listFrom = 5;

/** Waits for health; throws only on cancellation. */
export async function waitForHealth(ctx: SessionContext, refs: readonly ObjRef[], opts: WaitOptions): Promise<HealthReport> {
  const signal = opts.signal;
  const locator = new Locator(ctx);
  const polled = await pollUntil(
    async () => {
      const entries = await readHealth(ctx, locator, refs, signal);
      const done = entries.every((e) => e.health === Health.Healthy) || entries.some((e) => e.health === Health.Degraded);
      return { done, value: entries };
    },
    {
      clock: ctx.clock, minDelayMs: ctx.settings.pollMinMs, maxDelayMs: ctx.settings.pollMaxMs, timeoutMs: opts.timeoutMs,
      ...(signal === undefined ? {} : { signal }),
    },
  );
  return { entries: polled.value, timedOut: polled.timedOut };
}

async function readHealth(ctx: SessionContext, locator: Locator, refs: readonly ObjRef[], signal: AbortSignal | undefined): Promise<HealthEntry[]> {
  const located = await mapLimit(refs, ctx.settings.concurrency, async (ref) => {
    try {
      return { ref, loc: await locator.locatePreferred(ref, signal) };
    } catch (err: unknown) {
      if (signal?.aborted === true) throw err;
      return { ref, error: err };
    }
  });
  const perCollection = new Map<string, number>();
  for (const l of located) if (l.loc !== undefined) perCollection.set(collectionKey(l.loc), (perCollection.get(collectionKey(l.loc)) ?? 0) + 1);
  // A fresh index each round: the LISTs must be read again.
  const lists = new LiveIndex(ctx);
  return mapLimit(located, ctx.settings.concurrency, async (l): Promise<HealthEntry> => {
    if (l.loc === undefined) return { ref: l.ref, health: Health.Missing, message: failureMessage(l.error) };
    try {
      const live = (perCollection.get(collectionKey(l.loc)) ?? 0) >= listFrom ? await fromList(lists, l.loc, signal) : await fromGet(ctx, l.loc, signal);
      if (live === undefined) return { ref: l.ref, health: Health.Missing, message: "not found" };
      const h = objectHealth(live);
      return { ref: l.ref, health: h.health, message: h.message };
    } catch (err: unknown) {
      if (signal?.aborted === true) throw err;
      return { ref: l.ref, health: Health.Unknown, message: failureMessage(err) };
    }
  });
}

async function fromGet(ctx: SessionContext, loc: ObjectLocation, signal: AbortSignal | undefined): Promise<KObject | undefined> {
  try {
    return await ctx.client.get(loc, signal);
  } catch (err: unknown) {
    if (isApiError(err, "NotFound")) return undefined;
    throw err;
  }
}

async function fromList(lists: LiveIndex, loc: ObjectLocation, signal: AbortSignal | undefined): Promise<KObject | undefined> {
  const found = await lists.lookup(loc, signal);
  if (!found.listed) throw found.error;
  return found.object;
}

function collectionKey(loc: ObjectLocation): string {
  return `${loc.group}/${loc.version}/${loc.resource}/${loc.namespace ?? ""}`;
}
