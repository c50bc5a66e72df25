import { mapLimit } from "../../core/map-limit.ts";
import type { KObject } from "../../core/object.ts";
import { getPath } from "../../core/object.ts";
import { refKey } from "../../core/objref.ts";
import type { DesiredObject, DiffEntry, DiffOptions, DiffSet, Drift, StackRef } from "../provider.ts";
import { definedKind } from "./crd-established.ts";
import { UnknownKindError } from "./discovery.ts";
import { ApiErrorKind, isApiError } from "./errors.ts";
import { LiveIndex, Locator } from "./live-objects.ts";
import { normalizeForApply } from "./normalize.ts";
import { diffObjects } from "./object-diff.ts";
import { environmentLabel, stackLabel, stackSelector } from "./ownership.ts";
import type { ObjectLocation } from "./resource-path.ts";
import type { SessionContext } from "./session-context.ts";
import { answerChanged, compareWithLive } from "./up-to-date.ts";

/**
 * Live state against desired, without writing: one LIST per kind and namespace finds what is
 * live, managedFields tell which objects are already as desired, and only the others get a
 * server-side dry-run apply, whose answer is what an apply would make of them. The decision is
 * apply's own ({@link compareWithLive}, then {@link answerChanged}), so `diff` shows a change
 * exactly where `apply` would write. Objects of a kind the batch's own CRDs define are creates.
 * A failing read or dry run throws (naming the object): a diff with holes would read as
 * "nothing to do".
 */

/** Diffs a batch against the cluster. */
export async function diffAgainstLive(ctx: SessionContext, desired: readonly DesiredObject[], opts: DiffOptions): Promise<DiffSet> {
  const signal = opts.signal;
  const stack = opts.inventory?.stack ?? stackOf(desired);
  const locator = new Locator(ctx);
  const live = new LiveIndex(ctx, stack === undefined ? undefined : stackSelector(stack));
  const newKinds = new Set(desired.flatMap((d) => (d.ref.group === "apiextensions.k8s.io" && d.ref.kind === "CustomResourceDefinition" ? [definedKind(d.object) ?? ""] : [])));
  const entries = await mapLimit(desired, ctx.settings.concurrency, (d) => diffOne(ctx, locator, live, newKinds, d, signal));
  const wanted = new Set(desired.map((d) => refKey(d.ref)));
  for (const e of opts.inventory?.entries ?? []) {
    if (!wanted.has(refKey(e.ref))) entries.push({ ref: e.ref, apiVersion: e.apiVersion, action: "delete" });
  }
  return { entries };
}

async function diffOne(
  ctx: SessionContext, locator: Locator, live: LiveIndex, newKinds: ReadonlySet<string>, d: DesiredObject, signal: AbortSignal | undefined,
): Promise<DiffEntry> {
  const base = { ref: d.ref, apiVersion: d.apiVersion };
  let loc: ObjectLocation;
  try {
    loc = await locator.locate(d.ref, d.apiVersion, signal);
  } catch (err: unknown) {
    // Its CRD is in the same batch and not applied yet: nothing of the kind can exist.
    if (err instanceof UnknownKindError && newKinds.has(`${d.ref.group}/${d.ref.kind}`)) return { ...base, action: "create", diff: diffObjects(undefined, d.object, d.secretFields) };
    throw err;
  }
  const before = await live.find(loc, signal);
  if (before === undefined) return { ...base, action: "create", diff: diffObjects(undefined, d.object, d.secretFields) };
  const object = normalizeForApply(d.object);
  const manager = ctx.settings.fieldManager;
  const cmp = compareWithLive(before, object, d.apiVersion, manager);
  if (cmp.upToDate) return { ...base, action: "no-op" };
  const { object: after, conflicts } = await dryRunApply(ctx, loc, object, signal);
  if (!answerChanged(before, after, { dryRun: true, manager })) return { ...base, action: "no-op" };
  const drift = uniqueDrift([...cmp.drift, ...conflicts]);
  // An apply that would write only managedFields (an adoption, another API version) still writes.
  const text = diffObjects(before, after, d.secretFields) || `# no value changes; ${manager}'s field ownership changes (${cmp.reason ?? "managedFields"})`;
  return { ...base, action: "update", diff: text, ...(drift.length === 0 ? {} : { drift }) };
}

/**
 * What an apply would store. A field conflict would make the apply fail without force; the
 * dry run is repeated with force to show the result, and the conflicts are drift.
 */
async function dryRunApply(ctx: SessionContext, loc: ObjectLocation, object: KObject, signal: AbortSignal | undefined): Promise<{ object: KObject; conflicts: Drift[] }> {
  const opts = { fieldManager: ctx.settings.fieldManager, dryRun: true, ...(signal === undefined ? {} : { signal }) };
  try {
    return { object: (await ctx.client.applyPatch(loc, object, { ...opts, force: false })).object, conflicts: [] };
  } catch (err: unknown) {
    if (!isApiError(err, ApiErrorKind.ApplyConflict)) throw err;
    const forced = await ctx.client.applyPatch(loc, object, { ...opts, force: true });
    return { object: forced.object, conflicts: err.conflicts.map((c) => ({ field: c.field, manager: c.manager })) };
  }
}

// managedFields name the manager and time; a conflict only the manager. Keep one per field and manager.
function uniqueDrift(drift: readonly Drift[]): Drift[] {
  const out: Drift[] = [];
  for (const d of drift) if (!out.some((o) => o.field === d.field && o.manager === d.manager)) out.push(d);
  return out;
}

// The engine labels every object of a batch with its stack and environment.
function stackOf(desired: readonly DesiredObject[]): StackRef | undefined {
  const first = desired[0];
  if (first === undefined) return undefined;
  const stack = getPath(first.object, ["metadata", "labels", stackLabel]);
  const environment = getPath(first.object, ["metadata", "labels", environmentLabel]);
  return typeof stack === "string" && typeof environment === "string" ? { stack, environment } : undefined;
}
