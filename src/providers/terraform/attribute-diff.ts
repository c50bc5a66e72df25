import { isDeepStrictEqual } from "node:util";
import { sensitiveMarker, unknownMarker } from "./types.ts";

/**
 * A copy of a value with every part that Terraform's sensitivity tree (`before_sensitive`,
 * `after_sensitive`: `true` where sensitive, mirroring the value's shape) marks replaced by
 * {@link sensitiveMarker}.
 */
export function maskSensitive(value: unknown, sensitive: unknown): unknown {
  if (sensitive === true) return value === null || value === undefined ? value : sensitiveMarker;
  if (Array.isArray(value)) {
    const s = Array.isArray(sensitive) ? (sensitive as unknown[]) : [];
    return value.map((v, i) => maskSensitive(v, s[i]));
  }
  if (isObject(value)) {
    const s = isObject(sensitive) ? sensitive : {};
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSensitive(v, s[k])]));
  }
  return value;
}

/**
 * The readable diff of one resource's attributes, from already masked values: `+ path = value`
 * for an attribute only after, `- path = value` for one only before, `~ path: old → new` for
 * one changed; unknown values read {@link unknownMarker}, and attributes that force a replace
 * are marked. Unchanged attributes are left out.
 */
export function attributeDiff(before: unknown, after: unknown, afterUnknown: unknown, replacePaths: readonly string[] = []): string {
  const b = flatten(before);
  const a = flatten(after);
  for (const path of unknownPaths(afterUnknown)) a.set(path, unknownMarker);
  const lines: string[] = [];
  const forces = (path: string): string => (replacePaths.some((p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`)) ? "  # forces replacement" : "");
  for (const path of [...new Set([...b.keys(), ...a.keys()])].sort()) {
    const hasB = b.has(path);
    const hasA = a.has(path);
    const bv = b.get(path);
    const av = a.get(path);
    if (hasB && hasA && isDeepStrictEqual(bv, av)) continue;
    if (hasA && !hasB) lines.push(`+ ${path} = ${show(av)}${forces(path)}`);
    else if (hasB && !hasA) lines.push(`- ${path} = ${show(bv)}${forces(path)}`);
    else lines.push(`~ ${path}: ${show(bv)} → ${show(av)}${forces(path)}`);
  }
  return lines.join("\n");
}

/** Terraform's replace paths (`[["triggers_replace"], ["input", "name"]]`) as gitward's dotted paths. */
export function dottedPaths(paths: readonly (readonly (string | number)[])[]): string[] {
  return paths.map((p) => p.reduce<string>((acc, step) => (typeof step === "number" ? `${acc}[${step}]` : acc === "" ? step : `${acc}.${step}`), ""));
}

// Leaves by path; an empty object or list is a leaf too, so `{}` → `[]` still shows.
function flatten(value: unknown, prefix = "", out = new Map<string, unknown>()): Map<string, unknown> {
  if (value === null || value === undefined) {
    if (prefix !== "") out.set(prefix, null);
    return out;
  }
  if (Array.isArray(value) && value.length > 0) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (isObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === "" ? k : `${prefix}.${k}`, out);
  } else if (prefix !== "") {
    out.set(prefix, value);
  }
  return out;
}

function unknownPaths(tree: unknown, prefix = ""): string[] {
  if (tree === true) return prefix === "" ? [] : [prefix];
  if (Array.isArray(tree)) return tree.flatMap((t, i) => unknownPaths(t, `${prefix}[${i}]`));
  if (isObject(tree)) return Object.entries(tree).flatMap(([k, t]) => unknownPaths(t, prefix === "" ? k : `${prefix}.${k}`));
  return [];
}

function show(v: unknown): string {
  if (v === unknownMarker || v === sensitiveMarker) return v;
  if (v === null || v === undefined) return "null";
  return JSON.stringify(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
