import { closeSync, constants, lstatSync, openSync, readSync, type Stats } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ioError } from "./io-error.ts";
import { normalizeRelPath, PathGuard, stateDirName } from "./paths.ts";
import { forEachSliced } from "./sliced.ts";

/** One way a live path differs from what is desired. */
export type FileDiff = "content" | "mode" | "owner" | "type";

/** What is on disk at a path that differs. */
export interface LiveState {
  /** The live content of a file whose content differs, when it is a regular file no larger than the scan's limit. */
  readonly content?: Buffer;
  /** Permission bits (0 to 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** How a path compares with what is desired; `live` is set when it is `changed`. */
export interface FileState {
  readonly path: string;
  readonly state: "ok" | "missing" | "changed";
  /** Empty unless `changed`; `type` (not a regular file, not a directory) comes alone. */
  readonly diffs: readonly FileDiff[];
  readonly live?: LiveState;
}

/** A file as it should be. */
export interface DesiredFile {
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
  /** Unset: whoever owns it is fine. */
  readonly uid?: number;
  readonly gid?: number;
}

/** A directory as it should be. */
export type DesiredDirectory = Omit<DesiredFile, "content">;

/** Options of {@link scanFiles}. */
export interface ScanOptions {
  /** Live content larger than this is not returned (a diff would not show it); default 1 MiB. */
  readonly liveContentLimit?: number;
}

function lstatOrMissing(abs: string, rel: string): Stats | undefined {
  try {
    return lstatSync(abs, { throwIfNoEntry: false });
  } catch (e: unknown) {
    // ENOTDIR: a parent is a file, so the path cannot exist.
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw ioError(rel, "inspect", e);
  }
}

/** Reads up to `size` bytes without following a symlink or blocking on a FIFO swapped in meanwhile. */
function readUpTo(abs: string, size: number): Buffer {
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const buf = Buffer.allocUnsafe(size);
    let n = 0;
    while (n < size) {
      const got = readSync(fd, buf, n, size - n, n);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function attrDiffs(info: Stats, want: DesiredDirectory): FileDiff[] {
  const diffs: FileDiff[] = [];
  if ((info.mode & 0o7777) !== want.mode) diffs.push("mode");
  if ((want.uid !== undefined && want.uid !== info.uid) || (want.gid !== undefined && want.gid !== info.gid)) diffs.push("owner");
  return diffs;
}

const liveOf = (info: Stats): LiveState => ({ mode: info.mode & 0o7777, uid: info.uid, gid: info.gid });

function scanFile(guard: PathGuard, want: DesiredFile, limit: number): FileState {
  const abs = guard.parents(want.path);
  const info = lstatOrMissing(abs, want.path);
  if (info === undefined) return { path: want.path, state: "missing", diffs: [] };
  if (!info.isFile()) return { path: want.path, state: "changed", diffs: ["type"], live: liveOf(info) };
  let content: Buffer | undefined;
  let same = false;
  try {
    if (info.size === want.content.length) {
      content = readUpTo(abs, info.size);
      same = content.equals(want.content);
    }
    const diffs = [...(same ? [] : ["content" as const]), ...attrDiffs(info, want)];
    if (diffs.length === 0) return { path: want.path, state: "ok", diffs };
    if (!same && content === undefined && info.size <= limit) content = readUpTo(abs, info.size);
    const live = !same && content !== undefined ? { ...liveOf(info), content } : liveOf(info);
    return { path: want.path, state: "changed", diffs, live };
  } catch (e: unknown) {
    throw ioError(want.path, "read", e);
  }
}

/**
 * Compares files under a root with what is desired: lstat, and the content is read only when
 * the size matches (or to show a difference). Never follows symlinks: one in place of a file
 * is a `type` difference, one among the parent directories a GitwardError. Results are in
 * the order given. Synchronous calls in short slices (see {@link forEachSliced}): a no-op
 * check of 10,000 files is a few tens of milliseconds from the page cache.
 */
export async function scanFiles(root: string, desired: readonly DesiredFile[], opts: ScanOptions = {}): Promise<FileState[]> {
  const guard = new PathGuard(root);
  const limit = opts.liveContentLimit ?? 1024 * 1024;
  const out = new Array<FileState>(desired.length);
  await forEachSliced(desired, (want, i) => {
    out[i] = scanFile(guard, want, limit);
  });
  return out;
}

/** Compares directories under a root with what is desired (mode and owner), in the shape of {@link scanFiles}. */
export async function scanDirectories(root: string, desired: readonly DesiredDirectory[]): Promise<FileState[]> {
  const guard = new PathGuard(root);
  const out = new Array<FileState>(desired.length);
  await forEachSliced(desired, (want, i) => {
    const info = lstatOrMissing(guard.parents(want.path), want.path);
    if (info === undefined) out[i] = { path: want.path, state: "missing", diffs: [] };
    else if (!info.isDirectory()) out[i] = { path: want.path, state: "changed", diffs: ["type"], live: liveOf(info) };
    else {
      const diffs = attrDiffs(info, want);
      out[i] = diffs.length === 0 ? { path: want.path, state: "ok", diffs } : { path: want.path, state: "changed", diffs, live: liveOf(info) };
    }
  });
  return out;
}

/**
 * The paths (relative to the root, sorted) of everything under `dir` that is not a directory
 * and not in `managed`: files, symlinks (never followed) and special files. `""` or `"."` is
 * the root itself; `.gitward` is never entered. A missing `dir`, or one that is not a real
 * directory, has none.
 */
export async function listUnmanaged(root: string, dir: string, managed: ReadonlySet<string>): Promise<string[]> {
  const start = dir === "" || dir === "." ? "" : normalizeRelPath(dir);
  const guard = new PathGuard(root);
  if (start !== "") {
    const info = lstatOrMissing(guard.parents(start), start);
    if (info?.isDirectory() !== true) return [];
  }
  const dirs = [start];
  const out: string[] = [];
  for (let k = 0; k < dirs.length; k++) {
    const rel = dirs[k] as string;
    const entries = await readdir(join(guard.root, rel), { withFileTypes: true }).catch((e: unknown) => {
      throw ioError(rel === "" ? "." : rel, "list", e);
    });
    for (const e of entries) {
      if (rel === "" && e.name.toLowerCase() === stateDirName) continue;
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) dirs.push(path);
      else if (!managed.has(path)) out.push(path);
    }
  }
  return out.sort();
}
