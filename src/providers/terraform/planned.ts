import type { KObject } from "../../core/object.ts";
import type { ObjRef } from "../../core/objref.ts";
import { terraformApiVersion, terraformGroup } from "../../core/terraform-objects.ts";
import type { Action, ChangeSetEntry, DesiredObject, DiffEntry } from "../provider.ts";
import type { ResourceChange } from "./types.ts";

/** The annotation on a planned-change object that says what the plan does to the resource. */
export const actionAnnotation = "terraform.gitward.dev/action";
/** The annotation holding why a replace is needed, when Terraform says. */
export const replaceReasonAnnotation = "terraform.gitward.dev/replace-reason";
/** The annotation holding the module address of a resource outside the root module. */
export const moduleAnnotation = "terraform.gitward.dev/module";

/** The identity of a resource address as gitward's objects name it: group terraform.gitward.dev, kind the resource type. */
export function resourceRef(change: Pick<ResourceChange, "type" | "address">): ObjRef {
  return { group: terraformGroup, kind: change.type, name: change.address };
}

/**
 * A planned resource change in the KRM shape policies read: `kind` the resource type,
 * `metadata.name` the address, `spec` the planned values (the values before, for a delete),
 * `status.before` the values before, and the action in {@link actionAnnotation}. Sensitive
 * values are already masked by the workspace.
 */
export function plannedObject(change: ResourceChange): KObject {
  const annotations: Record<string, string> = {
    [actionAnnotation]: change.action,
    ...(change.replaceReason === undefined ? {} : { [replaceReasonAnnotation]: change.replaceReason }),
    ...(change.module === undefined ? {} : { [moduleAnnotation]: change.module }),
  };
  const spec = change.action === "delete" ? change.before : change.after;
  return {
    apiVersion: terraformApiVersion,
    kind: change.type,
    metadata: { name: change.address, annotations },
    spec: isObject(spec) ? spec : {},
    status: { before: isObject(change.before) ? change.before : {} },
  };
}

function isObject(v: unknown): v is KObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The changes that do something (no-ops and data reads are not changes gitward reports). */
export function effectiveChanges(changes: readonly ResourceChange[]): ResourceChange[] {
  return changes.filter((c) => c.action !== "no-op" && c.action !== "read");
}

/** A planned change as a diff entry: a replace is an update whose diff says so first. */
export function diffEntryOf(change: ResourceChange): DiffEntry {
  const action: DiffEntry["action"] = change.action === "replace" ? "update" : change.action === "read" ? "no-op" : change.action;
  const head = change.action === "replace" ? `replace${change.replaceReason === undefined ? "" : ` (${change.replaceReason})`}\n` : "";
  const diff = `${head}${change.diff}`;
  return {
    ref: resourceRef(change), apiVersion: terraformApiVersion, action,
    ...(diff.trim() === "" ? {} : { diff }),
    planned: plannedObject(change),
  };
}

/** The planned changes as desired objects, for the engine's review (policies, gate). */
export function reviewObjects(changes: readonly ResourceChange[]): DesiredObject[] {
  return effectiveChanges(changes).map((c) => ({ ref: resourceRef(c), apiVersion: terraformApiVersion, object: plannedObject(c) }));
}

/** What applying a change did, in the provider contract's words; a replace is `configured` and says so. */
export function appliedEntry(change: ResourceChange, failed?: string): ChangeSetEntry {
  const base = { ref: resourceRef(change), apiVersion: terraformApiVersion };
  if (failed !== undefined) return { ...base, action: "failed", message: failed };
  const action: Action = change.action === "create" ? "created" : change.action === "delete" ? "deleted"
    : change.action === "update" || change.action === "replace" ? "configured" : "unchanged";
  return { ...base, action, ...(change.action === "replace" ? { message: "replaced" } : {}) };
}

/** The policy-relevant identity of a plan: each changed address with its action, sorted. */
export function planSignature(changes: readonly ResourceChange[]): string {
  return effectiveChanges(changes).map((c) => `${c.action} ${c.address}`).sort().join("\n");
}
