import { enableCompileCache } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Turns on Node's on-disk cache of compiled code (and of stripped TypeScript) for the modules
 * loaded after it, which saves a part of every start. The cache sits in gitward's cache
 * directory, found as `defaultCacheDir` in engine/workspace.ts finds it (that module is too
 * heavy to load this early), under `node-compile-cache`. `NODE_COMPILE_CACHE` picks another
 * directory and `NODE_DISABLE_COMPILE_CACHE=1` turns it off, as for any Node program. A cache
 * that cannot be written only costs the time it would have saved, so failures are ignored.
 */
export function startCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  const own = env["GITWARD_CACHE_DIR"];
  const xdg = env["XDG_CACHE_HOME"];
  const cacheDir = own !== undefined && own !== "" ? own : join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".cache"), "gitward");
  try {
    enableCompileCache(join(cacheDir, "node-compile-cache"));
  } catch {
    // An unwritable cache is no reason to fail a command.
  }
}
