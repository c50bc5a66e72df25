import type { KObject } from "../../core/object.ts";
import type { FieldConflict } from "./errors.ts";
import type { FieldSet, PathElement } from "./field-path.ts";
import { formatPath } from "./field-path.ts";
import { managedFieldsOf } from "./managed-fields.ts";

/**
 * Git wins over hand edits, not over another source of truth. When an apply conflicts, the
 * fields it conflicts on are looked up in the object's managedFields (structured data, never the
 * conflict's message): gitward takes them back, forcing the apply, only when every one of them
 * is held by Update-operation writers alone (`kubectl edit`, `patch`, `scale`, a controller or a
 * script writing with PUT or PATCH), none of them gitward itself. A field another applier holds
 * (a manager with an Apply entry: another GitOps tool, another stack) is a conflict between two
 * sources of truth and stays one: it is reported, and only `--force-conflicts` takes it.
 */

/** A writer that holds a field gitward takes back. */
export interface FieldOwner {
  readonly manager: string;
  /** Set when it wrote through a subresource (`scale`). */
  readonly subresource?: string;
}

/** The conflicting fields gitward may take back, each with the Update-operation writers that hold it. */
export interface TakeBack {
  readonly fields: readonly { readonly field: string; readonly owners: readonly FieldOwner[] }[];
}

/**
 * Whether the conflicts of an apply by `manager` may be taken back, from the live object's
 * managedFields: undefined unless every conflicting field is held, and held only by
 * Update-operation writers other than `manager`.
 */
export function takeBackPlan(live: KObject, conflicts: readonly FieldConflict[], manager: string): TakeBack | undefined {
  if (conflicts.length === 0) return undefined;
  const others = managedFieldsOf(live)
    .filter((e) => !(e.manager === manager && e.operation === "Apply" && e.subresource === undefined))
    .map((entry) => ({ entry, members: memberPaths(entry.fields) }));
  const fields: TakeBack["fields"][number][] = [];
  for (const field of new Set(conflicts.map((c) => c.field))) {
    const owners = others.filter((o) => o.members.has(field)).map((o) => o.entry);
    if (owners.length === 0) return undefined;
    if (owners.some((o) => o.operation !== "Update" || o.manager === manager)) return undefined;
    fields.push({ field, owners: owners.map((o) => ({ manager: o.manager, ...(o.subresource === undefined ? {} : { subresource: o.subresource }) })) });
  }
  return { fields };
}

/**
 * `took back .spec.minReadySeconds from kubectl-patch (Update)`, one group per writer;
 * `dry run: would take back …` for a dry run.
 */
export function takeBackMessage(plan: TakeBack, dryRun = false): string {
  const groups = new Map<string, string[]>();
  for (const { field, owners } of plan.fields) {
    for (const o of owners) {
      const label = `${o.manager} (Update${o.subresource === undefined ? "" : `, subresource ${o.subresource}`})`;
      groups.set(label, [...(groups.get(label) ?? []), field]);
    }
  }
  return `${dryRun ? "dry run: would take back" : "took back"} ${[...groups].map(([label, fields]) => `${fields.join(", ")} from ${label}`).join("; ")}`;
}

/**
 * The paths a field set has as members, in the form the API server names fields in conflicts
 * (`.spec.containers[name="web"].image`): its leaves and the items and maps marked with `.`.
 */
export function memberPaths(set: FieldSet): Set<string> {
  const out = new Set<string>();
  const walk = (s: FieldSet, path: PathElement[]): void => {
    for (const { element, set: sub } of s.children) {
      path.push(element);
      if (sub.self || sub.children.length === 0) out.add(formatPath(path));
      walk(sub, path);
      path.pop();
    }
  };
  walk(set, []);
  return out;
}
