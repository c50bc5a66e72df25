import { LineCounter, parseAllDocuments, type Document } from "yaml";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { isRecord, type KObject } from "../core/object.ts";
import type { SourceLocation } from "../core/location.ts";
import { toLineColumn } from "../core/yaml-positions.ts";
import { substituteDocument, substituteValue, VarResolver, type DocumentSource, type SubstituteOptions, type Vars } from "./substitute.ts";
import { keepOverflowAsText } from "./yaml-core-scalar.ts";
import { parseYamlFast, PlainTemplate } from "./yaml-fast.ts";

/** One object parsed from a manifest file, with the line its document starts on. */
export interface ParsedManifest {
  readonly object: KObject;
  readonly location: SourceLocation;
}

/** Options for {@link parseManifestFile}. */
export interface ParseOptions {
  /** Variables to substitute; undefined turns substitution off. */
  readonly vars: Vars | undefined;
  /** Which other `${…}` are gitward's (declared names, strict); see {@link VarResolver}. */
  readonly substitution?: SubstituteOptions;
}

function resolverFor(options: ParseOptions): VarResolver | undefined {
  return options.vars === undefined ? undefined : new VarResolver(options.vars, options.substitution);
}

/** True for the file names the plain renderer reads. */
export function isManifestFile(path: string): boolean {
  return /\.(ya?ml|json)$/i.test(path);
}

/**
 * Parses a YAML 1.2 or JSON file holding any number of documents into objects. Empty
 * documents are skipped; `kind: List` documents are expanded; anything else that is not
 * a mapping is an error naming the file and line. A binary file is refused.
 *
 * Most files are read by the fast parser; whatever it declines (errors included) is read
 * by the reference parser, so results and messages are those of the reference.
 */
export function parseManifestFile(file: string, content: Buffer, options: ParseOptions): ParsedManifest[] {
  if (content.subarray(0, 8000).includes(0)) {
    throw new GitwardError(ErrorCode.Render, "binary file is not a manifest", { subject: { location: { file } } });
  }
  const text = content.toString("utf8");
  const resolver = resolverFor(options);
  return readFast(file, text, resolver) ?? readReference(file, text, resolver);
}

/**
 * Reads manifests with js-yaml ({@link parseYamlFast}), or answers undefined when the file
 * must go to {@link parseManifestsReference}: anything the fast parser declines, and any
 * error (syntax, substitution, a document that is not an object), whose message and
 * position the reference gives.
 */
export function parseManifestsFast(file: string, text: string, options: ParseOptions): ParsedManifest[] | undefined {
  return readFast(file, text, resolverFor(options));
}

function readFast(file: string, text: string, resolver: VarResolver | undefined): ParsedManifest[] | undefined {
  const docs = parseYamlFast(text, { templates: resolver !== undefined });
  if (docs === undefined) return undefined;
  const out: ParsedManifest[] = [];
  try {
    for (const doc of docs) {
      let value = doc.value;
      if (value === null) continue;
      if (value instanceof PlainTemplate || !isRecord(value) || doc.start === undefined) return undefined;
      if (resolver !== undefined) value = substituteValue(value, substitutionOff(value) ? undefined : resolver);
      if (!isRecord(value)) return undefined;
      const location = { file, line: doc.start.line, column: doc.start.column };
      if (!isListKind(value)) {
        out.push({ object: value, location });
        continue;
      }
      for (const item of value["items"] as unknown[]) {
        if (!isRecord(item)) return undefined;
        out.push({ object: item, location });
      }
    }
  } catch {
    return undefined;
  }
  return out;
}

/**
 * Reads manifests with the `yaml` package: the reference for what every file means and
 * for every error message. Slower than {@link parseManifestsFast}.
 */
export function parseManifestsReference(file: string, text: string, options: ParseOptions): ParsedManifest[] {
  return readReference(file, text, resolverFor(options));
}

function readReference(file: string, text: string, resolver: VarResolver | undefined): ParsedManifest[] {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter: counter, version: "1.2", uniqueKeys: true, prettyErrors: false,
    // kubectl reads `<<: *anchor` merge keys (a YAML 1.1 feature); manifests rely on them.
    merge: true,
    customTags: keepOverflowAsText,
  });
  const out: ParsedManifest[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    out.push(...documentObjects(doc, { file, text, counter }, resolver));
  }
  return out;
}

function documentObjects(doc: Document, source: DocumentSource, resolver: VarResolver | undefined): ParsedManifest[] {
  const { file, text, counter } = source;
  const error = doc.errors[0];
  if (error !== undefined) {
    const pos = toLineColumn(counter, error.pos[0]);
    const msg = error.message.split("\n")[0] ?? error.message;
    const lineText = text.split("\n")[pos.line - 1] ?? "";
    throw new GitwardError(ErrorCode.Render, `invalid YAML: ${msg}`, {
      subject: { location: { file, line: pos.line, column: pos.column } },
      ...(lineText.includes("${") ? { hint: "inside a flow collection ({...} or [...]), quote a ${var}: \"${var}\"" } : {}),
    });
  }
  const range = doc.contents?.range;
  if (range === undefined || range === null) return [];
  const start = toLineColumn(counter, range[0]);
  const location = { file, line: start.line, column: start.column };
  if (resolver !== undefined && !substitutionDisabled(doc)) substituteDocument(doc, resolver, source);
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
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

function isListKind(obj: KObject): boolean {
  return obj["kind"] === "List" && obj["apiVersion"] === "v1" && Array.isArray(obj["items"]);
}

/** The annotation that turns substitution off for one object. */
export const substituteAnnotation = "gitward.dev/substitute";
/** Flux's annotation (or label) for the same, honoured so that repositories written for Flux keep their opt-outs. */
export const fluxSubstituteAnnotation = "kustomize.toolkit.fluxcd.io/substitute";
const optOutKeys = [substituteAnnotation, fluxSubstituteAnnotation];

function substitutionDisabled(doc: Document): boolean {
  return ["annotations", "labels"].some((field) => optOutKeys.some((key) => doc.getIn(["metadata", field, key]) === "disabled"));
}

/**
 * True when an object turns substitution off: `gitward.dev/substitute: disabled` or Flux's
 * `kustomize.toolkit.fluxcd.io/substitute: disabled`, as an annotation or a label.
 */
export function hasSubstitutionDisabled(obj: KObject): boolean {
  return substitutionOff(obj);
}

function substitutionOff(obj: KObject): boolean {
  const metadata: unknown = obj["metadata"];
  if (!isRecord(metadata)) return false;
  return ["annotations", "labels"].some((field) => {
    const map: unknown = metadata[field];
    return isRecord(map) && optOutKeys.some((key) => map[key] === "disabled");
  });
}
