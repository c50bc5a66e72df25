import type { KObject } from "../../core/object.ts";
import { getPath, isRecord } from "../../core/object.ts";
import type { RequestContext } from "./errors.ts";
import { KubeApiError } from "./errors.ts";

/**
 * The options, results and bodies of the object verbs of {@link KubeClient}: list pages,
 * server-side apply, DeleteOptions and what a delete answers.
 */

/** Options of a LIST. */
export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Page size; default 500, as kubectl. */
  readonly limit?: number;
  /** Stop after this many pages, the result then `truncated`; default: every page. */
  readonly maxPages?: number;
  readonly signal?: AbortSignal;
}

/** Every item of a collection, with `kind` and `apiVersion` filled in (the server leaves them out). */
export interface ListResult {
  readonly items: readonly KObject[];
  /** The list's resourceVersion, to watch from. */
  readonly resourceVersion: string;
  /** More pages follow, left unread because of `maxPages`. */
  readonly truncated?: true;
}

/** Options of a server-side apply; see {@link defaultApplyPatchOptions}. */
export interface ApplyPatchOptions {
  readonly fieldManager: string;
  /** Take ownership of fields other managers hold. */
  readonly force: boolean;
  /** `dryRun=All`: the server answers as if, and stores nothing. */
  readonly dryRun: boolean;
  readonly signal?: AbortSignal;
}

/** Field manager `gitward`, no force, no dry run. */
export function defaultApplyPatchOptions(): ApplyPatchOptions {
  return { fieldManager: "gitward", force: false, dryRun: false };
}

/** What an apply answered: the object as stored (or as it would be), and whether it was created. */
export interface ApplyResult {
  readonly object: KObject;
  /** 201: the apply created the object. */
  readonly created: boolean;
}

/** Options of a POST. */
export interface CreateOptions {
  readonly fieldManager?: string;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
}

/** Options of a DELETE. */
export interface DeleteOptions {
  /** Default: the server's (Background for most kinds). */
  readonly propagationPolicy?: "Foreground" | "Background" | "Orphan";
  /** The delete fails with a Conflict unless the object still has this uid / resourceVersion. */
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly gracePeriodSeconds?: number;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * What a delete did. `deleted`: gone (a Status Success); `deleting`: the object is still there
 * with a deletionTimestamp, waiting for finalizers or the garbage collector (Foreground, Orphan);
 * `not-found`: it was already gone.
 */
export interface DeleteResult {
  readonly outcome: "deleted" | "deleting" | "not-found";
  readonly object?: KObject;
}

/** The DeleteOptions body of a DELETE. */
export function deleteBody(opts: DeleteOptions): string {
  const body: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "v1" };
  if (opts.propagationPolicy !== undefined) body["propagationPolicy"] = opts.propagationPolicy;
  if (opts.preconditions !== undefined) body["preconditions"] = { ...opts.preconditions };
  if (opts.gracePeriodSeconds !== undefined) body["gracePeriodSeconds"] = opts.gracePeriodSeconds;
  if (opts.dryRun === true) body["dryRun"] = ["All"];
  return JSON.stringify(body);
}

/** Reads a DELETE answer: a Status Success, or the object still being deleted. */
export function deleteOutcome(answer: KObject): DeleteResult {
  if (answer["kind"] === "Status") return { outcome: "deleted" };
  return { outcome: "deleting", object: answer };
}

/** One page of a LIST: its items with kind and apiVersion, and the continue token if more follow. */
export function listPage(body: KObject, ctx: RequestContext): { items: KObject[]; resourceVersion: string; continueToken?: string } {
  const items = body["items"];
  if (!Array.isArray(items)) throw new KubeApiError({ kind: "Unknown", status: 200, text: "the answer is not a List (no items)" }, ctx);
  const listKind = typeof body["kind"] === "string" ? body["kind"] : "";
  const kind = listKind.endsWith("List") ? listKind.slice(0, -4) : undefined;
  const apiVersion = typeof body["apiVersion"] === "string" ? body["apiVersion"] : undefined;
  const out: KObject[] = [];
  for (const item of items) {
    if (!isRecord(item)) continue;
    out.push({ ...(kind === undefined ? {} : { kind }), ...(apiVersion === undefined ? {} : { apiVersion }), ...item });
  }
  const cont = getPath(body, ["metadata", "continue"]);
  const rv = getPath(body, ["metadata", "resourceVersion"]);
  return {
    items: out,
    resourceVersion: typeof rv === "string" ? rv : "",
    ...(typeof cont === "string" && cont !== "" ? { continueToken: cont } : {}),
  };
}
