import { isRecord, type JsonValue } from "../core/object.ts";
import { isEncryptedValue, OpenFailure, openMac, openValue } from "./cipher.ts";
import { readDotenvSopsFile, readIniSopsFile } from "./flat-files.ts";
import { parseMetadata, type SopsMetadata } from "./metadata.ts";
import { cloneJson, mapView } from "./object-tree.ts";
import { decryptBranches, describePath, shouldBeEncrypted, type MapNode } from "./tree.ts";
import { SopsError, type DecryptedFile, type DecryptedTree, type SopsFormat, type SopsKeyring } from "./types.ts";
import { readYamlSopsFile } from "./yaml-file.ts";

type JsonMap = { [key: string]: JsonValue };

/** An object decrypted by {@link decryptValues}: no `sops` map, every ENC[...] value in clear. */
export interface DecryptedValues {
  readonly tree: JsonMap;
  /** Every value that was encrypted, as text: what masks must hide. */
  readonly secrets: readonly string[];
}

/**
 * Decrypts a parsed SOPS YAML/JSON document (a map with a top-level `sops` map, keys in document
 * order) and verifies its MAC. Throws a {@link SopsError}: `no-mac`, `no-key`, `tampered`,
 * `malformed`, `unsupported`.
 */
export async function decryptTree(doc: Readonly<JsonMap>, keyring: SopsKeyring): Promise<DecryptedTree> {
  const rawMeta = doc["sops"];
  const meta = metadataOf(rawMeta);
  const tree = cloneJson<JsonMap>({ ...doc });
  delete tree["sops"];
  const dataKey = await keyring.dataKey(rawMeta as JsonMap);
  // A parsed object has lost its comments: comment rules fall back to the ENC[...] form.
  const { mac, secrets } = verify([mapView(tree)], meta, dataKey, false);
  return { tree, dataKey, mac, secrets };
}

/**
 * Decrypts every ENC[...] string of an object that was changed after encryption (kustomize set a
 * namespace or labels, or merged a patch from another encrypted file), with the first of the
 * already-verified data keys whose GCM tag passes for the value's path in `obj`. No MAC can be
 * checked (the document is no longer the one sops wrote); the GCM tag still binds each value to
 * its key and path. With `metadata`, values its rules say are in clear stay as they are.
 * A value no key opens is `tampered`.
 */
export function decryptValues(obj: Readonly<JsonMap>, dataKeys: readonly Buffer[], metadata?: Readonly<JsonMap>): DecryptedValues {
  const meta = metadata === undefined ? undefined : parseMetadata(metadata);
  const tree = cloneJson<JsonMap>({ ...obj });
  delete tree["sops"];
  const secrets: string[] = [];
  const visit = (value: JsonValue, path: readonly string[], write: (v: JsonValue) => void): void => {
    if (Array.isArray(value)) { value.forEach((v, i) => visit(v, path, (nv) => { value[i] = nv; })); return; }
    if (isRecord(value)) { for (const k of Object.keys(value)) visit(value[k] ?? null, [...path, k], (nv) => { value[k] = nv; }); return; }
    if (!isEncryptedValue(value)) return;
    if (meta !== undefined && shouldBeEncrypted(meta.rules, path, undefined, false) === false) return;
    const aad = path.length === 0 ? ":" : `${path.join(":")}:`;
    for (const key of dataKeys) {
      try {
        const plain = openValue(value, key, aad);
        write(plain.value);
        if (plain.raw.length > 0) secrets.push(plain.raw.toString("utf8"));
        return;
      } catch (e: unknown) {
        if (e instanceof OpenFailure && e.reason === "malformed") throw new SopsError("malformed", `the value at ${describePath(path)} ${e.message}`);
      }
    }
    throw new SopsError("tampered", `the value at ${describePath(path)} opens with none of the verified data keys: it was changed, moved, or encrypted for another file`);
  };
  visit(tree, [], () => undefined);
  return { tree, secrets };
}

/**
 * Decrypts a whole SOPS file and emits its plaintext in its own format, like `sops decrypt`:
 * YAML with its comments decrypted (4-space indent), JSON tab-indented, dotenv, INI, and for the
 * binary format the original bytes. The MAC is verified first-hand.
 */
export async function decryptFile(content: Buffer, format: SopsFormat, keyring: SopsKeyring): Promise<DecryptedFile> {
  const text = content.toString("utf8");
  if (format === "yaml") {
    const file = readYamlSopsFile(text);
    const r = await decryptParsed(file.branches, file.metadata, keyring);
    return { plaintext: Buffer.from(file.print(), "utf8"), ...r };
  }
  if (format === "dotenv" || format === "ini") {
    const file = format === "dotenv" ? readDotenvSopsFile(text) : readIniSopsFile(text);
    const r = await decryptParsed([file.branch], file.metadata, keyring);
    return { plaintext: Buffer.from(file.print(), "utf8"), ...r };
  }
  const doc = parseJson(text);
  const rawMeta = doc["sops"];
  delete doc["sops"];
  if (format === "json") {
    const r = await decryptParsed([mapView(doc)], rawMeta, keyring);
    return { plaintext: Buffer.from(`${goJson(doc, "")}\n`, "utf8"), ...r };
  }
  if (typeof doc["data"] !== "string") throw new SopsError("malformed", "a binary-format sops file has no string 'data'");
  let plaintext: Buffer = Buffer.alloc(0);
  const data = doc["data"];
  const branch: MapNode = {
    kind: "map",
    items: mapView(doc).items.map((item) => item.kind === "entry" && item.key === "data"
      ? { ...item, value: { kind: "scalar", value: data, set: (plain) => { plaintext = plain.raw; } } }
      : item),
  };
  const r = await decryptParsed([branch], rawMeta, keyring);
  return { plaintext, ...r };
}

async function decryptParsed(branches: MapNode[], rawMeta: JsonValue | undefined, keyring: SopsKeyring): Promise<{ mac: string; secrets: string[] }> {
  const meta = metadataOf(rawMeta);
  const dataKey = await keyring.dataKey(rawMeta as JsonMap);
  return verify(branches, meta, dataKey, true);
}

function metadataOf(rawMeta: JsonValue | undefined): SopsMetadata {
  if (!isRecord(rawMeta)) throw new SopsError("malformed", "not a sops document: it has no 'sops' metadata map");
  const meta = parseMetadata(rawMeta);
  if (meta.mac === undefined) throw new SopsError("no-mac", "the sops metadata has no MAC: nobody can tell whether the values were changed (sops itself refuses such a file)");
  return meta;
}

function verify(branches: MapNode[], meta: SopsMetadata, dataKey: Buffer, commentsKnown: boolean): { mac: string; secrets: string[] } {
  const { mac, secrets } = decryptBranches(branches, meta, dataKey, commentsKnown);
  const stored = openMac(meta.mac ?? "", dataKey, meta.lastModified);
  if (stored !== mac) throw new SopsError("tampered", "the MAC does not match the values: a value was changed, added or removed without the key");
  return { mac, secrets };
}

function parseJson(text: string): JsonMap {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new SopsError("malformed", "the JSON file does not parse");
  }
  if (!isRecord(doc)) throw new SopsError("malformed", "a JSON document sops encrypted must be an object");
  return doc;
}

// Go's encoding/json (HTML-safe escapes) re-indented with tabs, as sops' JSON store prints.
function goJson(v: JsonValue, indent: string): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    const inner = `${indent}\t`;
    return `[\n${v.map((x) => inner + goJson(x, inner)).join(",\n")}\n${indent}]`;
  }
  if (isRecord(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0) return "{}";
    const inner = `${indent}\t`;
    return `{\n${keys.map((k) => `${inner}${goString(k)}: ${goJson(v[k] ?? null, inner)}`).join(",\n")}\n${indent}}`;
  }
  return typeof v === "string" ? goString(v) : JSON.stringify(v);
}

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
