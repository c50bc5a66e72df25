import { isMap, isScalar, LineCounter, parseDocument, visit, type Document } from "yaml";
import type { z } from "zod";
import { formatFieldPath, locateInDocument, toLineColumn, type YamlPath } from "../core/yaml-positions.ts";
import { ConfigError, type ConfigIssue } from "./config-error.ts";
import { configSchema, type Config } from "./schema.ts";
import { checkReferences } from "./check-references.ts";

/** A loaded gitward.yaml with what is needed to point at its keys later. */
export interface LoadedConfig {
  readonly config: Config;
  /** Repository-relative path of the file. */
  readonly file: string;
  /** Directory stack paths are relative to ("" for the repository root). */
  readonly baseDir: string;
  /** Where a key path is in the file, for errors found later (e.g. a missing directory). */
  locate(path: YamlPath): ConfigIssue["location"];
}

/**
 * Parses and validates gitward.yaml text. Throws a {@link ConfigError} listing every problem
 * with file:line:column and the key path; unknown keys are errors.
 */
export function parseConfig(text: string, file: string): LoadedConfig {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const locate = (path: YamlPath, keyOf?: string): ConfigIssue["location"] => {
    const pos = locateInDocument(doc, counter, path, keyOf === undefined ? {} : { keyOf });
    return pos === undefined ? { file } : { file, line: pos.line, column: pos.column };
  };
  const syntax = syntaxIssues(doc, counter, file);
  if (syntax.length > 0) throw new ConfigError(syntax);
  keepVarSpelling(doc);
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) {
    throw new ConfigError([{ location: { file, line: 1, column: 1 }, keyPath: "", message: "file is empty" }]);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.flatMap((i) => zodIssues(i, raw, locate)));
  const refIssues = checkReferences(parsed.data).map((r) => ({
    location: locate(r.path),
    keyPath: formatFieldPath(r.path),
    message: r.message,
  }));
  if (refIssues.length > 0) throw new ConfigError(refIssues);
  return loadedConfig(parsed.data, file, () => ({ doc, counter }));
}

/**
 * A LoadedConfig for a configuration already validated (read back from the cache): the
 * file is parsed again only if an error later needs a position in it.
 */
export function cachedConfig(config: Config, text: string, file: string): LoadedConfig {
  let parsed: { doc: Document; counter: LineCounter } | undefined;
  return loadedConfig(config, file, () => {
    if (parsed === undefined) {
      const counter = new LineCounter();
      parsed = { doc: parseDocument(text, { lineCounter: counter }), counter };
    }
    return parsed;
  });
}

function loadedConfig(config: Config, file: string, source: () => { doc: Document; counter: LineCounter }): LoadedConfig {
  const slash = file.lastIndexOf("/");
  return {
    config,
    file,
    baseDir: slash < 0 ? "" : file.slice(0, slash),
    locate: (path) => {
      const { doc, counter } = source();
      const pos = locateInDocument(doc, counter, path);
      return pos === undefined ? { file } : { file, line: pos.line, column: pos.column };
    },
  };
}

/** Variables are text: `version: 1.10` must substitute as "1.10", not the number 1.1. */
function keepVarSpelling(doc: Document): void {
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || pair.key.value !== "vars" || !isMap(pair.value)) return;
      for (const item of pair.value.items) {
        if (isScalar(item.value) && typeof item.value.value === "number" && item.value.source !== undefined) {
          item.value.value = item.value.source;
        }
      }
    },
  });
}

function syntaxIssues(doc: Document, counter: LineCounter, file: string): ConfigIssue[] {
  return [...doc.errors, ...doc.warnings].map((e) => {
    const pos = toLineColumn(counter, e.pos[0]);
    const message = e.message.split("\n")[0] ?? e.message;
    return { location: { file, line: pos.line, column: pos.column }, keyPath: "", message: `invalid YAML: ${message}` };
  });
}

type Locate = (path: YamlPath, keyOf?: string) => ConfigIssue["location"];

function zodIssues(issue: z.core.$ZodIssue, raw: unknown, locate: Locate): ConfigIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      location: locate(path, key),
      keyPath: formatFieldPath([...path, key]),
      message: `unknown key${suggest(key)}`,
    }));
  }
  if (issue.code === "invalid_key") {
    const key = path.at(-1);
    const why = issue.issues[0]?.message ?? issue.message;
    return [{ location: locate(path.slice(0, -1), String(key)), keyPath: formatFieldPath(path), message: `invalid name: ${why}` }];
  }
  if (issue.code === "invalid_union") return unionIssues(issue, path, raw, locate);
  const missing = (issue.code === "invalid_type" || issue.code === "invalid_value") && !hasPath(raw, path);
  const message = missing ? "required key is missing" : issue.message;
  return [{ location: locate(path), keyPath: formatFieldPath(path), message }];
}

/**
 * A union fails as a whole; the useful report is the branch whose shape the input has
 * (an object for an object branch), with its issues placed under the union's path.
 */
function unionIssues(issue: z.core.$ZodIssueInvalidUnion, path: (string | number)[], raw: unknown, locate: Locate): ConfigIssue[] {
  const shapeMismatch = (branch: z.core.$ZodIssue[]): boolean =>
    branch.every((i) => i.code === "invalid_type" && i.path.length === 0);
  const matching = issue.errors.filter((branch) => !shapeMismatch(branch));
  const branch = matching.length === 1 ? matching[0] : undefined;
  if (branch === undefined) {
    const expected = issue.errors.flatMap((b) => b.map((i) => (i.code === "invalid_type" ? i.expected : undefined))).filter((e) => e !== undefined);
    const message = expected.length > 0 ? `expected ${[...new Set(expected)].join(" or ")}` : issue.message;
    return [{ location: locate(path), keyPath: formatFieldPath(path), message }];
  }
  return branch.flatMap((inner) => zodIssues({ ...inner, path: [...path, ...inner.path] }, raw, locate));
}

function hasPath(raw: unknown, path: readonly (string | number)[]): boolean {
  let cur: unknown = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, seg)) return false;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return true;
}

const knownKeys = [
  "version", "environments", "stacks", "policies", "render", "verification", "vars", "targets", "sync",
  "approvals", "promoteFrom", "description", "provider", "context", "namespace", "root", "check", "reload",
  "health", "auto", "prune", "selfHeal", "required", "from", "enabled", "path", "target", "substitute",
  "dependsOn", "allowRemoteBases", "signatures", "format", "connection", "name", "params", "builtin", "enforcement",
];

function suggest(key: string): string {
  const lower = key.toLowerCase();
  const allowed = lower.length <= 4 ? 1 : 2;
  const hit = knownKeys.find((k) => k.toLowerCase() === lower || editDistance(k.toLowerCase(), lower) <= allowed);
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
