import { rm } from "node:fs/promises";
import { actionSummary } from "../engine/change-set.ts";
import type { Recorder } from "../engine/recorder.ts";
import type { TargetPool, TargetRef } from "../engine/target-pool.ts";
import type { Clock } from "../core/clock.ts";
import type { ChangeSetEntry } from "../providers/provider.ts";
import type { SyncTrigger } from "../store/store.ts";
import type { AgentConfig } from "./config.ts";
import { previewCredentialsKey, previewRoot } from "./previews-context.ts";

/** One stack of a preview to destroy: where it is deployed. */
export interface PreviewStackTarget {
  readonly stack: string;
  readonly target: TargetRef;
}

/** What destroying one stack of a preview did. */
export interface StackRemoval {
  readonly stack: string;
  readonly target: string;
  readonly entries: readonly ChangeSetEntry[];
  readonly error?: string;
}

/**
 * Removes every object a preview stack's inventory lists, through its target (a host target in
 * one transaction), then deletes the inventory: a kubernetes target's inventory ConfigMap, a
 * host target's whole preview directory (inventory included). Recorded as one sync in history,
 * `preview destroyed` in its trigger. A failure leaves the inventory, so it is tried again.
 */
export async function destroyPreviewStack(
  item: PreviewStackTarget,
  opts: { readonly pool: TargetPool; readonly recorder: Recorder; readonly clock: Clock; readonly targets: AgentConfig["targets"]; readonly sha: string; readonly trigger: SyncTrigger },
): Promise<StackRemoval> {
  const { environment, targetName } = item.target;
  const stack = { environment, stack: item.stack };
  const started = opts.clock.now();
  const id = await opts.recorder.begin({ environment, stack: item.stack, revision: { sha: opts.sha, author: "", message: "preview destroyed" }, trigger: opts.trigger });
  let entries: readonly ChangeSetEntry[] = [];
  let error: string | undefined;
  try {
    await opts.pool.use(item.target, async (session) => {
      const inventory = await session.readInventory(stack);
      const owned = inventory?.entries ?? [];
      if (session.transact !== undefined) {
        const result = owned.length === 0 ? { entries: [], error: undefined } : await session.transact([], owned, { stack, dryRun: false, force: false, prune: true });
        entries = result.entries;
        error = result.error;
      } else if (owned.length > 0) {
        entries = await session.remove(owned, { stack, dryRun: false });
      }
      const failed = entries.filter((e) => e.action === "failed");
      if (error === undefined && failed.length > 0) error = failed.slice(0, 5).map((e) => `${e.ref.kind}/${e.ref.name}: ${e.message ?? "failed"}`).join("; ");
      if (error !== undefined) return;
      await session.deleteInventory?.(stack);
    });
    const root = opts.targets[previewCredentialsKey(targetName)]?.root;
    if (error === undefined && item.target.target.provider === "host" && root !== undefined) {
      await rm(previewRoot(root, environment), { recursive: true, force: true });
    }
  } catch (e: unknown) {
    error = e instanceof Error ? e.message : String(e);
  }
  await opts.recorder.finish(id, {
    outcome: error === undefined ? "succeeded" : "failed", summary: actionSummary(entries), objects: entries,
    durationMs: Math.round(opts.clock.now() - started), ...(error === undefined ? {} : { error }),
  });
  return { stack: item.stack, target: targetName, entries, ...(error === undefined ? {} : { error }) };
}
