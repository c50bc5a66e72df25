import { isMap, isScalar, LineCounter, parseDocument, visit, type Document } from "yaml";
import { decodeUtf8, describeInvalidUtf8 } from "../core/utf8.ts";
import { documentToJS, isStackOverflow, stackOverflowProblem, yamlErrorMessage } from "../core/yaml-limits.ts";
import { formatFieldPath, lineColumnOf, locateInDocument, toLineColumn, type YamlPath } from "../core/yaml-positions.ts";
import { ConfigError, type ConfigIssue } from "./config-error.ts";
import { configSchema, type Config } from "./schema.ts";
import { checkReferences } from "./check-references.ts";
import { zodConfigIssues } from "./zod-issues.ts";

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
 * Parses and validates gitward.yaml. Throws a {@link ConfigError} listing every problem
 * with file:line:column and the key path; unknown keys are errors. Given the file's bytes,
 * it refuses what is not UTF-8 at the line of the first bad byte (text already decoded cannot
 * tell an invalid byte from the U+FFFD it was replaced with).
 */
export function parseConfig(source: string | Uint8Array, file: string): LoadedConfig {
  const text = typeof source === "string" ? source : configText(source, file);
  const counter = new LineCounter();
  const doc = parseYaml(text, counter, file);
  const locate = (path: YamlPath, keyOf?: string): ConfigIssue["location"] => {
    const pos = locateInDocument(doc, counter, path, keyOf === undefined ? {} : { keyOf });
    return pos === undefined ? { file } : { file, line: pos.line, column: pos.column };
  };
  const syntax = syntaxIssues(doc, counter, file, text);
  if (syntax.length > 0) throw new ConfigError(syntax);
  keepVarSpelling(doc);
  const converted = documentToJS(doc);
  if ("problem" in converted) {
    const { message, offset, limit } = converted.problem;
    const pos = offset === undefined ? { line: 1, column: 1 } : toLineColumn(counter, offset);
    throw new ConfigError([{ location: { file, ...pos }, keyPath: "", message: limit ? message : `invalid YAML: ${message}` }]);
  }
  const raw: unknown = converted.value;
  if (raw === null || raw === undefined) {
    throw new ConfigError([{ location: { file, line: 1, column: 1 }, keyPath: "", message: "file is empty" }]);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(zodConfigIssues(parsed.error.issues, raw, locate, configKeys));
  const refIssues = checkReferences(parsed.data).map((r) => ({
    location: locate(r.path),
    keyPath: formatFieldPath(r.path),
    message: r.message,
  }));
  if (refIssues.length > 0) throw new ConfigError(refIssues);
  return loadedConfig(parsed.data, file, () => ({ doc, counter }));
}

/** gitward.yaml as a YAML document; nesting deep enough to overflow the parser's stack is an issue at its line. */
function parseYaml(text: string, counter: LineCounter, file: string): Document.Parsed {
  try {
    return parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true, resolveKnownTags: false });
  } catch (e: unknown) {
    if (!isStackOverflow(e)) throw e;
    const problem = stackOverflowProblem(text);
    const pos = lineColumnOf(text, problem.offset ?? 0);
    throw new ConfigError([{ location: { file, ...pos }, keyPath: "", message: problem.message }]);
  }
}

function configText(bytes: Uint8Array, file: string): string {
  const decoded = decodeUtf8(bytes);
  if ("text" in decoded) return decoded.text;
  const { line, column } = decoded.invalid;
  throw new ConfigError([{ location: { file, line, column }, keyPath: "", message: `${describeInvalidUtf8(decoded.invalid)}: gitward.yaml must be UTF-8 text` }]);
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

function syntaxIssues(doc: Document, counter: LineCounter, file: string, text: string): ConfigIssue[] {
  return [...doc.errors, ...doc.warnings].map((e) => {
    const { message, limit } = yamlErrorMessage(e.message);
    // A stack overflow is reported where the parser gave up: point at where the nesting passed the limit.
    const pos = limit ? lineColumnOf(text, stackOverflowProblem(text).offset ?? e.pos[0]) : toLineColumn(counter, e.pos[0]);
    return { location: { file, line: pos.line, column: pos.column }, keyPath: "", message };
  });
}

/** Every key gitward.yaml knows, for "did you mean" suggestions. */
const configKeys = [
  "version", "environments", "stacks", "policies", "render", "verification", "vars", "targets", "sync",
  "approvals", "promoteFrom", "description", "provider", "context", "namespace", "root", "check", "reload",
  "health", "auto", "prune", "selfHeal", "required", "from", "enabled", "path", "target", "substitute",
  "dependsOn", "forceConflicts", "allowRemoteBases", "signatures", "format", "connection", "name", "params", "builtin", "enforcement",
  "groups", "team", "limits", "maxObjectsPerFile", "maxObjectsPerStack", "maxObjectsPerRevision", "maxBytesPerRevision",
  "previews", "labels", "ttl", "url", "stacks", "sops", "recipients",
];
