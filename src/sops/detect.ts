import { parse } from "yaml";
import { isRecord } from "../core/object.ts";
import type { SopsFormat } from "./types.ts";

// Cheap markers first: most files are not SOPS files and must not be parsed twice.
const dotenvMac = /^sops_mac=/m;
const iniSection = /^\[sops\][ \t]*$/m;
const yamlSection = /^sops:[ \t]*$/m;
const jsonSection = /"sops"\s*:\s*\{/;

/**
 * The SOPS format of a file as the sops tool wrote it, or undefined when it is not a SOPS file:
 * dotenv (a `sops_mac=` line), INI (a `[sops]` section), or a YAML or JSON document with a
 * `sops` map, which is the binary format when its only other key is `data`. Read from the
 * content, not the name: a `.txt` file may hold any of them.
 */
export function detectSopsFile(content: Buffer | string): SopsFormat | undefined {
  const text = typeof content === "string" ? content : content.toString("utf8");
  if (dotenvMac.test(text)) return "dotenv";
  if (iniSection.test(text)) return "ini";
  const json = jsonSection.test(text) && text.trimStart().startsWith("{");
  if (!json && !yamlSection.test(text)) return undefined;
  let doc: unknown;
  try {
    doc = json ? JSON.parse(text) : parse(text, { version: "1.2", uniqueKeys: false });
  } catch {
    return undefined;
  }
  if (!isRecord(doc) || !isRecord(doc["sops"])) return undefined;
  const keys = Object.keys(doc).filter((k) => k !== "sops");
  if (keys.length === 1 && keys[0] === "data" && typeof doc["data"] === "string") return "binary";
  return json ? "json" : "yaml";
}
