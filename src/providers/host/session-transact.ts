import type { ObjRef } from "../../core/objref.ts";
import type { DesiredObject, Inventory, RemoveOptions, TransactOptions, TransactResult } from "../provider.ts";
import { recoverTransaction } from "./fs/transaction.ts";
import { orphanPathsToInspect, planSync } from "./plan-sync.ts";
import { requireCommands } from "./resolve-commands.ts";
import type { ResolvedObject } from "./resolved-object.ts";
import { runPlan } from "./run-plan.ts";
import type { HostSessionContext } from "./session-context.ts";
import { inspectStalePaths, isInvalid, resolveObjects, scanObjects, unmanagedFiles } from "./session-observe.ts";
import { readRegistry, writeRegistry } from "./state.ts";

/**
 * Syncs a stack to `desired` as one transaction. With `opts.prune`, what no desired object
 * holds any more is deleted (`stale` objects, previous paths of objects whose path changed);
 * without it, that stays, still owned.
 */
export function transactObjects(ctx: HostSessionContext, desired: readonly DesiredObject[], stale: Inventory["entries"], opts: TransactOptions): Promise<TransactResult> {
  return syncStack(ctx, desired, stale, opts);
}

/** Removes some objects of a stack, and leaves the rest of it as it is, not rewritten. */
export async function removeObjects(
  ctx: HostSessionContext,
  refs: readonly { readonly ref: ObjRef; readonly apiVersion: string }[],
  opts: RemoveOptions,
): Promise<TransactResult> {
  return syncStack(ctx, undefined, refs, { ...opts, force: false, prune: true });
}

/**
 * The transaction. `desired` undefined leaves the stack's other objects alone (a bare
 * remove); `stale` are the inventory's objects no longer desired (the objects to remove).
 * Nothing is changed when an object is invalid, and nothing is written when nothing differs.
 */
async function syncStack(
  ctx: HostSessionContext,
  desired: readonly DesiredObject[] | undefined,
  stale: Inventory["entries"],
  opts: TransactOptions,
): Promise<TransactResult> {
  // A command gitward.yaml names and the runner does not define: refused before anything is read, staged or run.
  const commands = requireCommands(ctx.commands);
  const resolved = await resolveObjects(ctx, desired ?? []);
  const failed = resolved.filter(isInvalid);
  if (failed.length > 0) {
    return {
      entries: resolved.map((r) => isInvalid(r)
        ? { ref: r.desired.ref, apiVersion: r.desired.apiVersion, action: "failed" as const, message: r.error }
        : { ref: r.desired.ref, apiVersion: r.desired.apiVersion, action: "skipped" as const, message: "not applied: other objects of the stack are invalid" }),
      commands: [], error: `${failed.length} invalid object${failed.length === 1 ? "" : "s"}: nothing was changed`,
    };
  }
  const objects = resolved as ResolvedObject[];
  // One sync at a time per root among this provider's sessions (stacks sharing a target), then the file lock across processes.
  const hold = await ctx.locks.hold(ctx.root, { fileLock: !opts.dryRun, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
  try {
    if (!opts.dryRun) await recoverTransaction(ctx.root);
    const registry = await readRegistry(ctx.root);
    const states = await scanObjects(ctx.root, objects);
    const unmanaged = await unmanagedFiles(ctx.root, objects, registry);
    const seen = { stack: opts.stack, objects, states, registry, stale, unmanaged, partial: desired === undefined, prune: opts.prune };
    const plan = planSync({ ...seen, staleOnDisk: await inspectStalePaths(ctx.root, orphanPathsToInspect(seen)) });
    if (plan.ops.length === 0) {
      if (!opts.dryRun && JSON.stringify(plan.registry) !== JSON.stringify(registry)) await writeRegistry(ctx.root, plan.registry);
      return { entries: plan.entries, commands: [] };
    }
    return await runPlan(ctx, commands, plan, registry, opts);
  } finally {
    await hold.release();
  }
}
