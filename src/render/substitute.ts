import { parse, Scalar, visit, type Document, type LineCounter } from "yaml";
import { toLineColumn } from "../core/yaml-positions.ts";
import { SubstitutionError, VarResolver, type SubstituteOptions, type Vars } from "./var-resolver.ts";
import { referenceOffset, VariableError } from "./variable-error.ts";
import { keepOverflowAsText, resolveCoreScalar } from "./yaml-core-scalar.ts";
import { PlainTemplate } from "./yaml-fast.ts";

export { SubstitutionError, VarResolver, type SubstituteOptions, type Vars } from "./var-resolver.ts";

/**
 * Substitutes the references in one string by the rule of {@link VarResolver}; a convenience
 * for single strings (a resolver built once serves a whole stack).
 */
export function substituteString(text: string, vars: Vars, options: SubstituteOptions = {}): string {
  return new VarResolver(vars, options).substitute(text);
}

/** The text a document was parsed from, to point errors at the `${…}` that failed. */
export interface DocumentSource {
  readonly file: string;
  readonly text: string;
  readonly counter: LineCounter;
}

/**
 * Substitutes inside the string scalars of a parsed YAML document, so values cannot inject
 * YAML structure. A plain (unquoted) scalar is re-typed after substitution (`replicas: ${n}`
 * becomes a number), as it would be had the text been substituted before parsing. A failure
 * is a {@link VariableError} at the line and column of the reference in the source.
 */
export function substituteDocument(doc: Document, resolver: VarResolver, source: DocumentSource): void {
  visit(doc, {
    Scalar(key, node) {
      if (typeof node.value !== "string" || !node.value.includes("${")) return undefined;
      let replaced: string;
      try {
        replaced = resolver.substitute(node.value);
      } catch (e: unknown) {
        throw positioned(e, source, node.range ?? undefined);
      }
      if (key === "key" || node.type !== Scalar.PLAIN) {
        node.value = replaced;
        return undefined;
      }
      node.value = retypePlain(replaced);
      return undefined;
    },
  });
}

/**
 * Substitutes inside a value read by the fast parser, in place where it can: a
 * {@link PlainTemplate} is substituted and re-typed, any other string holding `${` (quoted
 * or block scalars, keys) is only substituted. Without a resolver, templates go back to their
 * text (an object that opted out). The result equals what {@link substituteDocument} and
 * `toJS` give; where keys would collide after substitution it throws, and the caller
 * leaves the file to the reference path.
 */
export function substituteValue(value: unknown, resolver: VarResolver | undefined): unknown {
  if (typeof value === "string") return resolver !== undefined && value.includes("${") ? resolver.substitute(value) : value;
  if (value === null || typeof value !== "object") return value;
  if (value instanceof PlainTemplate) return resolver === undefined ? value.text : retypePlain(resolver.substitute(value.text));
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = substituteValue(value[i], resolver);
    return value;
  }
  const obj = value as Record<string, unknown>;
  let renamed = false;
  for (const key of Object.keys(obj)) {
    obj[key] = substituteValue(obj[key], resolver);
    if (resolver !== undefined && key.includes("${")) renamed = true;
  }
  return renamed && resolver !== undefined ? renameKeys(obj, resolver) : obj;
}

function renameKeys(obj: Record<string, unknown>, resolver: VarResolver): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(obj)) {
    const name = resolver.substitute(key);
    // Last-wins at the first position, `__proto__`: the reference path knows these rules.
    if (Object.hasOwn(out, name) || name === "__proto__") throw new Error(`key "${name}" is ambiguous after substitution`);
    out[name] = v;
  }
  return out;
}

// Text made only of these characters, and not a document marker, is a plain scalar when
// parsed alone (or a map like `a:`, which stays text), so the core schema types it.
const simplePlain = /^[A-Za-z0-9_.+/=:-]+$/;

/**
 * Types the result of substituting in a plain scalar as YAML 1.2 would type that text in
 * its place; a result that would be a map or a list stays a string.
 */
export function retypePlain(text: string): unknown {
  if (text === "") return text;
  if (simplePlain.test(text) && !text.startsWith("---") && !text.startsWith("...")) return resolveCoreScalar(text);
  return retypeWithYaml(text);
}

/** {@link retypePlain} by parsing with the `yaml` package, the reference. */
export function retypeWithYaml(text: string): unknown {
  if (text === "") return text;
  try {
    const value: unknown = parse(text, { version: "1.2", customTags: keepOverflowAsText });
    return value !== null && typeof value === "object" ? text : value;
  } catch {
    return text;
  }
}

function positioned(e: unknown, source: DocumentSource, range: readonly [number, number, number] | undefined): unknown {
  if (!(e instanceof SubstitutionError)) return e;
  const offset = range === undefined ? undefined : (referenceOffset(source.text, e, range[0], range[1]) ?? range[0]);
  const pos = offset === undefined ? undefined : toLineColumn(source.counter, offset);
  return new VariableError(e, pos === undefined ? { file: source.file } : { file: source.file, line: pos.line, column: pos.column });
}
