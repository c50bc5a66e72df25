import { Composer, isAlias, isCollection, isMap, isPair, isScalar, isSeq, LineCounter, Parser, visit, type Document, type Node } from "yaml";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { SourceLocation } from "../core/location.ts";
import { decodeUtf8, describeInvalidUtf8 } from "../core/utf8.ts";
import { isStackOverflow, stackOverflowProblem, yamlErrorMessage } from "../core/yaml-limits.ts";
import { lineColumnOf, toLineColumn } from "../core/yaml-positions.ts";

/** A path a kustomization (or a generator or transformer configuration it names) tells kustomize to read. */
export interface KustomizationEntry {
  /** Where it is written, e.g. `resources[2]` or `configMapGenerator[0].files[1]`. */
  readonly field: string;
  readonly path: string;
  readonly location: SourceLocation;
  /** A generator, transformer or validator entry: a file of plugin configurations, whose paths count too. */
  readonly plugin: boolean;
}

/** What a kustomization says: the paths it names, and the plugin configurations written inline. */
export interface KustomizationRefs {
  readonly entries: readonly KustomizationEntry[];
  readonly inlineConfigs: readonly { readonly text: string; readonly location: SourceLocation }[];
}

// The fields of a Kustomization whose values are paths: kustomize reads their files or fetches them.
const listFields = ["resources", "bases", "components", "crds", "patchesStrategicMerge", "configurations"];
const pluginFields = ["generators", "transformers", "validators"];
const itemFields: Readonly<Record<string, readonly string[]>> = {
  patches: ["path"],
  patchesJson6902: ["path"],
  replacements: ["path"],
  configMapGenerator: ["files", "envs", "env"],
  secretGenerator: ["files", "envs", "env"],
  openapi: ["path"],
};
// The fields of kustomize's builtin plugin configurations (PatchTransformer, ConfigMapGenerator, …) that name files.
const pluginPathFields = ["path", "paths", "files", "envs", "env", "valuesFile", "additionalValuesFiles", "chartHome"];

/**
 * Reads a kustomization file as kustomize must be made to read it: UTF-8, its first YAML
 * document only (kustomize ignores the rest), and none of the YAML that kustomize (go-yaml,
 * YAML 1.1) and gitward's YAML 1.2 reader read differently or that hides what is written:
 * anchors, aliases, merge keys (`<<`) and tags are refused where they stand. Keys are matched
 * as Go's JSON decoding matches them, ignoring case (`RESOURCES:` is `resources`).
 */
export function readKustomizationRefs(file: string, content: Buffer): KustomizationRefs {
  const entries: KustomizationEntry[] = [];
  const inlineConfigs: { text: string; location: SourceLocation }[] = [];
  const first = strictDocuments(file, content, "kustomization", 1)[0];
  if (first === undefined || !isMap(first.doc.contents)) return { entries, inlineConfigs };
  const { counter } = first;
  const root = first.doc.contents;
  const at = (node: Node | null | undefined): SourceLocation => locationOf(file, counter, node);
  for (const pair of root.items) {
    const key = fieldName(pair.key);
    if (key === undefined) continue;
    const value = pair.value as Node | null;
    if (listFields.includes(key) || pluginFields.includes(key)) {
      const plugin = pluginFields.includes(key);
      for (const [i, item] of itemsOf(value)) {
        // Inline patches and plugin configurations are YAML text, not paths.
        if (isScalar(item) && typeof item.value === "string" && isInline(item.value)) {
          if (plugin) inlineConfigs.push({ text: item.value, location: at(item) });
          continue;
        }
        entries.push(entryOf(file, `${key}[${i}]`, item, at, plugin));
      }
      continue;
    }
    const nested = itemFields[key];
    if (nested === undefined) continue;
    const items: [number | undefined, unknown][] = isMap(value) ? [[undefined, value]] : itemsOf(value);
    for (const [i, item] of items) entries.push(...pathsIn(file, `${key}${i === undefined ? "" : `[${i}]`}`, item, nested, at));
  }
  return { entries, inlineConfigs };
}

/**
 * The paths that kustomize's builtin plugin configurations in a YAML text name (`path`,
 * `paths`, `files`, `envs`, `env`, `replacements[].path`, Helm's files), read as strictly as a
 * kustomization. `where` is the file they are written in, or the kustomization line that holds
 * them inline.
 */
export function readPluginConfigRefs(where: SourceLocation, content: Buffer): KustomizationEntry[] {
  const out: KustomizationEntry[] = [];
  const inline = where.line !== undefined;
  for (const { doc, counter } of strictDocuments(where.file, content, "plugin configuration")) {
    const at = (node: Node | null | undefined): SourceLocation => (inline ? where : locationOf(where.file, counter, node));
    if (!isMap(doc.contents)) continue;
    out.push(...pathsIn(where.file, "", doc.contents, pluginPathFields, at));
    for (const pair of doc.contents.items) {
      if (fieldName(pair.key) !== "replacements") continue;
      for (const [i, item] of itemsOf(pair.value as Node | null)) out.push(...pathsIn(where.file, `replacements[${i}]`, item, ["path"], at));
    }
  }
  return out;
}

function entryOf(file: string, field: string, node: unknown, at: (n: Node | null | undefined) => SourceLocation, plugin: boolean): KustomizationEntry {
  if (!isScalar(node) || typeof node.value !== "string") {
    const what = isScalar(node) ? `${JSON.stringify(node.source ?? String(node.value))} is not a string` : "is not a path";
    throw new GitwardError(ErrorCode.Render, `${field} ${what}: kustomize would read it as a path gitward has not checked`, {
      subject: { location: at(node as Node | null) },
      hint: "write the path as a quoted string",
    });
  }
  return { field, path: node.value, location: at(node), plugin };
}

/** The entries of the keys `names` (ignoring case) of a mapping; generator `files` may be `key=path`. */
function pathsIn(file: string, prefix: string, node: unknown, names: readonly string[], at: (n: Node | null | undefined) => SourceLocation): KustomizationEntry[] {
  if (!isMap(node)) return [];
  const out: KustomizationEntry[] = [];
  for (const pair of node.items) {
    const name = fieldName(pair.key);
    if (name === undefined || !names.some((n) => fold(n) === fold(name))) continue;
    const value = pair.value as Node | null;
    const items: [number | undefined, unknown][] = isSeq(value) ? itemsOf(value) : [[undefined, value]];
    for (const [i, item] of items) {
      if (item === null || (isScalar(item) && item.value === null)) continue;
      const field = `${prefix === "" ? "" : `${prefix}.`}${name}${i === undefined ? "" : `[${i}]`}`;
      const entry = entryOf(file, field, item, at, false);
      const eq = fold(name) === "files" ? entry.path.indexOf("=") : -1;
      out.push(eq === -1 ? entry : { ...entry, path: entry.path.slice(eq + 1) });
    }
  }
  return out;
}

function itemsOf(node: Node | null | undefined): [number, unknown][] {
  if (isSeq(node)) return node.items.map((item, i): [number, unknown] => [i, item]);
  if (node === null || node === undefined || (isScalar(node) && node.value === null)) return [];
  return [[0, node]];
}

/** Text that kustomize reads as YAML content rather than a path: more than one line, or a flow mapping or list. */
function isInline(value: string): boolean {
  return value.includes("\n") || /^\s*[{[]/.test(value);
}

/** The field a key names for Go's JSON decoder: case-insensitive, with `ſ` as `s` and the Kelvin sign as `k`. */
function fieldName(key: unknown): string | undefined {
  if (!isScalar(key) || typeof key.value !== "string") return undefined;
  const folded = fold(key.value);
  const known = [...listFields, ...pluginFields, ...Object.keys(itemFields), ...pluginPathFields, "replacements"];
  return known.find((f) => fold(f) === folded) ?? key.value;
}

function fold(name: string): string {
  return name.replace(/\u017f/g, "s").replace(/\u212a/g, "k").toLowerCase();
}

function locationOf(file: string, counter: LineCounter, node: Node | null | undefined): SourceLocation {
  const offset = node?.range?.[0];
  if (offset === undefined) return { file };
  const pos = toLineColumn(counter, offset);
  return { file, line: pos.line, column: pos.column };
}

/** The documents of a YAML text (the first `max` of them), refused at the first construct kustomize reads otherwise. */
function strictDocuments(file: string, content: Buffer, what: string, max = Infinity): { doc: Document; counter: LineCounter }[] {
  const decoded = decodeUtf8(content);
  if ("invalid" in decoded) {
    const { line, column } = decoded.invalid;
    throw new GitwardError(ErrorCode.Render, `${describeInvalidUtf8(decoded.invalid)}: a ${what} must be UTF-8 text`, { subject: { location: { file, line, column } } });
  }
  const counter = new LineCounter();
  const parser = new Parser(counter.addNewLine);
  const composer = new Composer({ uniqueKeys: true, prettyErrors: false });
  const docs: { doc: Document; counter: LineCounter }[] = [];
  const take = (doc: Document.Parsed): void => {
    if (docs.length < max) docs.push({ doc: checked(file, doc, counter, what, decoded.text), counter });
  };
  try {
    for (const token of parser.parse(decoded.text)) {
      if (token.type === "document" && docs.length >= max) break;
      for (const doc of composer.next(token)) take(doc);
    }
    for (const doc of composer.end(false, -1)) take(doc);
  } catch (e: unknown) {
    if (!isStackOverflow(e)) throw e;
    const problem = stackOverflowProblem(decoded.text);
    const pos = lineColumnOf(decoded.text, problem.offset ?? 0);
    throw new GitwardError(ErrorCode.Limit, problem.message, { subject: { location: { file, line: pos.line, column: pos.column } } });
  }
  return docs;
}

function checked(file: string, doc: Document.Parsed, counter: LineCounter, what: string, text: string): Document {
  const error = doc.errors[0];
  if (error !== undefined) {
    const { message, limit } = yamlErrorMessage(error.message);
    const pos = limit ? lineColumnOf(text, stackOverflowProblem(text).offset ?? error.pos[0]) : toLineColumn(counter, error.pos[0]);
    throw new GitwardError(limit ? ErrorCode.Limit : ErrorCode.Render, limit ? message : `invalid ${what}: ${message.replace(/^invalid YAML: /, "")}`, {
      subject: { location: { file, line: pos.line, column: pos.column } },
    });
  }
  let refused: { node: Node; why: string } | undefined;
  visit(doc, {
    Node(_key, node) {
      if (refused !== undefined) return visit.BREAK;
      if (isAlias(node)) refused = { node, why: `an alias (*${node.source})` };
      else if ((isScalar(node) || isCollection(node)) && node.anchor !== undefined) refused = { node, why: `an anchor (&${node.anchor})` };
      else if ((isScalar(node) || isCollection(node)) && node.tag !== undefined) refused = { node, why: `a tag (${node.tag.replace("tag:yaml.org,2002:", "!!")})` };
      return undefined;
    },
    Pair(_key, pair) {
      if (refused === undefined && isPair(pair) && isScalar(pair.key) && pair.key.value === "<<") refused = { node: pair.key, why: "a merge key (<<)" };
    },
  });
  if (refused !== undefined) {
    throw new GitwardError(ErrorCode.Render, `${refused.why} in a ${what}: kustomize reads anchors, aliases, merge keys and tags as YAML 1.1 does, gitward does not check what they expand to`, {
      subject: { location: locationOf(file, counter, refused.node) },
      hint: "write the keys and values out in full",
    });
  }
  return doc;
}
