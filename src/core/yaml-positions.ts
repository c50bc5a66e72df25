import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";

/** A 1-based line and column. */
export interface LineColumn {
  readonly line: number;
  readonly column: number;
}

/** A path into a YAML document: map keys and sequence indexes. */
export type YamlPath = readonly (string | number)[];

/**
 * Finds where a path points in a parsed YAML document. When the path runs past what
 * exists (a missing key), it answers the deepest node that does exist, so an error about a
 * missing field points at its parent. With `keyOf`, the position of that key in the map at
 * the path is answered; with `preferKey`, the key of the last segment rather than its value.
 */
export function locateInDocument(
  doc: Document,
  counter: LineCounter,
  path: YamlPath,
  options: { keyOf?: string; preferKey?: boolean } = {},
): LineColumn | undefined {
  let node: Node | null | undefined = doc.contents;
  let best: Node | null | undefined = node;
  for (const segment of path) {
    const next = childOf(node, segment);
    if (next === undefined) break;
    node = next.value;
    // A scalar is pointed at itself; a map or list at its key, the line a reader looks for.
    best = options.preferKey === true || isMap(node) || isSeq(node) ? (next.key ?? node) : (node ?? next.key);
  }
  if (options.keyOf !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === options.keyOf);
    const keyNode = pair?.key as Node | undefined;
    const keyRange = keyNode?.range;
    if (keyRange !== undefined && keyRange !== null) return toLineColumn(counter, keyRange[0]);
  }
  const range = best?.range;
  return range === undefined || range === null ? undefined : toLineColumn(counter, range[0]);
}

function childOf(
  node: Node | null | undefined,
  segment: string | number,
): { key?: Node; value: Node | null | undefined } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
    if (pair === undefined) return undefined;
    return { key: pair.key as Node, value: pair.value as Node | null };
  }
  if (isSeq(node) && typeof segment === "number") {
    const item = node.items[segment] as Node | undefined;
    return item === undefined ? undefined : { value: item };
  }
  return undefined;
}

/** The 1-based line and column of an offset in a text, counting `\n` as LineCounter does, without a parse. */
export function lineColumnOf(text: string, offset: number): LineColumn {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf("\n"); at !== -1 && at < offset; at = text.indexOf("\n", at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** Converts a character offset to a 1-based line and column. */
export function toLineColumn(counter: LineCounter, offset: number): LineColumn {
  const pos = counter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** Parses `a.b[0].c` (the field path form findings use) into a YAML path. */
export function parseFieldPath(field: string): YamlPath {
  const out: (string | number)[] = [];
  for (const part of field.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    out.push(part.startsWith("[") ? Number(part.slice(1, -1)) : part);
  }
  return out;
}

/** Formats a YAML path as `a.b[0].c`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out;
}
