import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { chmod, copyFile, lstat, mkdir, readdir, readlink, rm, symlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { forEachBounded } from "./bounded.ts";
import { executeOps } from "./execute.ts";
import { ioError } from "./io-error.ts";
import { ensureStateDir } from "./lock.ts";
import { checkOperations, type Operation } from "./operation.ts";
import { PathGuard, stateDirName } from "./paths.ts";
import { prescan } from "./prescan.ts";

/** A staged copy of a root with operations applied, for a check command to inspect. */
export interface StagedTree {
  /** The staged root: `<root>/.gitward/stage-<pid>-<id>`. */
  readonly dir: string;
  /** Removes the staged copy; safe to call twice. */
  cleanup(): Promise<void>;
}

/** Options of {@link stageTree}. */
export interface StageOptions {
  /** Files copied at once; default 32. */
  readonly concurrency?: number;
}

interface TreeListing {
  /** Directories under the source, outermost first ("" is the source itself). */
  readonly dirs: string[];
  readonly files: { readonly rel: string; readonly symlink: boolean }[];
}

async function listTree(src: string): Promise<TreeListing> {
  const dirs = [""];
  const files: TreeListing["files"] = [];
  for (let k = 0; k < dirs.length; k++) {
    const rel = dirs[k] as string;
    for (const e of await readdir(join(src, rel), { withFileTypes: true })) {
      if (rel === "" && e.name.toLowerCase() === stateDirName) continue;
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) dirs.push(r);
      // Sockets, FIFOs and devices are left out: a check reads configuration, not those.
      else if (e.isFile() || e.isSymbolicLink()) files.push({ rel: r, symlink: e.isSymbolicLink() });
    }
  }
  return { dirs, files };
}

/**
 * Copies a tree without following symlinks (they are copied as symlinks) and keeps modes;
 * the top-level `.gitward` is left out. Owners are not copied. Directories get their mode
 * last, so read-only ones can still be filled.
 */
async function copyTree(src: string, dest: string, concurrency = 32): Promise<void> {
  const { dirs, files } = await listTree(src);
  for (const d of dirs) if (d !== "") await mkdir(join(dest, d), { mode: 0o700 });
  await forEachBounded(files, concurrency, async (f) => {
    const from = join(src, f.rel);
    if (f.symlink) await symlink(await readlink(from), join(dest, f.rel));
    else await copyFile(from, join(dest, f.rel), constants.COPYFILE_FICLONE);
  });
  await forEachBounded([...dirs].reverse(), concurrency, async (d) => {
    await chmod(join(dest, d), (await lstat(join(src, d))).mode & 0o7777);
  });
}

/**
 * Copies the root's current tree (without `.gitward`) to a fresh `.gitward/stage-…` directory
 * and applies the operations there, with no journal or backups, so that a check command can
 * validate the new tree before anything real changes.
 */
export async function stageTree(root: string, ops: readonly Operation[], opts: StageOptions = {}): Promise<StagedTree> {
  const base = resolve(root);
  const concurrency = Math.max(1, opts.concurrency ?? 32);
  const checked = checkOperations(ops);
  const dir = join(await ensureStateDir(base), `stage-${process.pid}-${randomBytes(6).toString("hex")}`);
  const cleanup = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await mkdir(dir, { mode: 0o700 });
    await copyTree(base, dir, concurrency);
  } catch (e: unknown) {
    await cleanup();
    throw ioError(base, "copy the root to stage it", e);
  }
  try {
    const plan = await prescan(new PathGuard(dir), checked);
    const hook = { check: (): void => undefined, done: (): void => undefined };
    await executeOps({ root: dir, plan, durable: false, concurrency, hook });
  } catch (e: unknown) {
    await cleanup();
    throw e;
  }
  return { dir, cleanup };
}
