import { mapLimit } from "../../core/map-limit.ts";
import { getPath } from "../../core/object.ts";
import type { ObjRef } from "../../core/objref.ts";
import type { ChangeSetEntry, RemoveOptions } from "../provider.ts";
import { UnknownKindError } from "./discovery.ts";
import { isApiError } from "./errors.ts";
import { entry, failedEntry, rethrowIfAborted } from "./failure.ts";
import { Locator } from "./live-objects.ts";
import { pruneOrder } from "./order.ts";
import { notOwnedReason, pruneAnnotation, pruneDisabled } from "./ownership.ts";
import type { SessionContext } from "./session-context.ts";

/**
 * Prune: in the reverse of apply order (custom resources before their CRDs, workloads before
 * their Namespace), each object is read first and deleted only when it still carries the stack's
 * labels and does not opt out with `gitward.dev/prune: disabled`. The delete is conditional on the
 * uid read, so an object recreated meanwhile by someone else is left alone. A failed delete means
 * the object still exists, and it stays in the inventory.
 */

/** One object to remove. */
export interface RemoveRef {
  readonly ref: ObjRef;
  readonly apiVersion: string;
}

/** Removes objects; throws only on cancellation. */
export async function removeObjects(ctx: SessionContext, refs: readonly RemoveRef[], opts: RemoveOptions): Promise<ChangeSetEntry[]> {
  const items = refs.map((r, index) => ({ ref: r.ref, target: r, index }));
  const results = new Array<ChangeSetEntry>(refs.length);
  const locator = new Locator(ctx);
  for (const group of pruneOrder(items).groups) {
    const outcomes = await mapLimit(group.objects, ctx.settings.concurrency, (item) => {
      opts.beforeWrite?.();
      return removeOne(ctx, locator, item.target, opts);
    });
    outcomes.forEach((e, i) => (results[(group.objects[i] as { index: number }).index] = e));
  }
  return results;
}

async function removeOne(ctx: SessionContext, locator: Locator, r: RemoveRef, opts: RemoveOptions): Promise<ChangeSetEntry> {
  const signal = opts.signal;
  try {
    let loc;
    try {
      loc = await locator.locate(r.ref, r.apiVersion, signal);
    } catch (err: unknown) {
      // Discovery was read again before saying so: no object of a kind the server does not serve can exist.
      if (err instanceof UnknownKindError) return entry(r.ref, r.apiVersion, "deleted", `already gone: ${err.detail}`);
      throw err;
    }
    let live;
    try {
      live = await ctx.client.get(loc, signal);
    } catch (err: unknown) {
      if (isApiError(err, "NotFound")) return entry(r.ref, r.apiVersion, "deleted", "already gone");
      throw err;
    }
    const notOwned = notOwnedReason(live, opts.stack);
    if (notOwned !== undefined) return entry(r.ref, r.apiVersion, "skipped", notOwned);
    if (pruneDisabled(live)) return entry(r.ref, r.apiVersion, "skipped", `${pruneAnnotation}: disabled; left in place`);
    const uid = getPath(live, ["metadata", "uid"]);
    await ctx.client.delete(loc, {
      propagationPolicy: "Background",
      dryRun: opts.dryRun,
      ...(typeof uid === "string" ? { preconditions: { uid } } : {}),
      ...(signal === undefined ? {} : { signal }),
    });
    return entry(r.ref, r.apiVersion, "deleted");
  } catch (err: unknown) {
    rethrowIfAborted(signal);
    return failedEntry(r.ref, r.apiVersion, err);
  }
}
