import type { FieldPath, PathElement } from "./field-path.ts";
import { elementId, listItemElement } from "./field-path.ts";
import { FieldSet } from "./field-set.ts";
import type { TypeNode, TypeRef, TypeResolver } from "./type-model.ts";
import { deduceNode } from "./type-model.ts";
import type { JsonObject } from "./values.ts";
import { deepEqual, isObject } from "./values.ts";

/** What changed between two objects, per path (structured-merge-diff's Comparison). */
export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

/** True when nothing changed. */
export function isSame(c: Comparison): boolean {
  return c.added.isEmpty() && c.modified.isEmpty() && c.removed.isEmpty();
}

interface Hooks {
  /** Called for leaves: scalars, atomic values, and maps empty on both sides. */
  leaf?(path: FieldPath, lhs: unknown, rhs: unknown): void;
  /** Called for every non-leaf node below the root, after its children. */
  item?(path: FieldPath, lhs: unknown, rhs: unknown): void;
}

/**
 * Merges `rhs` into `lhs` by type, as server-side apply merges an applied configuration into
 * the live object: maps and list-map items merge recursively, atomic values are replaced.
 * `undefined` means absent; `null` is a present null.
 */
export function mergeTyped(types: TypeResolver, root: TypeRef, lhs: unknown, rhs: unknown): unknown {
  return walk(types, root, lhs, rhs, [], {});
}

/** The paths added, modified and removed going from `lhs` to `rhs`. */
export function compareTyped(types: TypeResolver, root: TypeRef, lhs: unknown, rhs: unknown): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  walk(types, root, lhs, rhs, [], {
    leaf(path, l, r) {
      if (l === undefined) c.added.insert(path);
      else if (r === undefined) c.removed.insert(path);
      else if (!deepEqual(l, r)) c.modified.insert(path);
    },
    item(path, l, r) {
      if (l === undefined) c.added.insert(path);
      else if (r === undefined) c.removed.insert(path);
    },
  });
  return c;
}

function walk(types: TypeResolver, ref: TypeRef, lhs: unknown, rhs: unknown, path: FieldPath, hooks: Hooks): unknown {
  const declared = types.resolve(ref);
  const node = deduceNode(declared, rhs ?? lhs);
  const lhsNode = deduceNode(declared, lhs ?? rhs);
  const leaf = () => {
    if (path.length > 0) hooks.leaf?.(path, lhs, rhs);
    return rhs === undefined ? lhs : rhs;
  };
  if (node.kind !== lhsNode.kind || node.kind === "scalar" || node.kind === "untyped") return leaf();
  if (node.kind === "map") {
    if (node.atomic || (isEmptyMap(lhs) && isEmptyMap(rhs))) return leaf();
    if (rhs === null) return leaf();
    const out = walkMap(types, node, lhs, rhs, path, hooks);
    if (path.length > 0) hooks.item?.(path, lhs, rhs);
    return out;
  }
  if (node.relationship === "atomic") return leaf();
  if (rhs === null) return leaf();
  const out = walkList(types, node, lhs, rhs, path, hooks);
  if (path.length > 0) hooks.item?.(path, lhs, rhs);
  return out;
}

function isEmptyMap(value: unknown): boolean {
  return value === undefined || value === null || (isObject(value) && Object.keys(value).length === 0);
}

function walkMap(
  types: TypeResolver,
  node: TypeNode & { kind: "map" },
  lhs: unknown,
  rhs: unknown,
  path: FieldPath,
  hooks: Hooks,
): JsonObject {
  const l = isObject(lhs) ? lhs : {};
  const r = isObject(rhs) ? rhs : {};
  const out: JsonObject = {};
  for (const key of new Set([...Object.keys(l), ...Object.keys(r)])) {
    const childType = node.fields?.get(key) ?? node.element;
    const lv = Object.hasOwn(l, key) ? l[key] : undefined;
    const rv = Object.hasOwn(r, key) ? r[key] : undefined;
    const merged = childType === undefined ? (rv === undefined ? lv : rv) : walk(types, childType, lv, rv, [...path, { field: key }], hooks);
    if (merged !== undefined) out[key] = merged;
  }
  return out;
}

interface Indexed {
  readonly pes: PathElement[];
  readonly byId: Map<string, unknown>;
}

function index(types: TypeResolver, node: TypeNode & { kind: "list" }, value: unknown): Indexed {
  const pes: PathElement[] = [];
  const byId = new Map<string, unknown>();
  if (!Array.isArray(value)) return { pes, byId };
  value.forEach((item, i) => {
    const pe = listItemElement(node, item, i, types);
    if ("error" in pe) throw new Error(pe.error);
    const id = elementId(pe);
    if (byId.has(id)) return;
    pes.push(pe);
    byId.set(id, item);
  });
  return { pes, byId };
}

// The item order of structured-merge-diff's merge: the applied order for shared and new items,
// with live-only items kept where they were.
function walkList(
  types: TypeResolver,
  node: TypeNode & { kind: "list" },
  lhs: unknown,
  rhs: unknown,
  path: FieldPath,
  hooks: Hooks,
): unknown[] {
  const l = index(types, node, lhs);
  const r = index(types, node, rhs);
  const out: unknown[] = [];
  const item = (pe: PathElement, lv: unknown, rv: unknown) => {
    const merged = walk(types, node.element, lv, rv, [...path, pe], hooks);
    if (merged !== undefined) out.push(merged);
  };
  const shared = r.pes.filter((pe) => l.byId.has(elementId(pe)));
  let next = shared.shift();
  let li = 0;
  let ri = 0;
  while (li < l.pes.length || ri < r.pes.length) {
    const lpe = l.pes[li];
    const rpe = r.pes[ri];
    if (lpe !== undefined && rpe !== undefined) {
      const id = elementId(lpe);
      if (id === elementId(rpe)) {
        item(lpe, l.byId.get(id), r.byId.get(id));
        li++;
        ri++;
        next = shared.shift();
        continue;
      }
      if (r.byId.has(id) && next !== undefined && elementId(next) !== id) {
        li++;
        continue;
      }
    }
    if (lpe !== undefined && !r.byId.has(elementId(lpe))) {
      item(lpe, l.byId.get(elementId(lpe)), undefined);
      li++;
      continue;
    }
    if (rpe !== undefined) {
      const id = elementId(rpe);
      item(rpe, l.byId.get(id), r.byId.get(id));
      ri++;
      if (next !== undefined && elementId(next) === id) next = shared.shift();
      continue;
    }
    li++;
  }
  return out;
}

/** A copy of `value` without the fields and list items that are members of `set`. */
export function removeItems(types: TypeResolver, root: TypeRef, value: unknown, set: FieldSet): unknown {
  return remove(types, types.resolve(root), value, set);
}

function remove(types: TypeResolver, declared: TypeNode, value: unknown, set: FieldSet): unknown {
  const node = deduceNode(declared, value);
  if (node.kind === "map" && isObject(value)) {
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) {
      const sub = set.nodeAt([{ field: key }]);
      if (sub?.member === true) continue;
      const childType = node.fields?.get(key) ?? node.element;
      out[key] = sub === undefined || childType === undefined ? child : remove(types, types.resolve(childType), child, sub);
    }
    return out;
  }
  if (node.kind === "list" && Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((item, i) => {
      const pe = listItemElement(node, item, i, types);
      const sub = "error" in pe ? undefined : set.nodeAt([pe]);
      if (sub?.member === true) return;
      out.push(sub === undefined ? item : remove(types, types.resolve(node.element), item, sub));
    });
    return out;
  }
  return value;
}
