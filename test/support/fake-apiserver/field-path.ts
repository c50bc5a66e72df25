import type { TypeNode, TypeResolver } from "./type-model.ts";
import { isObject } from "./values.ts";

/**
 * One step of a field path, as structured-merge-diff names them: a struct or map field, a
 * list-map item by its keys, a set item by its value, or an atomic list item by index.
 */
export type PathElement =
  | { readonly field: string }
  | { readonly key: readonly (readonly [string, unknown])[] }
  | { readonly value: unknown }
  | { readonly index: number };

/** A path from the object root. */
export type FieldPath = readonly PathElement[];

/** The FieldsV1 spelling of an element: `f:name`, `k:{"name":"web"}`, `v:"x"`, `i:0`. */
export function encodeElement(pe: PathElement): string {
  if ("field" in pe) return `f:${pe.field}`;
  if ("key" in pe) return `k:${JSON.stringify(Object.fromEntries(pe.key))}`;
  if ("value" in pe) return `v:${JSON.stringify(pe.value)}`;
  return `i:${pe.index}`;
}

/** Parses a FieldsV1 key back into an element; undefined for `.` and unknown prefixes. */
export function decodeElement(text: string): PathElement | undefined {
  const body = text.slice(2);
  switch (text.slice(0, 2)) {
    case "f:":
      return { field: body };
    case "k:": {
      const parsed = JSON.parse(body) as unknown;
      if (!isObject(parsed)) return undefined;
      return { key: Object.entries(parsed).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
    }
    case "v:":
      return { value: JSON.parse(body) as unknown };
    case "i:":
      return { index: Number(body) };
    default:
      return undefined;
  }
}

/** The human form used in conflict and type errors: `.spec.replicas`, `[name="web"]`, `[0]`. */
export function pathString(path: FieldPath): string {
  return path.map(elementString).join("");
}

function elementString(pe: PathElement): string {
  if ("field" in pe) return `.${pe.field}`;
  if ("key" in pe) return `[${pe.key.map(([k, v]) => `${k}=${valueString(v)}`).join(",")}]`;
  if ("value" in pe) return `[=${valueString(pe.value)}]`;
  return `[${pe.index}]`;
}

function valueString(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? "null";
}

/** Orders elements as structured-merge-diff does: fields, then keys, then values, then indexes. */
export function compareElements(a: PathElement, b: PathElement): number {
  const rank = (pe: PathElement) => ("field" in pe ? 0 : "key" in pe ? 1 : "value" in pe ? 2 : 3);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  const sa = encodeElement(a);
  const sb = encodeElement(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** The element naming item `index` of a list of type `list`, or an error message. */
export function listItemElement(
  list: TypeNode & { kind: "list" },
  item: unknown,
  index: number,
  types: TypeResolver,
): PathElement | { readonly error: string } {
  if (list.relationship === "atomic") return { index };
  if (list.relationship === "set") {
    if (typeof item === "object" && item !== null) return { error: "expected scalar value in set" };
    return { value: item };
  }
  if (!isObject(item)) return { error: `expected map, got ${JSON.stringify(item)}` };
  const element = types.resolve(list.element);
  const defaults = element.kind === "map" ? element.keyDefaults : undefined;
  const key: [string, unknown][] = [];
  for (const name of list.keys) {
    const value = Object.hasOwn(item, name) ? item[name] : defaults?.get(name);
    if (value === undefined) {
      return { error: `associative list with keys has an element that omits key field "${name}" (and doesn't have default value)` };
    }
    key.push([name, value]);
  }
  key.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { key };
}

/** The identity of an element as a string, for maps keyed by element. */
export function elementId(pe: PathElement): string {
  return encodeElement(pe);
}
