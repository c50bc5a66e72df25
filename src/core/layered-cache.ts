import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A store of derived results by content key. Misses and unreadable entries answer undefined. */
export interface ContentCache<T> {
  get(key: string): Promise<T | undefined>;
  put(key: string, value: T): Promise<void>;
}

/**
 * Results kept in memory for this process, in front of an optional directory on disk: a
 * result computed once (a stack's render, its check findings, a parsed gitward.yaml) is not
 * computed again in this run, and a later run reads it back instead of recomputing it.
 * Keys are content hashes, so an entry never goes stale; a torn or foreign file is a miss.
 */
export class LayeredCache<T> implements ContentCache<T> {
  readonly #memory = new Map<string, T>();
  readonly #dir: string | undefined;

  /** `dir` is where entries are written on disk; undefined keeps them in memory only. */
  constructor(dir: string | undefined) {
    this.#dir = dir;
  }

  async get(key: string): Promise<T | undefined> {
    const hit = this.#memory.get(key);
    if (hit !== undefined || this.#dir === undefined) return hit;
    try {
      const parsed = JSON.parse(await readFile(this.#path(key), "utf8")) as { key?: string; value?: T };
      if (parsed.key !== key || parsed.value === undefined) return undefined;
      this.#memory.set(key, parsed.value);
      return parsed.value;
    } catch {
      return undefined;
    }
  }

  async put(key: string, value: T): Promise<void> {
    this.#memory.set(key, value);
    if (this.#dir === undefined) return;
    const path = this.#path(key);
    // Entries may hold rendered Secrets: directories 0700 and files 0600 (whatever the umask says).
    await mkdir(join(this.#dir, key.slice(0, 2)), { recursive: true, mode: 0o700 });
    // Unique per write: two writers of one key in one process (the agent evaluates environments
    // in parallel) must not rename each other's temporary file.
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify({ key, value }), { mode: 0o600 });
      await rename(tmp, path);
    } catch {
      // A cache that cannot be written is only slower next time; the value is still in memory.
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  #path(key: string): string {
    return join(this.#dir ?? "", key.slice(0, 2), `${key}.json`);
  }
}
