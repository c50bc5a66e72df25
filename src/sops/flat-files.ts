import type { JsonValue } from "../core/object.ts";
import type { CommentNode, MapEntry, MapNode, ScalarNode } from "./tree.ts";
import { SopsError } from "./types.ts";

/** A dotenv or INI SOPS file parsed for decryption: a walkable tree, its unflattened metadata, a printer. */
export interface FlatSopsFile {
  readonly branch: MapNode;
  readonly metadata: JsonValue | undefined;
  print(): string;
}

interface Line { comment?: string; key?: string; value?: string | number | boolean }

function scalar(line: Line): ScalarNode {
  return { kind: "scalar", value: line.value ?? null, set: (plain) => { line.value = plain.value; } };
}

function comment(line: Line): CommentNode {
  return { kind: "comment", text: line.comment ?? "", set: (text) => { line.comment = text; } };
}

/**
 * Reads a dotenv file as sops' dotenv store does: `#` lines are comments, every other non-empty
 * line is `KEY=VALUE` split at the first `=` (the key kept verbatim, `\n` in values a newline),
 * and `sops_*` keys are the flattened metadata.
 */
export function readDotenvSopsFile(text: string): FlatSopsFile {
  const lines: Line[] = [];
  const meta: [string, string][] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    if (raw === "") continue;
    if (raw.startsWith("#")) { lines.push({ comment: raw.slice(1) }); continue; }
    const eq = raw.indexOf("=");
    if (eq < 0) throw new SopsError("malformed", `dotenv line ${i + 1} has no '='`);
    const key = raw.slice(0, eq);
    const value = raw.slice(eq + 1).replaceAll("\\n", "\n");
    if (key.startsWith("sops_")) meta.push([key.slice(5), value]);
    else lines.push({ key, value });
  }
  const items = lines.map((l): MapEntry | CommentNode => l.key === undefined ? comment(l) : { kind: "entry", key: l.key, value: scalar(l) });
  return {
    branch: { kind: "map", items },
    metadata: meta.length === 0 ? undefined : unflatten(meta),
    print: () => lines.map((l) => l.key === undefined ? `#${l.comment ?? ""}\n` : `${l.key}=${toText(l.value).replaceAll("\n", "\\n")}\n`).join(""),
  };
}

function toText(v: string | number | boolean | undefined): string {
  return typeof v === "boolean" ? (v ? "true" : "false") : String(v ?? "");
}

interface Section { name: string; comment?: string; keys: Line[] }

/**
 * Reads an INI file as sops' INI store does (through go-ini): sections are top-level maps, `;`/`#`
 * lines are the comment of the next key or section, `"""` opens a multi-line value, and the
 * `[sops]` section holds the flattened metadata (`\n` escaped).
 */
export function readIniSopsFile(text: string): FlatSopsFile {
  const sections: Section[] = [{ name: "DEFAULT", keys: [] }];
  const meta: [string, string][] = [];
  let current = sections[0] as Section;
  let pending: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trimStart();
    if (line === "") continue;
    if (line.startsWith(";") || line.startsWith("#")) { pending.push(line); continue; }
    if (line.startsWith("[")) {
      const end = line.indexOf("]");
      if (end < 0) throw new SopsError("malformed", `INI line ${i + 1}: unclosed section header`);
      current = { name: line.slice(1, end).trim(), keys: [] };
      if (pending.length > 0) current.comment = stripCommentChar(pending.join("\n"));
      pending = [];
      sections.push(current);
      continue;
    }
    const at = line.search(/[=:]/);
    if (at < 0) throw new SopsError("malformed", `INI line ${i + 1} has no '='`);
    const key = line.slice(0, at).trim();
    let value = line.slice(at + 1).trim();
    if (value.startsWith('"""')) {
      let body = value.slice(3);
      while (!body.includes('"""') && i + 1 < lines.length) body += `\n${lines[++i] ?? ""}`;
      value = body.slice(0, body.indexOf('"""') < 0 ? body.length : body.indexOf('"""'));
    } else if ((value.startsWith('"') || value.startsWith("`")) && value.length > 1 && value.endsWith(value.charAt(0))) {
      value = value.slice(1, -1);
    } else {
      const cut = value.search(/[#;]/);
      if (cut >= 0) value = value.slice(0, cut).trimEnd();
    }
    const entry: Line = { key, value };
    if (pending.length > 0) entry.comment = stripCommentChar(pending.join("\n"));
    pending = [];
    if (current.name === "sops") meta.push([key, value.replaceAll("\\n", "\n")]);
    else current.keys.push(entry);
  }
  const kept = sections.filter((s) => s.name !== "sops" && !(s.name === "DEFAULT" && s.keys.length === 0));
  const items: MapEntry[] = kept.map((s) => {
    const inner: (MapEntry | CommentNode)[] = [];
    if (s.comment !== undefined) inner.push({ kind: "comment", text: s.comment, set: (t) => { s.comment = t; } });
    for (const k of s.keys) {
      inner.push({ kind: "entry", key: k.key ?? "", value: scalar(k) });
      if (k.comment !== undefined) inner.push(comment(k));
    }
    return { kind: "entry", key: s.name, value: { kind: "map", items: inner } };
  });
  return {
    branch: { kind: "map", items },
    metadata: sections.some((s) => s.name === "sops") ? unflatten(meta) : undefined,
    print: () => kept.map(printSection).join("\n"),
  };
}

function stripCommentChar(text: string): string {
  if (text.startsWith(";")) return text.replace(/^[; ]+/, "");
  if (text.startsWith("#")) return text.replace(/^[# ]+/, "");
  return text;
}

// go-ini's pretty output: `; ` comments above what they describe, keys padded to one column.
function printSection(s: Section): string {
  const width = Math.max(0, ...s.keys.map((k) => (k.key ?? "").length));
  const commentLines = (c: string | undefined): string => c === undefined || c === "" ? "" : c.split("\n").map((l) => (/^[;#]/.test(l) ? l : `; ${l}`) + "\n").join("");
  let out = commentLines(s.comment);
  if (s.name !== "DEFAULT") out += `[${s.name}]\n`;
  for (const k of s.keys) {
    out += commentLines(k.comment);
    out += `${(k.key ?? "").padEnd(width)} = ${quoteIniValue(toText(k.value))}\n`;
  }
  return out;
}

function quoteIniValue(value: string): string {
  if (value.includes("\n") || value.includes("`")) return `"""${value}"""`;
  if (/[#;]/.test(value)) return `\`${value}\``;
  if (value.trim() !== value) return `"${value}"`;
  return value;
}

/** sops' unflattening of `a__map_b__list_0` keys back into maps and lists (map keys sorted, as sops does). */
function unflatten(entries: readonly (readonly [string, string])[]): { [key: string]: JsonValue } {
  const root: { [key: string]: JsonValue } = {};
  for (const [flatKey, value] of entries) {
    const tokens = flatKey.split(/(__map_|__list_)/);
    let cur: JsonValue = root;
    let key: string | number = tokens[0] ?? "";
    for (let t = 1; t + 1 < tokens.length; t += 2) {
      const isList = tokens[t] === "__list_";
      const next: string | number = isList ? Number(tokens[t + 1]) : tokens[t + 1] ?? "";
      const container = cur as { [k: string]: JsonValue } & JsonValue[];
      const existing: JsonValue | undefined = container[key as never];
      if (existing === undefined) container[key as never] = (isList ? [] : {});
      cur = container[key as never] as JsonValue;
      key = next;
    }
    (cur as { [k: string]: JsonValue })[key as string] = value;
  }
  return sortKeys(root) as { [key: string]: JsonValue };
}

function sortKeys(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k] ?? null)]));
}
