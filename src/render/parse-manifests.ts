import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { SourceLocation } from "../core/location.ts";
import { isRecord } from "../core/object.ts";
import { decodeUtf8, describeInvalidUtf8 } from "../core/utf8.ts";
import { isStackOverflow, stackOverflowProblem } from "../core/yaml-limits.ts";
import { lineColumnOf } from "../core/yaml-positions.ts";
import { defaultChunkSize, hasDirectiveLines, splitDocuments } from "./manifest-chunks.ts";
import {
  hasSubstitutionDisabled, isListKind, readReferenceRange, readReferenceWhole, yamlProblemError, type ParsedManifest,
} from "./parse-reference.ts";
import { StringPool } from "./string-pool.ts";
import { substituteValue, VarResolver, type SubstituteOptions, type Vars } from "./substitute.ts";
import { parseYamlFast, PlainTemplate } from "./yaml-fast.ts";

export { fluxSubstituteAnnotation, hasSubstitutionDisabled, substituteAnnotation, type ParsedManifest } from "./parse-reference.ts";

/** A bound on the objects one file may give; the first one past it is a `limit` error at its document. */
export interface ObjectLimit {
  readonly max: number;
  /** The error message, e.g. `more than 10000 objects in one file (limits.maxObjectsPerFile)`. */
  readonly message: string;
  readonly hint?: string;
}

/** Options for {@link parseManifestFile}. */
export interface ParseOptions {
  /** Variables to substitute; undefined turns substitution off. */
  readonly vars: Vars | undefined;
  /** Which other `${…}` are gitward's (declared names, strict); see {@link VarResolver}. */
  readonly substitution?: SubstituteOptions;
  /** Most objects the file may give; unbounded without. */
  readonly objectLimit?: ObjectLimit;
  /** Characters per chunk the file is read in (tests make it small); default {@link defaultChunkSize}. */
  readonly chunkSize?: number;
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
 * a mapping is an error naming the file and line. A binary file, and text that is not UTF-8,
 * are refused.
 *
 * The file is read a few documents at a time ({@link splitDocuments}), so memory holds the
 * objects and one chunk's parse, not a parse of the whole file. Most chunks are read by the
 * fast parser; whatever it declines (errors included) is read by the reference parser, so
 * results and messages are those of the reference reading the whole file.
 */
export function parseManifestFile(file: string, content: Buffer, options: ParseOptions): ParsedManifest[] {
  const text = manifestText(file, content);
  const resolver = resolverFor(options);
  const limit = options.objectLimit;
  // The fast parser declines directives, after reading everything: not worth its memory.
  const fast = !hasDirectiveLines(text);
  const pool = new StringPool();
  const out: ParsedManifest[] = [];
  for (const chunk of splitDocuments(text, options.chunkSize ?? defaultChunkSize)) {
    const part = chunk.start === 0 && chunk.end === text.length ? text : text.slice(chunk.start, chunk.end);
    let parsed: ParsedManifest[];
    try {
      parsed = (fast ? readFast(file, part, resolver, chunk.lineOffset, pool) : undefined) ?? readReferenceRange(file, text, chunk, resolver);
    } catch (e: unknown) {
      if (!isStackOverflow(e)) throw e;
      const problem = stackOverflowProblem(part);
      const pos = lineColumnOf(part, problem.offset ?? 0);
      throw yamlProblemError(problem, { file, line: pos.line + chunk.lineOffset, column: pos.column });
    }
    for (const m of parsed) {
      if (limit !== undefined && out.length >= limit.max) {
        throw new GitwardError(ErrorCode.Limit, limit.message, { subject: { location: m.location }, ...(limit.hint === undefined ? {} : { hint: limit.hint }) });
      }
      out.push(m);
    }
  }
  return out;
}

/** The text of a manifest file: refused when binary (a NUL byte early on) or not UTF-8, at the line of the first bad byte. */
export function manifestText(file: string, content: Buffer): string {
  if (content.subarray(0, 8000).includes(0)) {
    throw new GitwardError(ErrorCode.Render, "binary file is not a manifest", { subject: { location: { file } } });
  }
  const decoded = decodeUtf8(content);
  if ("text" in decoded) return decoded.text;
  const { line, column } = decoded.invalid;
  throw new GitwardError(ErrorCode.Render, `${describeInvalidUtf8(decoded.invalid)}: manifests must be UTF-8 text`, {
    subject: { location: { file, line, column } },
    hint: "save the file as UTF-8 (kubectl refuses other encodings too)",
  });
}

/**
 * Reads manifests with js-yaml ({@link parseYamlFast}), or answers undefined when the file
 * must go to {@link parseManifestsReference}: anything the fast parser declines, and any
 * error (syntax, substitution, a document that is not an object), whose message and
 * position the reference gives.
 */
export function parseManifestsFast(file: string, text: string, options: ParseOptions): ParsedManifest[] | undefined {
  return readFast(file, text, resolverFor(options), 0);
}

function readFast(file: string, text: string, resolver: VarResolver | undefined, lineOffset: number, pool?: StringPool): ParsedManifest[] | undefined {
  const docs = parseYamlFast(text, { templates: resolver !== undefined, ...(pool === undefined ? {} : { pool }) });
  if (docs === undefined) return undefined;
  const out: ParsedManifest[] = [];
  try {
    for (const doc of docs) {
      let value = doc.value;
      if (value === null) continue;
      if (value instanceof PlainTemplate || !isRecord(value) || doc.start === undefined) return undefined;
      if (resolver !== undefined) value = substituteValue(value, hasSubstitutionDisabled(value) ? undefined : resolver);
      if (!isRecord(value)) return undefined;
      const location: SourceLocation = { file, line: doc.start.line + lineOffset, column: doc.start.column };
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
 * Reads manifests with the `yaml` package, the whole text at once: the reference for what
 * every file means and for every error message. Slower than {@link parseManifestsFast}, and
 * holds the parse of the whole file; {@link parseManifestFile} answers the same.
 */
export function parseManifestsReference(file: string, text: string, options: ParseOptions): ParsedManifest[] {
  return readReferenceWhole(file, text, resolverFor(options));
}
