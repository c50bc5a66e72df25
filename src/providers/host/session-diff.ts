import { formatRef } from "../../core/objref.ts";
import type { DesiredObject, DiffOptions, DiffSet } from "../provider.ts";
import { hostDiffEntries } from "./diff.ts";
import type { ResolvedObject } from "./resolved-object.ts";
import type { HostSessionContext } from "./session-context.ts";
import { staleEntries } from "./session-inventory.ts";
import { isInvalid, resolveObjects, scanObjects, unmanagedFiles } from "./session-observe.ts";
import { pathsByRef, type PathRecord } from "./state.ts";

/**
 * Compares the root with the desired objects and the stack's inventory; never writes and takes
 * no lock. An invalid object is an error naming it.
 */
export async function diffObjects(ctx: HostSessionContext, desired: readonly DesiredObject[], opts: DiffOptions): Promise<DiffSet> {
  const stack = opts.inventory?.stack;
  const registry = await ctx.registry.get();
  const resolved = await resolveObjects(ctx, desired);
  const invalid = resolved.filter(isInvalid);
  if (invalid[0] !== undefined) throw new Error(`${formatRef(invalid[0].desired.ref)}: ${invalid[0].error}`);
  const objects = resolved.filter((r): r is ResolvedObject => !isInvalid(r));
  const states = await scanObjects(ctx.root, objects);
  const stale = stack === undefined ? [] : staleEntries(opts.inventory, desired);
  const unmanaged = await unmanagedFiles(ctx.root, objects, registry);
  const previous = stack === undefined ? new Map<string, { path: string; record: PathRecord }>() : pathsByRef(registry, stack);
  return { entries: await hostDiffEntries(ctx.root, objects, states, unmanaged, stale, previous) };
}
