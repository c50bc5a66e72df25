import type { z } from "zod";
import { formatFieldPath, type YamlPath } from "../core/yaml-positions.ts";
import type { ConfigIssue } from "./config-error.ts";

/** Answers where a key path is in the file; with `keyOf`, where that key of the map at the path is. */
export type Locate = (path: YamlPath, keyOf?: string) => ConfigIssue["location"];

/**
 * Turns zod issues into configuration issues a person can act on: each with file:line:column,
 * the key path, "required key is missing" for absent keys, "unknown key" (with a suggestion
 * from `knownKeys`) for typos, and for a union the branch whose shape the input has.
 */
export function zodConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  raw: unknown,
  locate: Locate,
  knownKeys: readonly string[] = [],
): ConfigIssue[] {
  return issues.flatMap((i) => zodIssues(i, raw, locate, knownKeys));
}

function zodIssues(issue: z.core.$ZodIssue, raw: unknown, locate: Locate, knownKeys: readonly string[]): ConfigIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      location: locate(path, key),
      keyPath: formatFieldPath([...path, key]),
      message: `unknown key${suggest(key, knownKeys)}`,
    }));
  }
  if (issue.code === "invalid_key") {
    const key = path.at(-1);
    const why = issue.issues[0]?.message ?? issue.message;
    return [{ location: locate(path.slice(0, -1), String(key)), keyPath: formatFieldPath(path), message: `invalid name: ${why}` }];
  }
  if (issue.code === "invalid_union") return unionIssues(issue, path, raw, locate, knownKeys);
  const missing = (issue.code === "invalid_type" || issue.code === "invalid_value") && !hasPath(raw, path);
  const message = missing ? "required key is missing" : issue.message;
  return [{ location: locate(path), keyPath: formatFieldPath(path), message }];
}

/**
 * A union fails as a whole; the useful report is the branch whose shape the input has
 * (an object for an object branch), with its issues placed under the union's path.
 */
function unionIssues(issue: z.core.$ZodIssueInvalidUnion, path: (string | number)[], raw: unknown, locate: Locate, knownKeys: readonly string[]): ConfigIssue[] {
  const shapeMismatch = (branch: z.core.$ZodIssue[]): boolean =>
    branch.every((i) => i.code === "invalid_type" && i.path.length === 0);
  const matching = issue.errors.filter((branch) => !shapeMismatch(branch));
  const branch = matching.length === 1 ? matching[0] : undefined;
  if (branch === undefined) {
    const expected = issue.errors.flatMap((b) => b.map((i) => (i.code === "invalid_type" ? i.expected : undefined))).filter((e) => e !== undefined);
    const message = expected.length > 0 ? `expected ${[...new Set(expected)].join(" or ")}` : issue.message;
    return [{ location: locate(path), keyPath: formatFieldPath(path), message }];
  }
  return branch.flatMap((inner) => zodIssues({ ...inner, path: [...path, ...inner.path] }, raw, locate, knownKeys));
}

function hasPath(raw: unknown, path: readonly (string | number)[]): boolean {
  let cur: unknown = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, seg)) return false;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return true;
}

function suggest(key: string, knownKeys: readonly string[]): string {
  const lower = key.toLowerCase();
  const allowed = lower.length <= 4 ? 1 : 2;
  // A key that is valid elsewhere is not a typo of itself: suggest only a different spelling.
  const hit = knownKeys.find((k) => k !== key && (k.toLowerCase() === lower || editDistance(k.toLowerCase(), lower) <= allowed));
  return hit === undefined ? "" : ` (did you mean "${hit}"?)`;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
