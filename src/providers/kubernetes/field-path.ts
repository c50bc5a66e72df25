import type { JsonValue } from "../../core/object.ts";
import { isRecord } from "../../core/object.ts";
import { jsonEqual } from "./json-equal.ts";

/**
 * Field paths and field sets in the `FieldsV1` form of `metadata.managedFields`
 * (structured-merge-diff): `f:<field>`, `k:{<key fields>}` for associative list items,
 * `v:<value>` for set items, `i:<index>` for list positions and `.` for the item itself.
 */

/** One step of a field path. */
export type PathElement =
  | { readonly field: string }
  | { readonly key: Readonly<Record<string, JsonValue>> }
  | { readonly value: JsonValue }
  | { readonly index: number };

/** A set of fields as a trie, parsed from `fieldsV1`. */
export interface FieldSet {
  /** `.` was present: the map or list item itself is owned. */
  readonly self: boolean;
  readonly children: readonly FieldSetChild[];
}

/** One child of a {@link FieldSet}. */
export interface FieldSetChild {
  readonly element: PathElement;
  readonly set: FieldSet;
}

const emptySet: FieldSet = { self: false, children: [] };

/** Parses a `fieldsV1` value. Malformed entries are left out; a non-object is the empty set. */
export function parseFieldsV1(raw: unknown): FieldSet {
  if (!isRecord(raw)) return emptySet;
  let self = false;
  const children: FieldSetChild[] = [];
  for (const [name, sub] of Object.entries(raw)) {
    if (name === ".") {
      self = true;
      continue;
    }
    const element = parseElement(name);
    if (element !== undefined) children.push({ element, set: parseFieldsV1(sub) });
  }
  return { self, children };
}

function parseElement(name: string): PathElement | undefined {
  const body = name.slice(2);
  try {
    if (name.startsWith("f:")) return { field: body };
    if (name.startsWith("k:")) {
      const key = JSON.parse(body) as unknown;
      return isRecord(key) ? { key } : undefined;
    }
    if (name.startsWith("v:")) return { value: JSON.parse(body) as JsonValue };
    if (name.startsWith("i:")) {
      const index = Number(body);
      return Number.isInteger(index) && index >= 0 ? { index } : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** True when the set owns the whole value at its path (an atomic value or a scalar). */
export function isLeaf(set: FieldSet): boolean {
  return set.children.length === 0 && !set.self;
}

/** The child of a set for a field name. */
export function fieldChild(set: FieldSet, field: string): FieldSet | undefined {
  for (const c of set.children) if ("field" in c.element && c.element.field === field) return c.set;
  return undefined;
}

/**
 * True when `candidate` (from a path being looked up) names the same step as `element` (from a
 * field set). A key matches when every key field the candidate has is equal: desired objects often
 * leave out defaulted key fields, such as a port's `protocol: TCP`.
 */
export function elementMatches(element: PathElement, candidate: PathElement): boolean {
  if ("field" in element) return "field" in candidate && candidate.field === element.field;
  if ("index" in element) return "index" in candidate && candidate.index === element.index;
  if ("value" in element) return "value" in candidate && jsonEqual(candidate.value, element.value);
  if (!("key" in candidate)) return false;
  const entries = Object.entries(candidate.key);
  return entries.length > 0 && entries.every(([k, v]) => jsonEqual(element.key[k], v));
}

/** True when the set owns the path: the path is in it, or runs through a leaf (an atomic value). */
export function ownsPath(set: FieldSet, path: readonly PathElement[]): boolean {
  let cur = set;
  for (const step of path) {
    if (isLeaf(cur) && cur !== set) return true;
    const next = cur.children.find((c) => elementMatches(c.element, step));
    if (next === undefined) return false;
    cur = next.set;
  }
  return true;
}

/** The union of field sets, as when one manager has entries for several API versions. */
export function unionFieldSets(sets: readonly FieldSet[]): FieldSet {
  if (sets.length === 1) return sets[0] as FieldSet;
  const children: { element: PathElement; sets: FieldSet[] }[] = [];
  for (const s of sets) {
    for (const c of s.children) {
      const same = children.find((x) => sameElement(x.element, c.element));
      if (same !== undefined) same.sets.push(c.set);
      else children.push({ element: c.element, sets: [c.set] });
    }
  }
  return {
    self: sets.some((s) => s.self),
    children: children.map((c) => ({ element: c.element, set: unionFieldSets(c.sets) })),
  };
}

function sameElement(a: PathElement, b: PathElement): boolean {
  if ("key" in a) return "key" in b && jsonEqual(a.key, b.key);
  return elementMatches(a, b);
}

/**
 * The path in the form the API server uses in conflicts: `.data.color`,
 * `.spec.containers[name="web"].image`, `.metadata.finalizers[="x"]`, `.args[0]`.
 */
export function formatPath(path: readonly PathElement[]): string {
  return path.map(formatElement).join("");
}

function formatElement(e: PathElement): string {
  if ("field" in e) return `.${e.field}`;
  if ("index" in e) return `[${e.index}]`;
  if ("value" in e) return `[=${JSON.stringify(e.value)}]`;
  const fields = Object.keys(e.key)
    .sort()
    .map((k) => `${k}=${JSON.stringify(e.key[k])}`);
  return `[${fields.join(",")}]`;
}
