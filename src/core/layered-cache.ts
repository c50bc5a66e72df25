import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RenderedObject } from "../core/object.ts";

/** A store of render results by content key. Misses and unreadable entries answer undefined. */
export interface RenderCache {
  get(key: string): Promise<readonly RenderedObject[] | undefined>;
  put(key: string, objects: readonly RenderedObject[]): Promise<void>;
}

/**
 * Results kept in memory for this process, in front of an optional cache on disk, so a
 * stack unchanged between the base and head of a plan renders once, and a second run
 * renders nothing that did not change.
 */
export class LayeredCache implements RenderCache {
  readonly #memory = new Map<string, readonly RenderedObject[]>();
  readonly #dir: string | undefined;

  /** `dir` is where entries are written on disk; undefined keeps them in memory only. */
  constructor(dir: string | undefined) {
    this.#dir = dir;
  }

  async get(key: string): Promise<readonly RenderedObject[] | undefined> {
    const hit = this.#memory.get(key);
    if (hit !== undefined || this.#dir === undefined) return hit;
    try {
      const parsed = JSON.parse(await readFile(this.#path(key), "utf8")) as { key?: string; objects?: RenderedObject[] };
      // A torn or foreign file is a miss, never a wrong answer.
      if (parsed.key !== key || !Array.isArray(parsed.objects)) return undefined;
      this.#memory.set(key, parsed.objects);
      return parsed.objects;
    } catch {
      return undefined;
    }
  }

  async put(key: string, objects: readonly RenderedObject[]): Promise<void> {
    this.#memory.set(key, objects);
    if (this.#dir === undefined) return;
    const path = this.#path(key);
    await mkdir(join(this.#dir, key.slice(0, 2)), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ key, objects }));
    await rename(tmp, path);
  }

  #path(key: string): string {
    return join(this.#dir ?? "", key.slice(0, 2), `${key}.json`);
  }
}
