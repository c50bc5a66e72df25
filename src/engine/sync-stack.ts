import type { StackInstance } from "../config/stack-instances.ts";
import type { Clock } from "../core/clock.ts";
import type { RenderedObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import { formatLocation } from "../core/location.ts";
import { refKey } from "../core/objref.ts";
import type {
  ChangeSetEntry, CommandOutput, DesiredObject, HealthReport, Inventory, StackRef, SyncRecord, TargetSession, TransactOptions,
} from "../providers/provider.ts";
import { actionSummary, changedAnything } from "./change-set.ts";
import type { GateOutcome } from "./gate.ts";
import type { Fence } from "../store/fence.ts";

/** The labels gitward puts on every object it applies, so ownership can be checked live. */
export const stackLabel = "gitward.dev/stack";
/** See {@link stackLabel}. */
export const environmentLabel = "gitward.dev/environment";
const keptSyncs = 10;

/** How one stack is synced. */
export interface StackSyncOptions {
  readonly revision: string;
  readonly dryRun: boolean;
  readonly prune: boolean;
  readonly force: boolean;
  /** Wait for health this long after applying; undefined does not wait. */
  readonly waitMs: number | undefined;
  readonly gate: GateOutcome;
  /** Who overrode the policy gate and why, when it was. */
  readonly override?: { readonly by: string; readonly reason: string };
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
  /** Time of the inventory's sync records; default the system clock. */
  readonly clock?: Clock;
  /** Reviews the changes a target plans before applying them (Terraform): policies and the gate. */
  readonly review?: TransactOptions["review"];
  /** The stack's lease (several agents): checked before apply or transact, before prune and before the inventory is written. */
  readonly fence?: Fence;
}

/** What syncing one stack did. */
export interface StackSyncResult {
  readonly environment: string;
  readonly stack: string;
  readonly target: string;
  readonly entries: readonly ChangeSetEntry[];
  readonly health?: HealthReport;
  /** Commands the target ran (host check, reload, health). */
  readonly commands?: readonly CommandOutput[];
  /** Set when the stack was not synced (a failed dependency) or the session failed. */
  readonly error?: string;
  /** True when it was not synced because a dependency failed. */
  readonly skipped?: boolean;
  readonly ok: boolean;
}

/**
 * Apply, prune, verify and record one stack through its target session: objects are applied
 * with the stack's labels, what the inventory holds and Git no longer does is pruned, health
 * is awaited on request, and the inventory in the target is rewritten with what the stack
 * owns now, failed deletes included so they are retried next time.
 */
export async function syncStack(
  session: TargetSession,
  instance: StackInstance,
  objects: readonly RenderedObject[],
  opts: StackSyncOptions,
): Promise<StackSyncResult> {
  const stack: StackRef = { environment: instance.environment, stack: instance.stack };
  const base = { environment: instance.environment, stack: instance.stack, target: instance.targetName };
  const inventory = await session.readInventory(stack, opts.signal);
  const desired = labelledObjects(objects, stack);
  const fence = opts.fence;
  fence?.check();
  if (session.transact !== undefined) return transactStack(session, desired, objects, inventory, { ...opts, stack, base, forceConflicts: instance.forceConflicts });
  const applied = withSources(await session.apply(desired, {
    stack, dryRun: opts.dryRun, force: opts.force || instance.forceConflicts,
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    ...(fence === undefined ? {} : { beforeWrite: () => fence.check() }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  }), objects);
  const wanted = new Set(desired.map((d) => refKey(d.ref)));
  const stale = (inventory?.entries ?? []).filter((e) => !wanted.has(refKey(e.ref)));
  if (opts.prune && stale.length > 0) opts.fence?.check();
  const removed = opts.prune && stale.length > 0
    ? await session.remove(stale, { stack, dryRun: opts.dryRun, ...(fence === undefined ? {} : { beforeWrite: () => fence.check() }), ...(opts.signal === undefined ? {} : { signal: opts.signal }) })
    : [];
  const entries = [...applied, ...removed];
  const failed = entries.some((e) => e.action === "failed");
  const health = opts.waitMs === undefined || opts.dryRun || failed
    ? undefined
    : await session.wait(applied.map((e) => e.ref), { timeoutMs: opts.waitMs, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
  const unhealthy = health !== undefined && (health.timedOut || health.entries.some((e) => e.health === "degraded"));
  const ok = !failed && !unhealthy;
  const worthRecording = changedAnything(entries) || inventory === undefined || inventory.revision !== opts.revision || !ok || opts.gate.overridden;
  if (!opts.dryRun && worthRecording) {
    opts.fence?.check();
    await session.writeInventory(nextInventory(inventory, stack, desired, stale, removed, record(opts, entries, ok)), opts.signal);
  }
  return { ...base, entries, ok, ...(health === undefined ? {} : { health }) };
}

/** A transactional target (host): one call changes everything or nothing, then the inventory is recorded. */
async function transactStack(
  session: TargetSession,
  desired: readonly DesiredObject[],
  objects: readonly RenderedObject[],
  inventory: Inventory | undefined,
  opts: StackSyncOptions & { readonly stack: StackRef; readonly base: Pick<StackSyncResult, "environment" | "stack" | "target">; readonly forceConflicts: boolean },
): Promise<StackSyncResult> {
  const wanted = new Set(desired.map((d) => refKey(d.ref)));
  const stale = (inventory?.entries ?? []).filter((e) => !wanted.has(refKey(e.ref)));
  const result = await session.transact!(desired, stale, {
    stack: opts.stack, dryRun: opts.dryRun, force: opts.force || opts.forceConflicts, prune: opts.prune,
    ...(opts.review === undefined ? {} : { review: opts.review }),
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  const entries = withSources(result.entries, objects);
  const ok = result.error === undefined && !entries.some((e) => e.action === "failed");
  const removed = entries.filter((e) => !wanted.has(refKey(e.ref)));
  const worthRecording = changedAnything(entries) || inventory === undefined || inventory.revision !== opts.revision || !ok || opts.gate.overridden;
  if (!opts.dryRun && worthRecording) {
    const sync: SyncRecord = {
      ...record(opts, entries, ok),
      ...(result.error === undefined ? {} : { error: result.error }),
      ...(result.commands.length === 0 ? {} : { commands: result.commands }),
    };
    // A failed transaction changed nothing: the inventory keeps what it held, plus the record.
    const next = ok ? nextInventory(inventory, opts.stack, desired, stale, removed, sync) : keepInventory(inventory, opts.stack, sync);
    opts.fence?.check();
    await session.writeInventory(next, opts.signal);
  }
  return {
    ...opts.base, entries, ok,
    ...(result.commands.length === 0 ? {} : { commands: result.commands }),
    ...(result.error === undefined ? {} : { error: result.error }),
  };
}

function keepInventory(previous: Inventory | undefined, stack: StackRef, sync: SyncRecord): Inventory {
  return {
    stack,
    revision: previous?.revision ?? "",
    entries: previous?.entries ?? [],
    syncs: [sync, ...(previous?.syncs ?? [])].slice(0, keptSyncs),
  };
}

/** Failures name the file that defines the object, so the fix is one click away. */
function withSources(entries: readonly ChangeSetEntry[], objects: readonly RenderedObject[]): ChangeSetEntry[] {
  const sources = new Map(objects.map((o) => [refKey(o.ref), o.source]));
  return entries.map((e) => {
    const source = sources.get(refKey(e.ref));
    if (e.action !== "failed" || source === undefined) return e;
    return { ...e, message: `${formatLocation(source)}: ${e.message ?? "failed"}` };
  });
}

/** The desired objects of a stack, labelled with the stack and environment that own them. */
export function labelledObjects(objects: readonly RenderedObject[], stack: StackRef): DesiredObject[] {
  return objects.map((o) => labelled(o, stack));
}

function labelled(o: RenderedObject, stack: StackRef): DesiredObject {
  const meta = isRecord(o.object["metadata"]) ? o.object["metadata"] : {};
  const labels = isRecord(meta["labels"]) ? meta["labels"] : {};
  const object = {
    ...o.object,
    metadata: { ...meta, labels: { ...labels, [stackLabel]: stack.stack, [environmentLabel]: stack.environment } },
  };
  const secretFields = (o as { readonly secretFields?: readonly string[] }).secretFields;
  return { ref: o.ref, apiVersion: o.apiVersion, object, source: o.source, ...(secretFields === undefined ? {} : { secretFields }) };
}

function record(opts: StackSyncOptions, entries: readonly ChangeSetEntry[], ok: boolean): SyncRecord {
  const summary = actionSummary(entries);
  return {
    revision: opts.revision,
    at: (opts.clock?.date() ?? new Date()).toISOString(),
    result: ok ? "succeeded" : "failed",
    summary,
    ...(opts.gate.overridden ? { gateOverride: { by: opts.override?.by ?? "unknown", reason: opts.override?.reason ?? "", denials: opts.gate.denials.length } } : {}),
  };
}

function nextInventory(
  previous: Inventory | undefined,
  stack: StackRef,
  desired: readonly DesiredObject[],
  stale: Inventory["entries"],
  removed: readonly ChangeSetEntry[],
  sync: SyncRecord,
): Inventory {
  const gone = new Set(removed.filter((e) => e.action === "deleted" || e.action === "skipped").map((e) => refKey(e.ref)));
  // What could not be deleted (or was not pruned) is still owned, so a later sync retries it.
  const kept = stale.filter((e) => !gone.has(refKey(e.ref)));
  return {
    stack,
    revision: sync.revision,
    entries: [...desired.map((d) => ({ ref: d.ref, apiVersion: d.apiVersion })), ...kept],
    syncs: [sync, ...(previous?.syncs ?? [])].slice(0, keptSyncs),
  };
}
