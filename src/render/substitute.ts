import { parse, Scalar, visit, type Document, type LineCounter } from "yaml";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { toLineColumn } from "../core/yaml-positions.ts";
import { keepOverflowAsText, resolveCoreScalar } from "./yaml-core-scalar.ts";
import { PlainTemplate } from "./yaml-fast.ts";

const pattern = /\$(\$?)\{([^}]*)\}/g;
const varRef = /^([A-Za-z_][A-Za-z0-9_]*)(?::([=-])(.*))?$/s;

/** Variables for substitution, by name. */
export type Vars = Readonly<Record<string, string>>;

/** Why a substitution failed, with the offending text; positions are added by the caller. */
export class SubstitutionError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message);
    this.name = "SubstitutionError";
    this.variable = variable;
  }
}

/**
 * Substitutes `${var}`, `${var:=default}` and `${var:-default}` in a string, the Flux
 * convention; `$${var}` is an escape that yields the literal `${var}`. An undefined
 * variable without a default is an error.
 */
export function substituteString(text: string, vars: Vars): string {
  if (!text.includes("${")) return text;
  return text.replace(pattern, (whole, escape: string, inner: string) => {
    if (escape === "$") return whole.slice(1);
    const m = varRef.exec(inner);
    if (m === null) throw new SubstitutionError(inner, `invalid substitution "\${${inner}}": expected \${name} or \${name:=default}`);
    const name = m[1] ?? "";
    const value = vars[name];
    if (value !== undefined) return value;
    if (m[2] !== undefined) return m[3] ?? "";
    throw new SubstitutionError(name, `variable "${name}" is not defined and has no default`);
  });
}

/**
 * Substitutes inside the string scalars of a parsed YAML document, so values cannot inject
 * YAML structure. A plain (unquoted) scalar is re-typed after substitution (`replicas: ${n}`
 * becomes a number), as it would be had the text been substituted before parsing.
 */
export function substituteDocument(doc: Document, vars: Vars, file: string, counter: LineCounter): void {
  visit(doc, {
    Scalar(key, node) {
      if (typeof node.value !== "string" || !node.value.includes("${")) return undefined;
      let replaced: string;
      try {
        replaced = substituteString(node.value, vars);
      } catch (e: unknown) {
        throw positioned(e, file, counter, node.range?.[0]);
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
 * or block scalars, keys) is only substituted. Without vars, templates go back to their
 * text (an object that opted out). The result equals what {@link substituteDocument} and
 * `toJS` give; where keys would collide after substitution it throws, and the caller
 * leaves the file to the reference path.
 */
export function substituteValue(value: unknown, vars: Vars | undefined): unknown {
  if (typeof value === "string") return vars !== undefined && value.includes("${") ? substituteString(value, vars) : value;
  if (value === null || typeof value !== "object") return value;
  if (value instanceof PlainTemplate) return vars === undefined ? value.text : retypePlain(substituteString(value.text, vars));
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = substituteValue(value[i], vars);
    return value;
  }
  const obj = value as Record<string, unknown>;
  let renamed = false;
  for (const key of Object.keys(obj)) {
    obj[key] = substituteValue(obj[key], vars);
    if (vars !== undefined && key.includes("${")) renamed = true;
  }
  return renamed && vars !== undefined ? renameKeys(obj, vars) : obj;
}

function renameKeys(obj: Record<string, unknown>, vars: Vars): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(obj)) {
    const name = substituteString(key, vars);
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

function positioned(e: unknown, file: string, counter: LineCounter, offset: number | undefined): unknown {
  if (!(e instanceof SubstitutionError)) return e;
  const pos = offset === undefined ? undefined : toLineColumn(counter, offset);
  const location = pos === undefined ? { file } : { file, line: pos.line, column: pos.column };
  return new GitwardError(ErrorCode.Variable, e.message, {
    subject: { location },
    hint: "define it in the environment's or stack's vars in gitward.yaml, or give a default: ${name:=value}",
  });
}
