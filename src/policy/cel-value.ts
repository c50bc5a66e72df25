import { celList, celMap, type CelValue } from "@bufbuild/cel";
import type { SizeBound } from "./cel-cost.ts";

/** A value converted for CEL, with the size bound the cost check needs. */
export interface CelInputValue {
  readonly value: CelValue;
  readonly size: SizeBound;
}

/**
 * Converts a JSON-like value (a rendered object, the environment's vars, built-in params) to
 * CEL values once, so every policy reads the same converted object. Integers become CEL `int`
 * (bigint) so that `object.spec.replicas >= 2` type-checks at run time; other numbers stay
 * `double`. The walk also measures the value: the largest list or map, the longest string and
 * the total size, which bound what any expression can do with it.
 */
export function toCelInput(value: unknown): CelInputValue {
  const stats = { n: 0, l: 0, t: 0 };
  const converted = convert(value, stats);
  const c = Array.isArray(value) ? value.length : typeof value === "object" && value !== null ? Object.keys(value).length : 0;
  return { value: converted, size: { c, ...stats } };
}

interface Stats {
  n: number;
  l: number;
  t: number;
}

function convert(value: unknown, stats: Stats): CelValue {
  stats.t += 1;
  switch (typeof value) {
    case "string":
      noteString(value, stats);
      return value;
    case "number":
      return Number.isInteger(value) ? BigInt(value) : value;
    case "boolean":
    case "bigint":
      return value;
    case "object":
      if (value === null) return null;
      if (Array.isArray(value)) {
        if (value.length > stats.n) stats.n = value.length;
        return celList(value.map((v: unknown) => convert(v, stats)));
      }
      return convertMap(value as Record<string, unknown>, stats);
    default:
      return null;
  }
}

function convertMap(record: Record<string, unknown>, stats: Stats): CelValue {
  const map = new Map<string, CelValue>();
  for (const key of Object.keys(record)) {
    const v = record[key];
    if (v === undefined) continue;
    noteString(key, stats);
    map.set(key, convert(v, stats));
  }
  if (map.size > stats.n) stats.n = map.size;
  return celMap(map);
}

function noteString(s: string, stats: Stats): void {
  if (s.length > stats.l) stats.l = s.length;
  stats.t += s.length;
}
