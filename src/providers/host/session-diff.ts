import { formatRef } from "../../core/objref.ts";
import type { DesiredObject, DiffOptions, DiffSet } from "../provider.ts";
import { hostDiffEntries } from "./diff.ts";
import { orphanDiffEntries } from "./diff-orphans.ts";
import { orphanPaths } from "./orphans.ts";
import type { ResolvedObject } from "./resolved-object.ts";
import type { HostSessionContext } from "./session-context.ts";
import { staleEntries } from "./session-inventory.ts";
import { inspectStalePaths, isInvalid, resolveObjects, scanObjects, unmanagedFiles } from "./session-observe.ts";

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
  const unmanaged = await unmanagedFiles(ctx.root, objects, registry);
  const entries = await hostDiffEntries({ root: ctx.root, objects, states, unmanaged, registry, stack });
  if (stack === undefined) return { entries };
  const orphans = orphanPaths(registry, stack, new Set(objects.map((o) => o.spec.path)));
  // Only whether each is still there matters to a diff: no directory is listed.
  const onDisk = await inspectStalePaths(ctx.root, orphans.map((o) => ({ path: o.path, kind: "File" as const })));
  return { entries: [...entries, ...orphanDiffEntries({ objects, stale: staleEntries(opts.inventory, desired), orphans, onDisk })] };
}
