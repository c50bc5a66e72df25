import type { Action, ChangeSetEntry } from "../providers/provider.ts";

/** Counts of a change set by action, in the order summaries print them. */
export type ActionCounts = Record<Action, number>;

/** Counts entries by action; every action is present. */
export function countActions(entries: readonly ChangeSetEntry[]): ActionCounts {
  const counts: ActionCounts = { created: 0, configured: 0, unchanged: 0, deleted: 0, skipped: 0, failed: 0 };
  for (const e of entries) counts[e.action]++;
  return counts;
}

/** The counts that are not zero: what a sync record and history keep. */
export function actionSummary(entries: readonly ChangeSetEntry[]): Partial<ActionCounts> {
  return Object.fromEntries(Object.entries(countActions(entries)).filter(([, n]) => n > 0));
}

/** True when the entries changed anything. */
export function changedAnything(entries: readonly ChangeSetEntry[]): boolean {
  return entries.some((e) => e.action === "created" || e.action === "configured" || e.action === "deleted");
}

/** `2 created, 1 configured, 5 unchanged, 0 deleted, 0 failed` (skipped only when any). */
export function summarizeActions(counts: ActionCounts): string {
  const parts = [`${counts.created} created`, `${counts.configured} configured`, `${counts.unchanged} unchanged`, `${counts.deleted} deleted`];
  if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
  parts.push(`${counts.failed} failed`);
  return parts.join(", ");
}
