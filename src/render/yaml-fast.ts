import {
  constructFromEvents, defineMappingTag, defineScalarTag, EVENT_ID, FAILSAFE_SCHEMA, parseEvents, SCALAR_STYLE, type Event, type ScalarEvent, type Schema,
} from "js-yaml";
import { yamlLimits } from "../core/yaml-limits.ts";
import type { LineColumn } from "../core/yaml-positions.ts";
import { ownCopy, type StringPool } from "./string-pool.ts";
import { resolveCoreScalar } from "./yaml-core-scalar.ts";

/**
 * A plain (unquoted) scalar whose text holds `${`: substitution replaces it with the
 * re-typed result, as if the text had been substituted before parsing.
 */
export class PlainTemplate {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** One document read by {@link parseYamlFast}: its value and where its content starts. */
export interface FastDocument {
  /** Plain objects, arrays, strings, numbers, booleans, null and {@link PlainTemplate}s. */
  readonly value: unknown;
  /** Where the root node starts, as the `yaml` package's LineCounter counts; undefined for an empty document. */
  readonly start: LineColumn | undefined;
}

/** Options for {@link parseYamlFast}. */
export interface FastParseOptions {
  /** Read plain scalars holding `${` as {@link PlainTemplate}s rather than strings. */
  readonly templates: boolean;
  /** Where string values are kept once (a file's); without, each is its own copy. */
  readonly pool?: StringPool;
}

/** Thrown inside the parser for input that only the reference parser may judge. */
class Declined extends Error {}

/**
 * Parses a multi-document YAML 1.2 text with js-yaml, typing scalars exactly as the `yaml`
 * package does. It answers undefined, rather than a value or an error, for anything whose
 * meaning or message it does not vouch for: a syntax error or duplicate key; anchors,
 * aliases and merge keys (their limits and copying differ between the two libraries); tags
 * and directives; keys that are not scalars or are `__proto__`; collections nested deeper than
 * {@link yamlLimits} allow (the reference refuses them); and the few inputs that
 * js-yaml accepts and the `yaml` package refuses (see {@link readsDifferently} and
 * {@link isLongKey}). The caller then parses with the `yaml` package, the reference.
 */
export function parseYamlFast(text: string, options: FastParseOptions): FastDocument[] | undefined {
  if (readsDifferently(text)) return undefined;
  try {
    // js-yaml's own depth limit (100 by default) stays above gitward's: the reference judges depth.
    const events = parseEvents(text, { maxDepth: 2 * yamlLimits.maxDepth });
    const offsets = documentOffsets(events, text);
    if (offsets === undefined) return undefined;
    const schema = options.pool !== undefined ? fastSchema(options.templates, (t) => options.pool?.own(t) ?? t) : options.templates ? templateSchema : plainSchema;
    const values = constructFromEvents(events, { source: text, schema });
    if (values.length !== offsets.length) return undefined;
    const starts = lineColumns(text, offsets);
    return values.map((value, i) => ({ value, start: starts[i] }));
  } catch {
    return undefined;
  }
}

/** The root node offset of each document, or undefined when a feature the fast path declines is used. */
function documentOffsets(events: readonly Event[], text: string): number[] | undefined {
  const offsets: number[] = [];
  const longLines = hasLineLongerThan(text, maxKeySpan);
  const blockScalars: ScalarEvent[] | undefined = text.includes("\t") ? [] : undefined;
  // What each POP closes: true for a collection, false for a document.
  const open: boolean[] = [];
  let depth = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e === undefined) break;
    if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) {
      open.push(true);
      if (++depth > yamlLimits.maxDepth) return undefined;
    } else if (e.type === EVENT_ID.DOCUMENT) open.push(false);
    else if (e.type === EVENT_ID.POP && open.pop() === true) depth--;
    switch (e.type) {
      case EVENT_ID.DOCUMENT: {
        if (e.directives.length > 0) return undefined;
        const root = events[i + 1];
        offsets.push(root === undefined ? -1 : root.type === EVENT_ID.SCALAR ? root.valueStart : root.type === EVENT_ID.MAPPING || root.type === EVENT_ID.SEQUENCE ? root.start : -1);
        break;
      }
      case EVENT_ID.ALIAS:
        return undefined;
      case EVENT_ID.SCALAR:
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE:
        if (e.anchorStart !== -1 || e.tagStart !== -1) return undefined;
        if (e.type !== EVENT_ID.SCALAR) break;
        if (longLines && isLongKey(e, text)) return undefined;
        if (blockScalars !== undefined && (e.style === SCALAR_STYLE.LITERAL_BLOCK || e.style === SCALAR_STYLE.FOLDED_BLOCK)) blockScalars.push(e);
        break;
      default:
        break;
    }
  }
  return blockScalars !== undefined && hasTabIndent(text, blockScalars) ? undefined : offsets;
}

/**
 * True when a line outside block scalar content has a tab in its indentation before some
 * content or a comment. The `yaml` package refuses most such lines; js-yaml takes a few
 * (after an explicit key, or a comment after a block scalar).
 */
function hasTabIndent(text: string, blockScalars: readonly ScalarEvent[]): boolean {
  const tabIndented = /^[ \t]*\t[ \t]*\S/gm;
  for (let m = tabIndented.exec(text); m !== null; m = tabIndented.exec(text)) {
    const at = m.index;
    if (!blockScalars.some((e) => e.valueStart <= at && at < e.valueEnd)) return true;
  }
  return false;
}

/** Line and column of each offset (in increasing order; -1 for none), counting `\n` as LineCounter does. */
function lineColumns(text: string, offsets: readonly number[]): (LineColumn | undefined)[] {
  let line = 1;
  let lineStart = 0;
  let nl = text.indexOf("\n");
  return offsets.map((offset) => {
    if (offset < lineStart) return undefined;
    for (; nl !== -1 && nl < offset; nl = text.indexOf("\n", nl + 1)) {
      line++;
      lineStart = nl + 1;
    }
    return { line, column: offset - lineStart + 1 };
  });
}

// The `yaml` package refuses an implicit key whose `:` is more than 1024 characters after its
// start; js-yaml takes it. Only a line that long can hold one.
const maxKeySpan = 1000;

function hasLineLongerThan(text: string, length: number): boolean {
  let start = 0;
  for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
    if (nl - start > length) return true;
    start = nl + 1;
  }
  return text.length - start > length;
}

/** True for a scalar followed on its line by `:` (a key) that ends further than {@link maxKeySpan} from its start. */
function isLongKey(e: ScalarEvent, text: string): boolean {
  if (e.valueStart === -1) return false;
  const quoted = e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED;
  let p = e.valueEnd + (quoted ? 1 : 0);
  while (text.charCodeAt(p) === 0x20 || text.charCodeAt(p) === 0x09) p++;
  return text.charCodeAt(p) === 0x3a && p - e.valueStart > maxKeySpan;
}

/** Characters the two libraries read differently, wherever they occur. */
function readsDifferently(text: string): boolean {
  // js-yaml takes a byte order mark before any document, the `yaml` package only at the start.
  if (text.indexOf("\uFEFF", 1) !== -1) return true;
  // A blank line holding a tab, after a block scalar less indented than it: js-yaml takes
  // it as the scalar's trailing blank line, the `yaml` package refuses it.
  if (text.includes("\t") && /^[ \t]*\t[ \t]*\r?$/m.test(text)) return true;
  // Content after a `...` document end marker: js-yaml takes it after an earlier `...`.
  if (text.includes("...") && /^\.\.\.[ \t]+[^\s#]/m.test(text)) return true;
  // js-yaml breaks lines at a lone CR, the `yaml` package does not.
  for (let i = text.indexOf("\r"); i !== -1; i = text.indexOf("\r", i + 1)) {
    if (text.charCodeAt(i + 1) !== 0x0a) return true;
  }
  return false;
}

// Immutable, and built once: building them per file costs about 8 µs (with a pool, per chunk).
const plainSchema = fastSchema(false, ownCopy);
const templateSchema = fastSchema(true, ownCopy);

/** The schema of the fast parser; `own` is applied to every string value, so none is a view of the text. */
function fastSchema(templates: boolean, own: (text: string) => string): Schema {
  const plain = defineScalarTag("tag:gitward.dev,2026:plain", {
    implicit: true,
    implicitFirstChars: null,
    resolve(text) {
      // `<<` is a merge key to the `yaml` package; merges are left to it.
      if (text === "<<") throw new Declined("merge key");
      if (templates && text.includes("${")) return new PlainTemplate(text);
      const value = resolveCoreScalar(text);
      return value === text ? own(text) : value;
    },
    identify: () => false,
  });
  // Quoted and block scalars: the default, with the same copy.
  const str = defineScalarTag("tag:yaml.org,2002:str", { resolve: own, identify: () => false });
  const map = defineMappingTag<Record<string, unknown>>("tag:yaml.org,2002:map", {
    create: () => ({}),
    addPair(obj, key, value) {
      const name = keyText(key);
      // `__proto__` needs defineProperty; leave it to the reference parser.
      if (name === undefined || name === "__proto__") return "key left to the reference parser";
      obj[name] = value;
      return "";
    },
    has(obj, key) {
      const name = keyText(key);
      return name !== undefined && Object.hasOwn(obj, name);
    },
    keys: (obj) => Object.keys(obj),
    get: (obj, key) => obj[String(key)],
    identify: () => false,
  });
  return FAILSAFE_SCHEMA.withTags(plain, str, map);
}


/** The property name the `yaml` package gives a scalar key (`String(value)`), or undefined to decline. */
function keyText(key: unknown): string | undefined {
  if (typeof key === "string") return key;
  if (key instanceof PlainTemplate) return key.text;
  if (typeof key === "number" || typeof key === "boolean") return String(key);
  return undefined;
}
