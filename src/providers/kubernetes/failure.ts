import { GitwardError } from "../../core/errors.ts";
import type { ObjRef } from "../../core/objref.ts";
import type { Action, ChangeSetEntry } from "../provider.ts";
import { ApiErrorKind, isApiError } from "./errors.ts";

/**
 * Per-object failures as data: an error becomes the message of a `failed` entry. Messages leave
 * out the object, which the entry already names, and end with what to do when there is a remedy.
 */

/** The hint a field conflict ends with. */
export const forceConflictsHint = "apply with --force-conflicts to take these fields over";

/** One line saying why an operation on an object failed. */
export function failureMessage(err: unknown): string {
  if (isApiError(err, ApiErrorKind.ApplyConflict)) return `${err.detail}; ${forceConflictsHint}`;
  if (err instanceof GitwardError) return err.hint === undefined ? err.detail : `${err.detail} (${err.hint})`;
  return err instanceof Error ? err.message : String(err);
}

/** A change-set entry. */
export function entry(ref: ObjRef, apiVersion: string, action: Action, message?: string): ChangeSetEntry {
  return { ref, apiVersion, action, ...(message === undefined ? {} : { message }) };
}

/** A `failed` entry for an error. */
export function failedEntry(ref: ObjRef, apiVersion: string, err: unknown): ChangeSetEntry {
  return entry(ref, apiVersion, "failed", failureMessage(err));
}

/** Rethrows when the signal aborted: cancellation ends the whole call, it is no object's failure. */
export function rethrowIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw signal.reason;
}
