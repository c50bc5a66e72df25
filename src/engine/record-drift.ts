import type { DiffEntry } from "../providers/provider.ts";
import type { NewDrift } from "../store/store.ts";

/** The drift events of one check: each object that differs, with the fields and who changed them where known. */
export function driftEvents(environment: string, stack: string, drifted: readonly DiffEntry[], corrected: boolean, detectedAt: string): NewDrift[] {
  return drifted.map((e) => ({
    environment, stack, detectedAt, ref: e.ref, apiVersion: e.apiVersion, corrected,
    fields: e.drift !== undefined && e.drift.length > 0
      ? e.drift
      : [{ field: e.action === "create" ? "(object deleted outside gitward)" : e.action === "delete" ? "(object no longer in Git)" : "(differs from Git)" }],
  }));
}
