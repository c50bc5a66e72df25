import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document, type Node, type YAMLMap, type YAMLSeq } from "yaml";
import type { JsonValue } from "../core/object.ts";
import type { CommentNode, ListNode, MapEntry, MapNode, TreeNode } from "./tree.ts";
import { SopsError } from "./types.ts";

/** A SOPS YAML file parsed for decryption: its documents as walkable trees, the metadata, and how to print it back. */
export interface YamlSopsFile {
  readonly branches: MapNode[];
  readonly metadata: JsonValue | undefined;
  /** The documents without their `sops` map, with whatever the walk wrote into them. */
  print(): string;
}

interface CommentHolder { commentBefore?: string | null; comment?: string | null }

/**
 * Parses a YAML file as sops' YAML store reads it: every document a map, comments kept as
 * comment items of the map or list holding them (so their AAD path is that of the container),
 * the `sops` map taken from the first document and removed from all.
 */
export function readYamlSopsFile(text: string): YamlSopsFile {
  const docs = parseAllDocuments(text, { version: "1.2", uniqueKeys: false });
  if (!Array.isArray(docs)) throw new SopsError("malformed", "the YAML file holds no document");
  let metadata: JsonValue | undefined;
  const branches: MapNode[] = [];
  docs.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err !== undefined) throw new SopsError("malformed", `the YAML file does not parse: ${err.code} at line ${err.linePos?.[0].line ?? "?"}`);
    if (doc.contents === null) return;
    if (!isMap(doc.contents)) throw new SopsError("malformed", "a YAML document sops encrypted must be a map");
    const map = doc.contents;
    const at = map.items.findIndex((p) => isScalar(p.key) && p.key.value === "sops");
    if (at >= 0) {
      const pair = map.items[at];
      if (i === 0) metadata = (pair?.value as Node | null | undefined)?.toJSON() as JsonValue | undefined;
      map.items.splice(at, 1);
    }
    branches.push(mapOf(map, [doc]));
  });
  return {
    branches,
    metadata,
    print: () => docs.map((d: Document) => d.toString({ indent: 4, lineWidth: 0 }).replace(/\n+$/, "\n")).join(""),
  };
}

function commentLines(holder: CommentHolder, field: "commentBefore" | "comment"): CommentNode[] {
  const text = holder[field];
  if (typeof text !== "string" || text === "") return [];
  const lines = text.split("\n");
  return lines.flatMap((line, i) => line === "" ? [] : [{
    kind: "comment" as const,
    text: line,
    set(plain: string): void {
      lines[i] = plain;
      holder[field] = lines.join("\n");
    },
  }]);
}

function mapOf(map: YAMLMap, heads: readonly CommentHolder[]): MapNode {
  const items: (MapEntry | CommentNode)[] = [];
  for (const h of [...heads, map as CommentHolder]) items.push(...commentLines(h, "commentBefore"));
  for (const pair of map.items) {
    if (!isPair(pair)) continue;
    const key = pair.key as Node | null;
    if (!isScalar(key)) throw new SopsError("malformed", "a YAML map key is not a plain value");
    items.push(...commentLines(key, "commentBefore"), ...commentLines(key, "comment"));
    const value = pair.value as Node | null;
    const keyText = String(key.value);
    if (value === null || isScalar(value)) {
      if (value !== null) items.push(...commentLines(value, "commentBefore"));
      items.push({ kind: "entry", key: keyText, value: value === null ? { kind: "scalar", value: null, set: () => undefined } : scalarOf(value) });
      if (value !== null) items.push(...commentLines(value, "comment"));
    } else {
      items.push({ kind: "entry", key: keyText, value: nodeOf(value) });
    }
  }
  items.push(...commentLines(map, "comment"));
  return { kind: "map", items };
}

function seqOf(seq: YAMLSeq): ListNode {
  const items: (TreeNode | CommentNode)[] = [...commentLines(seq, "commentBefore")];
  for (const item of seq.items) {
    const node = item as Node | null;
    if (node === null) continue;
    items.push(...commentLines(node, "commentBefore"));
    if (isScalar(node)) {
      items.push(scalarOf(node), ...commentLines(node, "comment"));
    } else {
      items.push(nodeOf(node));
    }
  }
  items.push(...commentLines(seq, "comment"));
  return { kind: "list", items };
}

function nodeOf(node: Node): TreeNode {
  if (isMap(node)) return mapOf(node, []);
  if (isSeq(node)) return seqOf(node);
  if (isScalar(node)) return scalarOf(node);
  if (isAlias(node)) throw new SopsError("malformed", "YAML aliases in a sops file are not supported: sops writes them expanded");
  throw new SopsError("malformed", "unexpected YAML node");
}

function scalarOf(node: Node): TreeNode {
  if (!isScalar(node)) return nodeOf(node);
  const v = node.value;
  if (v !== null && v !== undefined && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
    throw new SopsError("malformed", "a YAML value is of a type sops does not write (a tagged or binary scalar)");
  }
  const value = v ?? null;
  return {
    kind: "scalar",
    value,
    set(plain): void {
      node.value = plain.value;
      // Let the printer choose a style that fits the plaintext (a multi-line value, a number).
      delete node.type;
    },
  };
}
