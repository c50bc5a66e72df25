import type { KObject } from "../../core/object.ts";
import { getPath, isRecord } from "../../core/object.ts";
import type { ChangeSetEntry, DesiredObject, StackRef } from "../provider.ts";
import { UnknownKindError } from "./discovery.ts";
import type { KubeApiError } from "./errors.ts";
import { ApiErrorKind, isApiError } from "./errors.ts";
import { entry, failedEntry, rethrowIfAborted } from "./failure.ts";
import { normalizeForApply } from "./normalize.ts";
import type { LiveIndex, Locator } from "./live-objects.ts";
import { environmentLabel, stackLabel } from "./ownership.ts";
import type { ObjectLocation } from "./resource-path.ts";
import type { SessionContext } from "./session-context.ts";
import type { ApplyResult } from "./object-requests.ts";
import type { TakeBack } from "./take-back.ts";
import { takeBackMessage, takeBackPlan } from "./take-back.ts";
import { answerChanged, compareWithLive } from "./up-to-date.ts";

/**
 * Applying one object: read what is live ({@link LiveIndex.find}: the shared LIST first), write
 * nothing when the live object already holds the desired values ({@link compareWithLive}),
 * otherwise a server-side apply of the desired object in the form the server stores, whose answer
 * says created, configured or unchanged ({@link answerChanged}); fields that hand edits took
 * over are taken back ({@link takeBackPlan}). Failures are entries.
 */

/** What applying one object needs besides the object; shared by every object of one apply. */
export interface ApplyRun {
  readonly ctx: SessionContext;
  readonly locator: Locator;
  readonly live: LiveIndex;
  readonly stack: StackRef;
  readonly force: boolean;
  readonly dryRun: boolean;
  readonly signal?: AbortSignal;
  /** Kinds (`group/Kind`) that CustomResourceDefinitions of this apply define but that are not served yet, with why. */
  readonly pendingKinds: ReadonlyMap<string, string>;
  /** Namespaces this apply creates, which a dry run cannot put objects in. */
  readonly pendingNamespaces: ReadonlySet<string>;
}

/** One object's entry, and the object as it is (or would be) afterwards when known. */
export interface ObjectOutcome {
  readonly entry: ChangeSetEntry;
  readonly object?: KObject;
}

/** Applies one object; never throws but for cancellation. */
export async function applyObject(run: ApplyRun, d: DesiredObject): Promise<ObjectOutcome> {
  const { ctx, signal } = run;
  const object = normalizeForApply(d.object);
  let loc: ObjectLocation;
  try {
    loc = await run.locator.locate(d.ref, d.apiVersion, signal);
  } catch (err: unknown) {
    rethrowIfAborted(signal);
    return { entry: unresolved(run, d, err) };
  }
  try {
    const before = await run.live.find(loc, signal);
    if (before !== undefined) {
      const foreign = otherOwner(before, run.stack);
      if (foreign !== undefined && !run.force) {
        return { entry: entry(d.ref, d.apiVersion, "failed", `owned by ${foreign}; apply with --force-conflicts to take it over`) };
      }
      if (compareWithLive(before, object, d.apiVersion, ctx.settings.fieldManager).upToDate) {
        return { entry: entry(d.ref, d.apiVersion, "unchanged"), object: before };
      }
    }
    const { result, tookBack } = await applyTakingBack(run, loc, object);
    const changed = answerChanged(before, result.object, { dryRun: run.dryRun, manager: ctx.settings.fieldManager });
    const action = result.created ? "created" : changed ? "configured" : "unchanged";
    return { entry: entry(d.ref, d.apiVersion, action, tookBack === undefined ? undefined : takeBackMessage(tookBack, run.dryRun)), object: result.object };
  } catch (err: unknown) {
    rethrowIfAborted(signal);
    if (run.dryRun && isApiError(err, "NotFound") && loc.namespace !== undefined && run.pendingNamespaces.has(loc.namespace)) {
      return { entry: entry(d.ref, d.apiVersion, "created", `dry run: not checked by the server, namespace ${loc.namespace} is created by this apply`) };
    }
    return { entry: failedEntry(d.ref, d.apiVersion, err) };
  }
}

/**
 * A server-side apply. On a field conflict that Update-operation writers alone hold
 * ({@link takeBackPlan}, read from the object as it is now), the same apply again with force,
 * on the resourceVersion just read, so a writer that came in between is never overridden
 * unseen (the server answers Conflict, and it starts over once). Any other conflict is thrown.
 */
async function applyTakingBack(run: ApplyRun, loc: ObjectLocation, object: KObject): Promise<{ result: ApplyResult; tookBack?: TakeBack }> {
  const { ctx, signal } = run;
  const manager = ctx.settings.fieldManager;
  const opts = { fieldManager: manager, dryRun: run.dryRun, ...(signal === undefined ? {} : { signal }) };
  for (let attempt = 1; ; attempt++) {
    let conflict: KubeApiError;
    try {
      return { result: await ctx.client.applyPatch(loc, object, { ...opts, force: run.force }) };
    } catch (err: unknown) {
      if (run.force || !isApiError(err, ApiErrorKind.ApplyConflict)) throw err;
      conflict = err;
    }
    const live = await readForTakeBack(run, loc);
    const plan = live === undefined ? undefined : takeBackPlan(live, conflict.conflicts, manager);
    const resourceVersion = getPath(live, ["metadata", "resourceVersion"]);
    if (plan === undefined || typeof resourceVersion !== "string") throw conflict;
    try {
      return { result: await ctx.client.applyPatch(loc, withResourceVersion(object, resourceVersion), { ...opts, force: true }), tookBack: plan };
    } catch (err: unknown) {
      if (attempt < 2 && isApiError(err, ApiErrorKind.Conflict)) continue;
      throw err;
    }
  }
}

// The object as it is now; when it cannot be read, nothing is taken back and the conflict stands.
async function readForTakeBack(run: ApplyRun, loc: ObjectLocation): Promise<KObject | undefined> {
  try {
    return await run.ctx.client.get(loc, run.signal);
  } catch {
    rethrowIfAborted(run.signal);
    return undefined;
  }
}

// A resourceVersion in an applied object is a precondition: the apply fails with Conflict if the object moved on.
function withResourceVersion(object: KObject, resourceVersion: string): KObject {
  const meta = isRecord(object["metadata"]) ? object["metadata"] : {};
  return { ...object, metadata: { ...meta, resourceVersion } };
}

// An unknown kind that a CRD of this apply defines is pending, not unknown.
function unresolved(run: ApplyRun, d: DesiredObject, err: unknown): ChangeSetEntry {
  const pending = err instanceof UnknownKindError ? run.pendingKinds.get(`${d.ref.group}/${d.ref.kind}`) : undefined;
  if (pending === undefined) return failedEntry(d.ref, d.apiVersion, err);
  if (run.dryRun) return entry(d.ref, d.apiVersion, "created", `dry run: not checked by the server, ${pending}`);
  return entry(d.ref, d.apiVersion, "failed", `kind ${d.apiVersion} ${d.ref.kind} is not served: ${pending}`);
}

/** `stack web in environment dev` when the object carries another stack's labels. */
export function otherOwner(live: KObject, stack: StackRef): string | undefined {
  const s = getPath(live, ["metadata", "labels", stackLabel]);
  const e = getPath(live, ["metadata", "labels", environmentLabel]);
  if (typeof s !== "string" && typeof e !== "string") return undefined;
  if (s === stack.stack && e === stack.environment) return undefined;
  return `stack ${typeof s === "string" ? s : "(none)"} in environment ${typeof e === "string" ? e : "(none)"}`;
}

