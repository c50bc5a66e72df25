import { pathString } from "./field-path.ts";
import type { FieldSet } from "./field-set.ts";
import type { ManagerEntry, Managers } from "./managed-fields.ts";
import { managerId, stripMeta } from "./managed-fields.ts";
import type { TypeRef, TypeResolver } from "./type-model.ts";
import { compareTyped, isSame, mergeTyped, removeItems } from "./typed-merge.ts";
import { ensureNamedFields, toFieldSet } from "./typed-walk.ts";

/** What an apply or update works with: the types of the object and who is writing. */
export interface FieldOwnership {
  readonly types: TypeResolver;
  readonly root: TypeRef;
  readonly manager: string;
  readonly apiVersion: string;
  /** "" for the main resource, "status" for the status subresource. */
  readonly subresource: string;
  /** The current time, formatted for managedFields; undefined for writes the server records without one (scale). */
  readonly time: string | undefined;
  /** Narrows a field set to what this endpoint may own (status is reset on the main resource). */
  readonly scope: (set: FieldSet) => FieldSet;
}

/** One conflict of an apply: the other manager and the field. */
export interface Conflict {
  readonly manager: ManagerEntry;
  readonly path: string;
}

/** The outcome of an apply: the merged object, or the conflicts that stopped it. */
export type ApplyResult = { readonly object: unknown; readonly managers: Managers } | { readonly conflicts: readonly Conflict[] };

/**
 * An Update operation (create, PUT, merge/strategic/JSON patch): never conflicts; the writer
 * takes the fields it added or changed from everyone, and removed fields leave every entry.
 */
export function recordUpdate(own: FieldOwnership, live: unknown, next: unknown, managers: Managers): Managers {
  const out = new Map(managers);
  const c = compareTyped(own.types, own.root, live, next);
  const changed = own.scope(stripMeta(c.modified.union(c.added)));
  const removed = c.removed;
  for (const [id, entry] of out) {
    const set = entry.set.difference(changed).difference(removed);
    if (set.isEmpty()) out.delete(id);
    else out.set(id, { ...entry, set });
  }
  if (changed.isEmpty()) return out;
  const id = managerId({ manager: own.manager, operation: "Update", apiVersion: own.apiVersion, subresource: own.subresource });
  const previous = out.get(id);
  const set = previous === undefined ? changed : changed.union(previous.set);
  out.set(id, { manager: own.manager, operation: "Update", apiVersion: own.apiVersion, subresource: own.subresource, time: own.time, set });
  return out;
}

/**
 * A server-side apply: merges `config` into `live`, makes the applier own exactly what it sent,
 * removes what it alone owned and no longer sends, and reports conflicts with other managers
 * over fields whose value it would change (unless `force`, which takes them over).
 */
export function applyConfig(own: FieldOwnership, live: unknown, config: unknown, managers: Managers, force: boolean): ApplyResult {
  const id = managerId({ manager: own.manager, operation: "Apply", apiVersion: own.apiVersion, subresource: own.subresource });
  const last = managers.get(id);
  const applied = own.scope(stripMeta(toFieldSet(own.types, own.root, config)));
  let merged = mergeTyped(own.types, own.root, live, config);
  if (last !== undefined) {
    let kept = applied;
    for (const [otherId, entry] of managers) if (otherId !== id) kept = kept.union(entry.set);
    const stale = ensureNamedFields(own.types, own.root, last.set).difference(ensureNamedFields(own.types, own.root, kept));
    merged = removeItems(own.types, own.root, merged, stale);
  }
  const c = compareTyped(own.types, own.root, live, merged);
  const changed = own.scope(c.modified.union(c.added));
  const conflicts: Conflict[] = [];
  for (const [otherId, entry] of managers) {
    if (otherId === id) continue;
    for (const path of entry.set.intersection(changed).paths()) conflicts.push({ manager: entry, path: pathString(path) });
  }
  if (conflicts.length > 0 && !force) return { conflicts };
  const out: Managers = new Map();
  for (const [otherId, entry] of managers) {
    if (otherId === id) continue;
    const set = entry.set.difference(changed).difference(c.removed);
    if (!set.isEmpty()) out.set(otherId, { ...entry, set });
  }
  if (!applied.isEmpty()) {
    // Only a write that changes the object or what the applier owns stamps its time: a no-op keeps
    // it (08-normalization/09), spelling out defaulted values takes them and stamps it (15).
    const sameFields = last !== undefined && last.set.difference(applied).isEmpty() && applied.difference(last.set).isEmpty();
    const time = isSame(c) && sameFields ? last.time : own.time;
    out.set(id, { manager: own.manager, operation: "Apply", apiVersion: own.apiVersion, subresource: own.subresource, time, set: applied });
  }
  return { object: isSame(c) ? live : merged, managers: out };
}

/** The conflict message and causes the API server answers with (409). */
export function conflictStatus(conflicts: readonly Conflict[]): { message: string; causes: { reason: string; message: string; field: string }[] } {
  const sorted = [...conflicts].sort((a, b) => (a.manager.manager === b.manager.manager ? (a.path < b.path ? -1 : 1) : a.manager.manager < b.manager.manager ? -1 : 1));
  const causes = sorted.map((c) => ({ reason: "FieldManagerConflict", message: `conflict with ${printManager(c.manager)}`, field: c.path }));
  const first = sorted[0];
  if (sorted.length === 1 && first !== undefined) {
    return { message: `Apply failed with 1 conflict: conflict with ${printManager(first.manager)}: ${first.path}`, causes };
  }
  const lines: string[] = [];
  let current: string | undefined;
  for (const c of sorted) {
    const who = printManager(c.manager);
    if (who !== current) lines.push(`conflicts with ${who}:`);
    current = who;
    lines.push(`- ${c.path}`);
  }
  return { message: `Apply failed with ${sorted.length} conflicts: ${lines.join("\n")}`, causes };
}

function printManager(e: ManagerEntry): string {
  let text = JSON.stringify(e.manager);
  if (e.subresource !== "") text += ` with subresource ${JSON.stringify(e.subresource)}`;
  return e.operation === "Update" ? `${text} using ${e.apiVersion}` : text;
}
