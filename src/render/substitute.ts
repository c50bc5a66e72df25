import { parse, Scalar, visit, type Document, type LineCounter } from "yaml";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { toLineColumn } from "../core/yaml-positions.ts";

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
      node.value = retype(replaced);
      return undefined;
    },
  });
}

function retype(text: string): unknown {
  if (text === "") return text;
  try {
    const value: unknown = parse(text, { version: "1.2" });
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
