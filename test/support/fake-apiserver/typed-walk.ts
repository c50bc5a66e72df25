import type { FieldPath } from "./field-path.ts";
import { elementId, listItemElement, pathString } from "./field-path.ts";
import { FieldSet } from "./field-set.ts";
import type { TypeNode, TypeRef, TypeResolver } from "./type-model.ts";
import { canonicalQuantity } from "./quantity.ts";
import { deduceNode } from "./type-model.ts";
import { isObject } from "./values.ts";

/**
 * Checks a value against its type as structured-merge-diff does when it builds a typed apply
 * patch, and returns its errors as `<path>: <message>` lines, e.g.
 * `.spec.replicas: expected numeric (int or float), got string`.
 */
export function typeErrors(types: TypeResolver, root: TypeRef, value: unknown): string[] {
  const errors: string[] = [];
  validate(types, root, value, [], errors);
  return errors;
}

function validate(types: TypeResolver, ref: TypeRef, value: unknown, path: FieldPath, errors: string[]): void {
  if (value === null || value === undefined) return;
  const node = deduceNode(types.resolve(ref), value);
  const at = pathString(path);
  switch (node.kind) {
    case "untyped":
      return;
    case "scalar": {
      const problem = scalarProblem(node.scalar, value);
      if (problem !== undefined) errors.push(`${at}: ${problem}`);
      return;
    }
    case "map": {
      if (!isObject(value)) return void errors.push(`${at}: expected map, got &{${goValue(value)}}`);
      for (const key of Object.keys(value).sort()) {
        const child = node.fields?.get(key) ?? node.element;
        if (child === undefined) {
          errors.push(`${pathString([...path, { field: key }])}: field not declared in schema`);
          return;
        }
        validate(types, child, value[key], [...path, { field: key }], errors);
      }
      return;
    }
    case "list": {
      if (!Array.isArray(value)) return void errors.push(`${at}: expected list, got &{${goValue(value)}}`);
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const pe = listItemElement(node, item, i, types);
        if ("error" in pe) return void errors.push(`${pathString([...path, { index: i }])}: ${pe.error}`);
        const id = elementId(pe);
        if (seen.has(id)) errors.push(`${at}: duplicate entries for key ${pathString([pe])}`);
        seen.add(id);
        validate(types, node.element, item, [...path, pe], errors);
      });
    }
  }
}

function scalarProblem(scalar: string, value: unknown): string | undefined {
  switch (scalar) {
    case "numeric":
      return typeof value === "number" ? undefined : `expected numeric (int or float), got ${goTypeName(value)}`;
    case "string":
      return typeof value === "string" ? undefined : `expected string, got &value.valueUnstructured{Value:${goValue(value)}}`;
    case "boolean":
      return typeof value === "boolean" ? undefined : `expected boolean, got &{${goValue(value)}}`;
    default:
      return undefined;
  }
}

function goTypeName(value: unknown): string {
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return "[]interface {}";
  if (isObject(value)) return "map[string]interface {}";
  return typeof value === "number" ? (Number.isInteger(value) ? "int64" : "float64") : "<nil>";
}

function goValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[]interface {}{${value.map(goValue).join(", ")}}`;
  if (isObject(value)) {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${goValue(value[k])}`);
    return `map[string]interface {}{${entries.join(", ")}}`;
  }
  return String(value);
}

/**
 * The fields a value sets, as structured-merge-diff's ToFieldSet computes them for an Apply
 * entry: leaves, list items, map entries that are not declared fields, and empty or null maps.
 */
export function toFieldSet(types: TypeResolver, root: TypeRef, value: unknown): FieldSet {
  const set = new FieldSet();
  collect(types, root, value, [], set);
  return set;
}

function collect(types: TypeResolver, ref: TypeRef, value: unknown, path: FieldPath, set: FieldSet): void {
  const node = deduceNode(types.resolve(ref), value);
  if (node.kind === "scalar" || node.kind === "untyped" || (node.kind !== "list" && node.atomic)) {
    set.insert(path);
    return;
  }
  if (node.kind === "list") {
    if (node.relationship === "atomic") return void set.insert(path);
    if (!Array.isArray(value)) return;
    value.forEach((item, i) => {
      const pe = listItemElement(node, item, i, types);
      if ("error" in pe) return;
      collect(types, node.element, item, [...path, pe], set);
      set.insert([...path, pe]);
    });
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const childType = node.fields?.get(key) ?? node.element;
    if (childType === undefined) continue;
    const childPath = [...path, { field: key }];
    collect(types, childType, child, childPath, set);
    const empty = child === null || (isObject(child) && Object.keys(child).length === 0);
    if (empty || node.fields?.has(key) !== true) set.insert(childPath);
  }
}

/**
 * A copy of `set` in which declared struct fields that have owned children are members too
 * (structured-merge-diff's EnsureNamedFieldsAreMembers), which is how pruning decides that a
 * struct nobody owns anything under can go.
 */
export function ensureNamedFields(types: TypeResolver, root: TypeRef, set: FieldSet): FieldSet {
  const out = set.copy();
  mark(types, types.resolve(root), out);
  return out;
}

function mark(types: TypeResolver, node: TypeNode, set: FieldSet): void {
  for (const { pe, node: child } of set.children.values()) {
    let childType: TypeRef | undefined;
    if (node.kind === "map" && "field" in pe) {
      childType = node.fields?.get(pe.field) ?? node.element;
      if (node.fields?.has(pe.field) === true && child.children.size > 0) child.member = true;
    } else if (node.kind === "list") {
      childType = node.element;
    }
    if (childType !== undefined) mark(types, types.resolve(childType), child);
  }
}

/** A copy without the fields its type does not declare, as decoding into a Go struct drops them. */
export function pruneUndeclared(types: TypeResolver, root: TypeRef, value: unknown): unknown {
  const node = deduceNode(types.resolve(root), value);
  if (node.kind === "map" && isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const childType = node.fields?.get(key) ?? node.element;
      if (childType !== undefined) out[key] = pruneUndeclared(types, childType, child);
    }
    return out;
  }
  if (node.kind === "list" && Array.isArray(value)) return value.map((item) => pruneUndeclared(types, node.element, item));
  return value;
}

/**
 * A copy in which every resource.Quantity holds the text the server stores ({@link canonicalQuantity}),
 * as decoding into the Go types does; a value that is no quantity is left as it is.
 */
export function canonicalizeQuantities(types: TypeResolver, root: TypeRef, value: unknown): unknown {
  const node = deduceNode(types.resolve(root), value);
  if (node.kind === "untyped" && node.quantity === true) return canonicalQuantity(value) ?? value;
  if (node.kind === "map" && isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const childType = node.fields?.get(key) ?? node.element;
      out[key] = childType === undefined ? child : canonicalizeQuantities(types, childType, child);
    }
    return out;
  }
  if (node.kind === "list" && Array.isArray(value)) return value.map((item) => canonicalizeQuantities(types, node.element, item));
  return value;
}
