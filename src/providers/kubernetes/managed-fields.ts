import type { JsonValue, KObject } from "../../core/object.ts";
import { getPath, isRecord } from "../../core/object.ts";
import type { Drift } from "../provider.ts";
import type { FieldSet, PathElement } from "./field-path.ts";
import { formatPath, ownsPath, parseFieldsV1, unionFieldSets } from "./field-path.ts";
import { jsonContains, jsonEqual } from "./json-equal.ts";

/**
 * Drift from `metadata.managedFields`, without a request per object: (a) the part of the live
 * object gitward's Apply entry owns is extracted, (b) compared with the desired object, and (c)
 * the desired fields another manager owns now are reported as drift, with that manager and time.
 */

/** The field manager gitward applies with. */
export const gitwardFieldManager = "gitward";

/** One entry of `metadata.managedFields`, with its field set parsed. */
export interface ManagedFieldsEntry {
  readonly manager: string;
  /** `Apply` or `Update`. */
  readonly operation: string;
  readonly apiVersion?: string;
  readonly time?: string;
  /** `status` for writes to the status subresource. */
  readonly subresource?: string;
  readonly fields: FieldSet;
}

/** How lists are merged, learnt from the field sets: by key fields, as sets, or whole. */
export type ListShapes = ReadonlyMap<string, { readonly keys: readonly string[] } | "set">;

/** A desired field the owned part of the live object does not match. */
export interface FieldDifference {
  readonly path: readonly PathElement[];
  /** The path as the API server writes it, e.g. `.data.color`. */
  readonly field: string;
  /** `missing`: not in the owned part; `changed`: there with another value. */
  readonly kind: "missing" | "changed";
  readonly desired: JsonValue;
  readonly owned?: JsonValue;
}

/** What {@link detectDrift} found. */
export interface DriftReport {
  /** The part of the live object the manager owns. */
  readonly owned: KObject;
  /** Desired fields the owned part does not match; empty means an apply would change nothing. */
  readonly differences: readonly FieldDifference[];
  /** Desired fields another manager owns now. */
  readonly drift: readonly Drift[];
}

/** Reads the entries of `metadata.managedFields`; malformed entries are left out. */
export function managedFieldsOf(live: KObject): ManagedFieldsEntry[] {
  const raw = getPath(live, ["metadata", "managedFields"]);
  if (!Array.isArray(raw)) return [];
  const out: ManagedFieldsEntry[] = [];
  for (const e of raw) {
    if (!isRecord(e) || typeof e["manager"] !== "string" || typeof e["operation"] !== "string") continue;
    if (e["fieldsType"] !== undefined && e["fieldsType"] !== "FieldsV1") continue;
    out.push({
      manager: e["manager"],
      operation: e["operation"],
      ...(typeof e["apiVersion"] === "string" ? { apiVersion: e["apiVersion"] } : {}),
      ...(typeof e["time"] === "string" ? { time: e["time"] } : {}),
      ...(typeof e["subresource"] === "string" && e["subresource"] !== "" ? { subresource: e["subresource"] } : {}),
      fields: parseFieldsV1(e["fieldsV1"]),
    });
  }
  return out;
}

/** The fields a manager's Apply entries own on the main resource (status writes are left out). */
export function appliedFieldSet(entries: readonly ManagedFieldsEntry[], manager: string): FieldSet {
  const mine = entries.filter((e) => e.manager === manager && e.operation === "Apply" && e.subresource === undefined);
  return mine.length === 0 ? { self: false, children: [] } : unionFieldSets(mine.map((e) => e.fields));
}

/**
 * (a) The part of `live` the field set owns. Associative list items keep their key fields,
 * so they can be matched; a `.`-only map or item is kept empty (its existence is owned).
 */
export function extractOwned(live: KObject, owned: FieldSet): KObject {
  // An empty set at the root owns nothing; deeper down, it owns the whole value.
  if (owned.children.length === 0) return {};
  const out = extract(live, owned);
  return isRecord(out) ? out : {};
}

function extract(value: JsonValue, set: FieldSet): JsonValue | undefined {
  if (set.children.length === 0) return set.self ? emptyLike(value) : cloneJson(value);
  if (Array.isArray(value)) {
    const items: JsonValue[] = [];
    value.forEach((item, index) => {
      for (const { element, set: sub } of set.children) {
        if ("key" in element && isRecord(item) && Object.entries(element.key).every(([k, v]) => jsonEqual(item[k], v))) {
          const inner = extract(item, sub);
          items.push({ ...element.key, ...(isRecord(inner) ? inner : {}) });
          return;
        }
        if (("value" in element && jsonEqual(item, element.value)) || ("index" in element && element.index === index)) {
          const inner = "value" in element ? cloneJson(item) : extract(item, sub);
          if (inner !== undefined) items.push(inner);
          return;
        }
      }
    });
    return items;
  }
  if (!isRecord(value)) return cloneJson(value);
  const out: { [key: string]: JsonValue } = {};
  for (const { element, set: sub } of set.children) {
    if (!("field" in element) || !Object.hasOwn(value, element.field)) continue;
    const inner = extract(value[element.field] as JsonValue, sub);
    if (inner !== undefined) out[element.field] = inner;
  }
  return out;
}

function emptyLike(value: JsonValue): JsonValue {
  return Array.isArray(value) ? [] : isRecord(value) ? {} : value;
}

// Scalars are immutable: only maps and lists need a copy (structuredClone of a string costs a serialization).
function cloneJson(value: JsonValue): JsonValue {
  return typeof value === "object" && value !== null ? structuredClone(value) : value;
}

/** How every manager's field sets say lists merge, keyed by schema path (`.spec.containers[].ports`). */
export function listShapesOf(entries: readonly ManagedFieldsEntry[]): ListShapes {
  const shapes = new Map<string, { keys: string[] } | "set">();
  const walk = (set: FieldSet, schema: string): void => {
    for (const { element, set: sub } of set.children) {
      if ("field" in element) walk(sub, `${schema}.${element.field}`);
      else if ("key" in element) {
        if (!shapes.has(schema)) shapes.set(schema, { keys: Object.keys(element.key).sort() });
        walk(sub, `${schema}[]`);
      } else if ("value" in element) shapes.set(schema, "set");
      else walk(sub, `${schema}[]`);
    }
  };
  for (const e of entries) walk(e.fields, "");
  return shapes;
}

// Identity and server-written metadata: never in a field set, never drift.
const ignoredTopLevel = new Set(["apiVersion", "kind", "status"]);
const ignoredMetadata = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
]);

/**
 * (b) Compares the desired object with the owned part of the live one. Only what desired says
 * counts: extra owned fields and server defaults are not differences, and `null` asks for nothing.
 * Identity, server-written metadata and `status` are left out.
 */
export function compareWithDesired(desired: KObject, owned: KObject, shapes: ListShapes): FieldDifference[] {
  const out: FieldDifference[] = [];
  for (const [k, v] of Object.entries(desired)) {
    if (ignoredTopLevel.has(k)) continue;
    if (k === "metadata" && isRecord(v)) {
      const ownedMeta = isRecord(owned["metadata"]) ? owned["metadata"] : undefined;
      for (const [mk, mv] of Object.entries(v)) {
        if (ignoredMetadata.has(mk)) continue;
        compareValue(mv, ownedMeta?.[mk], [{ field: "metadata" }, { field: mk }], `.metadata.${mk}`, shapes, out);
      }
      continue;
    }
    compareValue(v, owned[k], [{ field: k }], `.${k}`, shapes, out);
  }
  return out;
}

function compareValue(
  d: JsonValue,
  o: JsonValue | undefined,
  path: PathElement[],
  schema: string,
  shapes: ListShapes,
  out: FieldDifference[],
): void {
  if (d === null) return;
  if (Array.isArray(d)) return compareList(d, o, path, schema, shapes, out);
  if (isRecord(d) && Object.keys(d).length > 0 && (o === undefined || isRecord(o))) {
    for (const [k, v] of Object.entries(d)) compareValue(v, o?.[k], [...path, { field: k }], `${schema}.${k}`, shapes, out);
    return;
  }
  if (o === undefined) out.push(difference(path, "missing", d, o));
  else if (!jsonContains(o, d)) out.push(difference(path, "changed", d, o));
}

function compareList(
  d: JsonValue[],
  o: JsonValue | undefined,
  path: PathElement[],
  schema: string,
  shapes: ListShapes,
  out: FieldDifference[],
): void {
  const shape = shapes.get(schema);
  const ownedItems = Array.isArray(o) ? o : [];
  if (shape === "set" && d.length > 0) {
    for (const v of d) if (!ownedItems.some((x) => jsonEqual(x, v))) out.push(difference([...path, { value: v }], "missing", v, undefined));
    return;
  }
  const keyed = shape !== undefined && shape !== "set" && d.length > 0 && d.every((item) => hasAnyKey(item, shape.keys));
  if (!keyed) {
    if (o === undefined) out.push(difference(path, "missing", d, o));
    else if (!jsonContains(o, d)) out.push(difference(path, "changed", d, o));
    return;
  }
  for (const item of d) {
    const key = pick(item as { [k: string]: JsonValue }, shape.keys);
    const match = ownedItems.find((x) => isRecord(x) && Object.entries(key).every(([k, v]) => jsonEqual(x[k], v)));
    const element = { key: isRecord(match) ? pick(match, shape.keys) : key };
    compareValue(item, match, [...path, element], `${schema}[]`, shapes, out);
  }
}

function hasAnyKey(item: JsonValue, keys: readonly string[]): boolean {
  return isRecord(item) && keys.some((k) => item[k] !== undefined && item[k] !== null);
}

function pick(item: { [k: string]: JsonValue }, keys: readonly string[]): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const k of keys) if (item[k] !== undefined && item[k] !== null) out[k] = item[k];
  return out;
}

function difference(path: PathElement[], kind: FieldDifference["kind"], desired: JsonValue, owned: JsonValue | undefined): FieldDifference {
  return { path, field: formatPath(path), kind, desired, ...(owned === undefined ? {} : { owned }) };
}

/**
 * (c) The missing desired fields another manager owns now (it took them over with an update,
 * through the scale subresource, or with a forced apply), one per field and manager. Status
 * writers are left out, as is `manager` itself.
 */
export function attributeDrift(differences: readonly FieldDifference[], entries: readonly ManagedFieldsEntry[], manager: string): Drift[] {
  const others = entries.filter((e) => e.manager !== manager && e.subresource !== "status");
  const out: Drift[] = [];
  for (const d of differences) {
    if (d.kind !== "missing") continue;
    for (const e of others) {
      if (!ownsPath(e.fields, d.path)) continue;
      out.push({ field: d.field, manager: e.manager, ...(e.time === undefined ? {} : { time: e.time }) });
    }
  }
  return out;
}

/** (a), (b) and (c) for one live object and its desired state. */
export function detectDrift(live: KObject, desired: KObject, manager: string = gitwardFieldManager): DriftReport {
  return driftOf(live, managedFieldsOf(live), desired, manager);
}

/**
 * {@link detectDrift} with the managedFields entries already read from `live` ({@link managedFieldsOf}).
 * A desired field the manager does not own but whose live value is the desired one (a default
 * the server filled in, a value another writer set to the same) is no difference: applying it
 * would change no value. Nor is an empty list or map the live object does not have: the server
 * drops those (`env: []`, `annotations: {}`), so they can never be seen again.
 */
export function driftOf(live: KObject, entries: readonly ManagedFieldsEntry[], desired: KObject, manager: string): DriftReport {
  const owned = extractOwned(live, appliedFieldSet(entries, manager));
  const differences = compareWithDesired(desired, owned, listShapesOf(entries)).filter((d) => d.kind !== "missing" || !holds(valueAt(live, d.path), d.desired));
  return { owned, differences, drift: attributeDrift(differences, entries, manager) };
}

function holds(live: JsonValue | undefined, desired: JsonValue): boolean {
  return jsonContains(live, desired) || (isEmptyCollection(desired) && (live === undefined || isEmptyCollection(live)));
}

function isEmptyCollection(value: JsonValue | undefined): boolean {
  return Array.isArray(value) ? value.length === 0 : isRecord(value) && Object.keys(value).length === 0;
}

/** The value at a field path of an object; list items are found by their key fields, set items by value. */
export function valueAt(value: JsonValue | undefined, path: readonly PathElement[]): JsonValue | undefined {
  let cur = value;
  for (const step of path) {
    if ("field" in step) cur = isRecord(cur) && Object.hasOwn(cur, step.field) ? cur[step.field] : undefined;
    else if (!Array.isArray(cur)) return undefined;
    else if ("index" in step) cur = cur[step.index];
    else if ("value" in step) cur = cur.find((v) => jsonEqual(v, step.value));
    else cur = cur.find((item) => isRecord(item) && Object.entries(step.key).every(([k, v]) => jsonEqual(item[k], v)));
    if (cur === undefined) return undefined;
  }
  return cur;
}
