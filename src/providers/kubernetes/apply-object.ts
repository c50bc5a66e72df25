import type { KObject } from "../../core/object.ts";
import { getPath } from "../../core/object.ts";
import type { ChangeSetEntry, DesiredObject, StackRef } from "../provider.ts";
import { UnknownKindError } from "./discovery.ts";
import { isApiError } from "./errors.ts";
import { entry, failedEntry, rethrowIfAborted } from "./failure.ts";
import { jsonEqual } from "./json-equal.ts";
import { normalizeForApply } from "./normalize.ts";
import type { LiveIndex, Locator } from "./live-objects.ts";
import { cleanForDiff } from "./object-diff.ts";
import { environmentLabel, stackLabel } from "./ownership.ts";
import type { ObjectLocation } from "./resource-path.ts";
import type { SessionContext } from "./session-context.ts";
import { compareWithLive } from "./up-to-date.ts";

/**
 * Applying one object: read what is live ({@link LiveIndex.find}: the shared LIST first), write
 * nothing when gitward's fields already hold the desired values, otherwise a server-side apply
 * whose answer says created, configured or unchanged. Failures are entries.
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
    const res = await ctx.client.applyPatch(loc, object, {
      fieldManager: ctx.settings.fieldManager, force: run.force, dryRun: run.dryRun, ...(signal === undefined ? {} : { signal }),
    });
    const action = res.created ? "created" : changed(before, res.object, run.dryRun) ? "configured" : "unchanged";
    return { entry: entry(d.ref, d.apiVersion, action), object: res.object };
  } catch (err: unknown) {
    rethrowIfAborted(signal);
    if (run.dryRun && isApiError(err, "NotFound") && loc.namespace !== undefined && run.pendingNamespaces.has(loc.namespace)) {
      return { entry: entry(d.ref, d.apiVersion, "created", `dry run: not checked by the server, namespace ${loc.namespace} is created by this apply`) };
    }
    return { entry: failedEntry(d.ref, d.apiVersion, err) };
  }
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

// A real apply changed the object when its resourceVersion moved; a dry run never moves it, so compare contents.
function changed(before: KObject | undefined, after: KObject, dryRun: boolean): boolean {
  if (before === undefined) return true;
  if (!dryRun) return getPath(before, ["metadata", "resourceVersion"]) !== getPath(after, ["metadata", "resourceVersion"]);
  return !jsonEqual(cleanForDiff(before), cleanForDiff(after));
}
