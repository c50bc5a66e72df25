import type { JsonValue, KObject } from "../../core/object.ts";
import { getPath, isRecord } from "../../core/object.ts";
import type { Drift } from "../provider.ts";
import type { FieldSet, PathElement } from "./field-path.ts";
import { elementMatches, formatPath } from "./field-path.ts";
import { jsonEqual } from "./json-equal.ts";
import type { FieldDifference } from "./managed-fields.ts";
import { appliedFieldSet, driftOf, managedFieldsOf } from "./managed-fields.ts";
import { normalizeForApply } from "./normalize.ts";
import { cleanForDiff } from "./object-diff.ts";

/**
 * Whether an object differs from its manifest: the one decision `apply` and `diff` share. First
 * from the live object alone ({@link compareWithLive}, its managedFields and values in the form
 * the server stores them), which lets a no-op sync cost one LIST per kind and no write; then, for
 * an object that differs, from the server's answer to the apply or its dry run ({@link answerChanged}).
 */

/** What {@link compareWithLive} found. */
export interface LiveComparison {
  /** True when applying the desired object would change nothing and take nothing over. */
  readonly upToDate: boolean;
  /** Desired fields the manager's owned part of the live object does not match. */
  readonly differences: readonly FieldDifference[];
  /** Fields the manager owns that desired no longer has: an apply would release (and maybe delete) them. */
  readonly released: readonly string[];
  /** Desired fields another writer owns now, with who and when. */
  readonly drift: readonly Drift[];
  /** Why it is not up to date, in one line, when it is not. */
  readonly reason?: string;
}

/**
 * Compares a live object with the desired one through the manager's Apply entries, the desired
 * object taken in the form the server stores ({@link normalizeForApply}: canonical quantities,
 * a Secret's stringData as data). Up to date means: the manager applied this API version, every
 * desired field holds the desired value (owned by the manager, or a default or another writer's
 * value that is the same), nothing desired was taken over, and the manager owns nothing desired
 * has dropped.
 */
export function compareWithLive(live: KObject, desired: KObject, apiVersion: string, manager: string): LiveComparison {
  const entries = managedFieldsOf(live);
  const mine = entries.filter((e) => e.manager === manager && e.operation === "Apply" && e.subresource === undefined);
  const stored = normalizeForApply(desired);
  const report = driftOf(live, entries, stored, manager);
  const released = releasedFields(appliedFieldSet(entries, manager), stored);
  const base = { differences: report.differences, released, drift: report.drift };
  if (mine.length === 0) return { ...base, upToDate: false, reason: `never applied by ${manager}` };
  if (!mine.some((e) => e.apiVersion === undefined || e.apiVersion === apiVersion)) {
    return { ...base, upToDate: false, reason: `last applied as another API version (${mine.map((e) => e.apiVersion).join(", ")})` };
  }
  const first = report.differences[0];
  if (first !== undefined) return { ...base, upToDate: false, reason: `${first.field} ${first.kind}` };
  const dropped = released[0];
  if (dropped !== undefined) return { ...base, upToDate: false, reason: `${dropped} no longer desired` };
  return { ...base, upToDate: true };
}

/**
 * Whether the server's answer to an apply by `manager` changed the stored object, or for a dry
 * run would: a real apply moved the resourceVersion; a dry run answers the object as it would be
 * stored, so it would write when the object (status and server-written metadata aside) or the
 * manager's own managedFields entry differs from the live one (a write stamps the entry's time,
 * and taking fields over changes its field set).
 */
export function answerChanged(before: KObject | undefined, after: KObject, opts: { readonly dryRun: boolean; readonly manager: string }): boolean {
  if (before === undefined) return true;
  if (!opts.dryRun) return getPath(before, ["metadata", "resourceVersion"]) !== getPath(after, ["metadata", "resourceVersion"]);
  return !jsonEqual(cleanForDiff(before), cleanForDiff(after)) || !jsonEqual(appliedEntry(before, opts.manager), appliedEntry(after, opts.manager));
}

function appliedEntry(obj: KObject, manager: string): JsonValue | undefined {
  const entries = getPath(obj, ["metadata", "managedFields"]);
  if (!Array.isArray(entries)) return undefined;
  return entries.find((e) => isRecord(e) && e["manager"] === manager && e["operation"] === "Apply" && (e["subresource"] ?? "") === "");
}

/** The leaf paths of an owned field set that the desired object does not have (or sets to null). */
export function releasedFields(owned: FieldSet, desired: KObject): string[] {
  const out: string[] = [];
  walk(owned, desired, [], out);
  return out;
}

// `path` is one stack shared by the whole walk (pushed and popped), copied only for a finding.
function walk(set: FieldSet, value: JsonValue | undefined, path: PathElement[], out: string[]): void {
  for (const { element, set: sub } of set.children) {
    const child = childOf(value, element);
    path.push(element);
    if (child === undefined || child === null) out.push(formatPath(path));
    else if (sub.children.length > 0) walk(sub, child, path, out);
    path.pop();
  }
}

function childOf(value: JsonValue | undefined, element: PathElement): JsonValue | undefined {
  if ("field" in element) return isRecord(value) && Object.hasOwn(value, element.field) ? value[element.field] : undefined;
  if (!Array.isArray(value)) return undefined;
  if ("index" in element) return value[element.index];
  if ("value" in element) return value.find((v) => elementMatches(element, { value: v }));
  // Desired items may leave out defaulted key fields (a port's protocol), so match on those given.
  return value.find((item) => {
    if (!isRecord(item)) return false;
    const given = Object.fromEntries(Object.keys(element.key).filter((k) => item[k] !== undefined && item[k] !== null).map((k) => [k, item[k] as JsonValue]));
    return elementMatches(element, { key: given });
  });
}
