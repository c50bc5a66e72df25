import type { JsonValue } from "../core/object.ts";
import type { ListNode, MapNode, TreeNode } from "./tree.ts";

type JsonMap = { [key: string]: JsonValue };

/**
 * A walkable view of a parsed JSON/YAML map (key order = document order) whose leaves write
 * their plaintext back into that same map. Comments are not known (parsing dropped them).
 */
export function mapView(obj: JsonMap): MapNode {
  return {
    kind: "map",
    items: Object.keys(obj).map((key) => ({ kind: "entry" as const, key, value: nodeOf(obj[key] ?? null, (v) => { obj[key] = v; }) })),
  };
}

function listView(list: JsonValue[]): ListNode {
  return { kind: "list", items: list.map((v, i) => nodeOf(v, (nv) => { list[i] = nv; })) };
}

function nodeOf(value: JsonValue, write: (v: JsonValue) => void): TreeNode {
  if (Array.isArray(value)) return listView(value);
  if (value !== null && typeof value === "object") return mapView(value);
  return { kind: "scalar", value, set: (plain) => write(plain.value) };
}

/** A deep copy of a JSON value (objects keep their key order). */
export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}
