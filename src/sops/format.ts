import { parse } from "yaml";
import { isRecord, type JsonValue } from "../core/object.ts";
import { readDotenvSopsFile, readIniSopsFile } from "./flat-files.ts";
import { SopsError, type SopsFormat } from "./types.ts";

const dotenvMac = /^sops_mac=/m;
const iniSection = /^[ \t]*\[sops\][ \t]*\r?$/m;
const yamlSops = /^sops:/m;
const jsonSops = /"sops"\s*:\s*\{/;

/**
 * Whether a file is a SOPS file, and in which format. Content markers first (a `sops` map in a
 * YAML/JSON document, which is the binary format when `data` is its only other key; `sops_mac=`
 * lines: dotenv; a `[sops]` section: INI); the extension only breaks a tie between YAML and JSON.
 * Undefined for any file that is not one (most files: the cheap markers keep them unparsed).
 */
export function sopsFormatOf(path: string, content: Buffer): SopsFormat | undefined {
  const text = content.toString("utf8");
  if (dotenvMac.test(text)) return "dotenv";
  if (iniSection.test(text)) return "ini";
  const looksJson = text.trimStart().startsWith("{") && jsonSops.test(text);
  if (!looksJson && !yamlSops.test(text)) return undefined;
  const doc = parseDocument(text, looksJson || /\.json$/i.test(path));
  if (!isRecord(doc) || !isRecord(doc["sops"])) return undefined;
  const others = Object.keys(doc).filter((k) => k !== "sops");
  if (others.length === 1 && others[0] === "data" && typeof doc["data"] === "string") return "binary";
  return looksJson ? "json" : "yaml";
}

function parseDocument(text: string, json: boolean): unknown {
  try {
    return json ? JSON.parse(text) : parse(text, { version: "1.2", uniqueKeys: false });
  } catch {
    // A JSON-looking file that is YAML (or the reverse) still gets its other chance.
    try {
      return json ? parse(text, { version: "1.2", uniqueKeys: false }) : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * The metadata of a SOPS file in the shape a YAML file's `sops:` map has (dotenv and INI
 * metadata unflattened), for checks that need no key. Throws `malformed` when there is none.
 */
export function sopsMetadataOf(content: Buffer, format: SopsFormat): { [key: string]: JsonValue } {
  const text = content.toString("utf8");
  let meta: JsonValue | undefined;
  if (format === "dotenv") meta = readDotenvSopsFile(text).metadata;
  else if (format === "ini") meta = readIniSopsFile(text).metadata;
  else {
    const doc = parseDocument(text, format !== "yaml");
    meta = isRecord(doc) ? doc["sops"] : undefined;
  }
  if (!isRecord(meta)) throw new SopsError("malformed", `not a sops ${format} file: it has no sops metadata`);
  return meta;
}
