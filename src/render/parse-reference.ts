import { Composer, LineCounter, Parser, parseAllDocuments, type Document } from "yaml";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { SopsFormat } from "../sops/types.ts";
import type { SourceLocation } from "../core/location.ts";
import { isRecord, type KObject } from "../core/object.ts";
import { documentShapeProblem, documentToJS, stackOverflowProblem, yamlErrorMessage, type YamlProblem } from "../core/yaml-limits.ts";
import { toLineColumn } from "../core/yaml-positions.ts";
import { substituteDocument, type DocumentSource, type VarResolver } from "./substitute.ts";
import { keepOverflowAsText } from "./yaml-core-scalar.ts";
import { ownCopy } from "./string-pool.ts";

/** One object parsed from a manifest file, with the line its document starts on. */
export interface ParsedManifest {
  readonly object: KObject;
  readonly location: SourceLocation;
  /** For a host File whose `spec.source` is a SOPS file: its format; the content stays encrypted until apply. */
  readonly sopsFile?: SopsFormat;
}

/** How manifests are read by the `yaml` package, the reference for what every file means. */
const readOptions = {
  version: "1.2", uniqueKeys: true, prettyErrors: false,
  // kubectl reads `<<: *anchor` merge keys (a YAML 1.1 feature); manifests rely on them.
  merge: true,
  // `!!binary`, `!!set`, `!!omap` and `!!timestamp` would give a Buffer, a Set, a Map or a Date,
  // which no object holds: they stay text (or the collection they tag), with a warning.
  resolveKnownTags: false,
  customTags: keepOverflowAsText,
} as const;

/**
 * Reads a whole file with the `yaml` package, every document at once: the reference that the
 * faster paths of {@link readReferenceRange} and the fast parser are compared with.
 */
export function readReferenceWhole(file: string, text: string, resolver: VarResolver | undefined): ParsedManifest[] {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { ...readOptions, lineCounter: counter });
  const out: ParsedManifest[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    for (const m of documentObjects(doc, { file, text, counter }, resolver)) out.push(m);
  }
  return out;
}

/**
 * Reads the documents that start in `text[start, end)` with the `yaml` package, one document at
 * a time: the rest of the text is read only as far as needed to end the last of them, so what
 * follows the range counts as it does when the whole file is read (an unclosed bracket before a
 * `---` is reported as it is in the whole file), and memory holds one document, not the file.
 * `start` must be the start of a line that begins a document ({@link splitDocuments}).
 */
export function readReferenceRange(
  file: string, text: string, range: { readonly start: number; readonly end: number; readonly lineOffset: number }, resolver: VarResolver | undefined,
): ParsedManifest[] {
  const source = range.start === 0 ? text : text.slice(range.start);
  const counter = offsetLineCounter(range.lineOffset);
  const parser = new Parser(counter.addNewLine);
  const composer = new Composer(readOptions);
  const limit = range.end - range.start;
  const out: ParsedManifest[] = [];
  const take = (doc: Document.Parsed): void => {
    for (const m of documentObjects(doc, { file, text: source, counter }, resolver)) out.push(m);
  };
  for (const token of parser.parse(source)) {
    // The first document of the next range: what came before it is complete.
    if (token.type === "document" && token.offset >= limit) break;
    for (const doc of composer.next(token)) take(doc);
  }
  for (const doc of composer.end(false, -1)) take(doc);
  return out;
}

/** A LineCounter whose lines count from `lines` lines before the text it is given. */
function offsetLineCounter(lines: number): LineCounter {
  const counter = new LineCounter();
  if (lines === 0) return counter;
  const linePos = counter.linePos;
  counter.linePos = (offset) => {
    const pos = linePos(offset);
    return { line: pos.line + lines, col: pos.col };
  };
  return counter;
}

function documentObjects(doc: Document, source: DocumentSource, resolver: VarResolver | undefined): ParsedManifest[] {
  const { file, text, counter } = source;
  const at = (offset: number): SourceLocation => {
    const pos = toLineColumn(counter, offset);
    return { file, line: pos.line, column: pos.column };
  };
  const error = doc.errors[0];
  if (error !== undefined) {
    const { message, limit } = yamlErrorMessage(error.message);
    // The parser's stack overflowed where it gave up: point at where the nesting passed the limit instead.
    const offset = limit ? (stackOverflowProblem(text).offset ?? error.pos[0]) : error.pos[0];
    throw new GitwardError(limit ? ErrorCode.Limit : ErrorCode.Render, message, {
      subject: { location: at(offset) },
      ...(!limit && lineAt(text, error.pos[0]).includes("${") ? { hint: "inside a flow collection ({...} or [...]), quote a ${var}: \"${var}\"" } : {}),
    });
  }
  const range = doc.contents?.range;
  if (range === undefined || range === null) return [];
  const location = at(range[0]);
  // Before substitution, which walks the document recursively.
  const early = documentShapeProblem(doc);
  if (early !== undefined) throw yamlProblemError(early, early.offset === undefined ? location : at(early.offset));
  if (resolver !== undefined && !substitutionDisabled(doc)) substituteDocument(doc, resolver, source);
  const converted = documentToJS(doc);
  if ("problem" in converted) {
    const { problem } = converted;
    throw yamlProblemError(problem, problem.offset === undefined ? location : at(problem.offset));
  }
  const value = ownStrings(converted.value);
  if (value === null || value === undefined) return [];
  if (!isRecord(value)) {
    const what = Array.isArray(value) ? "a list" : `a ${typeof value}`;
    throw new GitwardError(ErrorCode.Render, `document is ${what}, not an object`, { subject: { location } });
  }
  if (isListKind(value)) {
    const items = value["items"];
    if (!Array.isArray(items)) return [];
    return items.map((item, i) => {
      if (!isRecord(item)) {
        throw new GitwardError(ErrorCode.Render, `items[${i}] of the List is not an object`, { subject: { location } });
      }
      return { object: item, location };
    });
  }
  return [{ object: value, location }];
}

/** The error for a document that cannot become a value: a `limit` error for the YAML limits, else invalid YAML. */
export function yamlProblemError(problem: YamlProblem, location: SourceLocation): GitwardError {
  return new GitwardError(problem.limit ? ErrorCode.Limit : ErrorCode.Render, `${problem.limit ? "" : "invalid YAML: "}${problem.message}`, {
    subject: { location },
    ...(problem.limit ? { hint: "write the values out instead of repeating them through aliases and deep nesting" } : {}),
  });
}

/** The value with its strings copied out of the text they were cut from ({@link ownCopy}), without recursion. */
function ownStrings(value: unknown): unknown {
  if (typeof value === "string") return ownCopy(value);
  const stack: unknown[] = [value];
  for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
    if (v === null || typeof v !== "object") continue;
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      const child = o[key];
      if (typeof child === "string") o[key] = ownCopy(child);
      else if (child !== null && typeof child === "object") stack.push(child);
    }
  }
  return value;
}

function lineAt(text: string, offset: number): string {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  const end = text.indexOf("\n", offset);
  return text.slice(start, end === -1 ? text.length : end);
}

/** True for a `v1` `List` whose items are to be read as objects. */
export function isListKind(obj: KObject): boolean {
  return obj["kind"] === "List" && obj["apiVersion"] === "v1" && Array.isArray(obj["items"]);
}

/** The annotation that turns substitution off for one object. */
export const substituteAnnotation = "gitward.dev/substitute";
/** Flux's annotation (or label) for the same, honoured so that repositories written for Flux keep their opt-outs. */
export const fluxSubstituteAnnotation = "kustomize.toolkit.fluxcd.io/substitute";
const optOutKeys = [substituteAnnotation, fluxSubstituteAnnotation];

function substitutionDisabled(doc: Document): boolean {
  // A SOPS-encrypted document is used as the sops tool wrote it: its MAC covers its clear values too.
  if (doc.has("sops")) return true;
  return ["annotations", "labels"].some((field) => optOutKeys.some((key) => doc.getIn(["metadata", field, key]) === "disabled"));
}

/**
 * True when an object turns substitution off: `gitward.dev/substitute: disabled` or Flux's
 * `kustomize.toolkit.fluxcd.io/substitute: disabled`, as an annotation or a label; and for a
 * SOPS-encrypted document, always.
 */
export function hasSubstitutionDisabled(obj: KObject): boolean {
  // A SOPS-encrypted document is used as the sops tool wrote it: its MAC covers its clear values too.
  if (isRecord(obj["sops"])) return true;
  const metadata: unknown = obj["metadata"];
  if (!isRecord(metadata)) return false;
  return ["annotations", "labels"].some((field) => {
    const map: unknown = metadata[field];
    return isRecord(map) && optOutKeys.some((key) => map[key] === "disabled");
  });
}
