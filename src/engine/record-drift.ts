import type { DiffEntry } from "../providers/provider.ts";
import type { NewDrift } from "../store/store.ts";

/**
 * The drift events of one check: each object that differs, with the fields and who changed them
 * where known, and whether a sync (`syncId`) corrected it.
 */
export function driftEvents(
  environment: string, stack: string, drifted: readonly DiffEntry[], how: { readonly corrected: boolean; readonly syncId?: string }, detectedAt: string,
): NewDrift[] {
  return drifted.map((e) => ({
    environment, stack, detectedAt, ref: e.ref, apiVersion: e.apiVersion, corrected: how.corrected,
    ...(how.syncId === undefined || how.syncId === "" ? {} : { syncId: how.syncId }),
    fields: e.drift !== undefined && e.drift.length > 0
      ? e.drift
      : [{ field: e.action === "create" ? "(object deleted outside gitward)" : e.action === "delete" ? "(object no longer in Git)" : "(differs from Git)" }],
  }));
}
