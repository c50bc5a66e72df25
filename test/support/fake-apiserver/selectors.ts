import { badRequest } from "./errors.ts";
import type { JsonObject } from "./values.ts";
import { isObject } from "./values.ts";

/** One requirement of a label selector. */
export interface Requirement {
  readonly key: string;
  readonly op: "=" | "!=" | "in" | "notin" | "exists" | "!exists" | "gt" | "lt";
  readonly values: readonly string[];
}

/** A parsed selector: every requirement must hold. */
export type Selector = readonly Requirement[];

type Token = { readonly t: "id" | "op" | "end"; readonly text: string };

const symbols = ["!=", "==", "!", "=", "(", ")", ",", ">", "<"];

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] ?? "";
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const sym = symbols.find((s) => input.startsWith(s, i));
    if (sym !== undefined) {
      tokens.push({ t: "op", text: sym });
      i += sym.length;
      continue;
    }
    let j = i;
    while (j < input.length && !/\s/.test(input[j] ?? "") && !"!=(),<>".includes(input[j] ?? "")) j++;
    tokens.push({ t: "id", text: input.slice(i, j) });
    i = j;
  }
  tokens.push({ t: "end", text: "" });
  return tokens;
}

/**
 * Parses a label selector as k8s.io/apimachinery's labels.Parse does (`a=b`, `a==b`, `a!=b`,
 * `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`), with its error messages; errors are 400s.
 */
export function parseLabelSelector(input: string): Selector {
  const tokens = lex(input);
  let pos = 0;
  const peek = () => tokens[pos] ?? { t: "end", text: "" };
  const next = () => tokens[pos++] ?? { t: "end", text: "" };
  const out: Requirement[] = [];
  for (;;) {
    const tok = peek();
    if (tok.t === "end") return out;
    if (tok.t !== "id" && tok.text !== "!") throw badRequest(`found '${tok.text}', expected: !, identifier, or 'end of string'`);
    try {
      out.push(parseRequirement(next, peek));
    } catch (err: unknown) {
      throw badRequest(`unable to parse requirement: ${err instanceof Error ? err.message : String(err)}`);
    }
    const sep = next();
    if (sep.t === "end") return out;
    if (sep.text !== ",") throw badRequest(`found '${sep.text}', expected: ',' or 'end of string'`);
    const after = peek();
    if (after.t !== "id" && after.text !== "!") throw badRequest(`found '${after.text}', expected: identifier after ','`);
  }
}

function parseRequirement(next: () => Token, peek: () => Token): Requirement {
  let tok = next();
  const negated = tok.text === "!" && tok.t === "op";
  if (negated) tok = next();
  if (tok.t !== "id") throw new Error(`found '${tok.text}', expected: identifier`);
  const key = tok.text;
  const ahead = peek();
  if (ahead.t === "end" || ahead.text === ",") return { key, op: negated ? "!exists" : "exists", values: [] };
  if (negated) throw new Error(`found '${ahead.text}', expected: ',' or 'end of string'`);
  const opTok = next();
  const op = opTok.text === "=" || opTok.text === "==" ? "=" : opTok.text === "!=" ? "!=" : opTok.text === ">" ? "gt" : opTok.text === "<" ? "lt" : opTok.text;
  if (op === "in" || op === "notin") return { key, op, values: parseValues(next, peek) };
  if (op !== "=" && op !== "!=" && op !== "gt" && op !== "lt") {
    throw new Error(`found '${opTok.text}', expected: in, notin, =, ==, !=, gt, lt`);
  }
  const value = peek();
  if (value.t === "id") return { key, op, values: [next().text] };
  if (value.t === "end" || value.text === ",") return { key, op, values: [""] };
  throw new Error(`found '${value.text}', expected: identifier`);
}

function parseValues(next: () => Token, peek: () => Token): string[] {
  const open = next();
  if (open.text !== "(") throw new Error(`found '${open.text}' expected: '('`);
  const values: string[] = [];
  for (;;) {
    const tok = next();
    if (tok.t === "id") values.push(tok.text);
    else if (tok.text === ")" && values.length === 0) return [""];
    else throw new Error(`found '${tok.text}', expected: ',', ')' or identifier`);
    const sep = next();
    if (sep.text === ")") return values;
    if (sep.text !== ",") throw new Error(`found '${sep.text}', expected: ',' or ')'`);
    if (peek().text === ")") throw new Error(`found ')', expected: identifier`);
  }
}

/** True when the labels satisfy every requirement. */
export function matchesLabels(selector: Selector, labels: Readonly<Record<string, unknown>>): boolean {
  return selector.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = has ? String(labels[r.key]) : undefined;
    switch (r.op) {
      case "=":
        return value === r.values[0];
      case "!=":
        return value !== r.values[0];
      case "in":
        return value !== undefined && r.values.includes(value);
      case "notin":
        return value === undefined || !r.values.includes(value);
      case "exists":
        return has;
      case "!exists":
        return !has;
      case "gt":
      case "lt": {
        const n = Number(value);
        const bound = Number(r.values[0]);
        return has && !Number.isNaN(n) && (r.op === "gt" ? n > bound : n < bound);
      }
    }
  });
}

/** A parsed field selector: `path=value` / `path!=value` terms. */
export type FieldSelector = readonly { readonly path: string; readonly equal: boolean; readonly value: string }[];

/** Parses a field selector (`metadata.name=x,metadata.namespace!=y`); errors are 400s. */
export function parseFieldSelector(input: string): FieldSelector {
  if (input.trim() === "") return [];
  return input.split(",").map((term) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (m === null) throw badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    return { path: m[1] ?? "", equal: m[2] !== "!=", value: m[3] ?? "" };
  });
}

/** True when the object's fields satisfy every term (dotted paths into the object). */
export function matchesFields(selector: FieldSelector, obj: JsonObject): boolean {
  return selector.every(({ path, equal, value }) => {
    let node: unknown = obj;
    for (const part of path.split(".")) node = isObject(node) ? node[part] : undefined;
    const actual = typeof node === "string" || typeof node === "number" || typeof node === "boolean" ? String(node) : "";
    return (actual === value) === equal;
  });
}
