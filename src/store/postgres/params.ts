import { rowId, type PreparedDrift, type PreparedSync } from "../prepare.ts";
import { invalidCall } from "../store-error.ts";

/** The parameters of a sync's INSERT, from environment to objects. */
export function syncParams(p: PreparedSync): unknown[] {
  const r = p.revision;
  const t = p.trigger;
  return [
    p.environment, p.stack, r.sha, r.author, r.authorEmail ?? null, r.committer ?? null, r.message, r.committedAt ?? null,
    t.kind, t.by ?? null, t.detail ?? null, p.startedAt, JSON.stringify(p.summary), JSON.stringify(p.objects),
  ];
}

/** The parameters of a drift event's INSERT, from its request key to its sync id. */
export function driftParams(key: string, p: PreparedDrift): unknown[] {
  const syncId = p.syncId === undefined ? null : rowId(p.syncId);
  if (syncId === undefined) throw invalidCall(`drift event names sync ${p.syncId ?? ""}, which does not exist`);
  return [
    key, p.environment, p.stack, p.detectedAt, p.ref.group, p.ref.kind, p.ref.namespace ?? null, p.ref.name, p.apiVersion,
    JSON.stringify(p.fields), p.corrected ? 1 : 0, syncId,
  ];
}
