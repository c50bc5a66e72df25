import { stat } from "node:fs/promises";
import { join } from "node:path";
import { stateDirName } from "./fs/paths.ts";
import { readRegistry, type PathRegistry } from "./state.ts";

/**
 * The path registry of one root for read-only diffs, parsed again only when the file changed
 * (its mtime, size or inode): an agent checks hundreds of stacks sharing one root, and each
 * would otherwise parse every path of the root. A sync reads the registry itself, under the lock.
 */
export class RegistryCache {
  readonly #root: string;
  #cached: { stamp: string; registry: PathRegistry } | undefined;

  constructor(root: string) {
    this.#root = root;
  }

  /** The registry as the file holds it now; an empty one when the root was never synced. */
  async get(): Promise<PathRegistry> {
    const info = await stat(join(this.#root, stateDirName, "paths.json")).catch(() => undefined);
    const stamp = info === undefined ? "missing" : `${info.mtimeMs}:${info.size}:${info.ino}`;
    if (this.#cached?.stamp !== stamp) this.#cached = { stamp, registry: await readRegistry(this.#root) };
    return this.#cached.registry;
  }
}
