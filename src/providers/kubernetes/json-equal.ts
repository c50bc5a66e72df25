import type { JsonValue } from "../../core/object.ts";

/** Deep equality of two JSON values; key order does not matter, array order does. */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/**
 * True when everything `desired` says is in `live`: maps may hold more keys (server defaults),
 * arrays must have the same length with each item contained in turn, scalars must be equal.
 */
export function jsonContains(live: JsonValue | undefined, desired: JsonValue | undefined): boolean {
  if (desired === undefined || desired === null) return true;
  if (live === undefined || live === null) return false;
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((item, i) => jsonContains(live[i], item));
  }
  if (typeof desired === "object") {
    if (typeof live !== "object" || Array.isArray(live)) return false;
    return Object.entries(desired).every(([k, v]) => jsonContains(live[k], v));
  }
  return live === desired;
}
