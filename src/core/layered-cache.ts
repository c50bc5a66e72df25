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
 * The memory layer keeps the `maxEntries` most recently used entries (the agent runs for days,
 * and every commit adds entries); the disk layer keeps everything.
 */
export class LayeredCache<T> implements ContentCache<T> {
  readonly #memory = new Map<string, T>();
  readonly #dir: string | undefined;
  readonly #maxEntries: number;

  /** `dir` is where entries are written on disk; undefined keeps them in memory only. */
  constructor(dir: string | undefined, opts: { readonly maxEntries?: number } = {}) {
    this.#dir = dir;
    this.#maxEntries = opts.maxEntries ?? 20_000;
  }

  /** Entries held in memory. */
  get size(): number {
    return this.#memory.size;
  }

  async get(key: string): Promise<T | undefined> {
    const hit = this.#memory.get(key);
    if (hit !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.#memory.delete(key);
      this.#memory.set(key, hit);
      return hit;
    }
    if (this.#dir === undefined) return undefined;
    try {
      const parsed = JSON.parse(await readFile(this.#path(key), "utf8")) as { key?: string; value?: T };
      if (parsed.key !== key || parsed.value === undefined) return undefined;
      this.#remember(key, parsed.value);
      return parsed.value;
    } catch {
      return undefined;
    }
  }

  async put(key: string, value: T): Promise<void> {
    this.#remember(key, value);
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

  #remember(key: string, value: T): void {
    this.#memory.delete(key);
    this.#memory.set(key, value);
    while (this.#memory.size > this.#maxEntries) {
      const oldest = this.#memory.keys().next();
      if (oldest.done === true) break;
      this.#memory.delete(oldest.value);
    }
  }
}
