import { readFile } from "node:fs/promises";
import { ioError } from "./io-error.ts";

/** Parses `/etc/passwd` or `/etc/group` lines (`name:x:id:…`) into a name → id map. */
export function parseIdDatabase(text: string): Map<string, number> {
  const ids = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const [name, , id] = line.split(":");
    if (name === undefined || id === undefined || !/^\d+$/.test(id)) continue;
    // The first entry wins, as getpwnam does.
    if (!ids.has(name)) ids.set(name, Number(id));
  }
  return ids;
}

/**
 * One passwd- or group-format file, read when first asked and read again when a name is not in
 * it (it may have been added since). A failed read is not remembered.
 */
export class IdFile {
  /** The file's path, for messages. */
  readonly path: string;
  #ids: Promise<Map<string, number>> | undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** The id of `name`, or undefined when the file has no entry for it. */
  async lookup(name: string): Promise<number | undefined> {
    const known = this.#ids === undefined ? undefined : (await this.#ids).get(name);
    if (known !== undefined) return known;
    const fresh = this.#load();
    this.#ids = fresh;
    try {
      return (await fresh).get(name);
    } catch (e: unknown) {
      if (this.#ids === fresh) this.#ids = undefined;
      throw e;
    }
  }

  async #load(): Promise<Map<string, number>> {
    try {
      return parseIdDatabase(await readFile(this.path, "utf8"));
    } catch (e: unknown) {
      throw ioError(this.path, "read", e);
    }
  }
}
