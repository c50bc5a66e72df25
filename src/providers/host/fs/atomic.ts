import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ErrorCode, GitwardError } from "../../../core/errors.ts";
import { fsc } from "./fs-calls.ts";
import { ioError, isErrno, targetErrorCode } from "./io-error.ts";

/** Temporary files gitward leaves only when killed start with this; recovery removes them. */
export const tempPrefix = ".gitward-tmp-";

/** The mode and, optionally, the owner a file is written with. */
export interface FileAttrs {
  /** Permission bits including setuid, setgid and sticky (0 to 0o7777); applied exactly, whatever the umask. */
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** How {@link replaceFile} writes. */
export interface ReplaceOptions {
  /** fsync the file's data before the rename. */
  readonly fsyncFile: boolean;
  /** fsync the directory after the rename, so the rename itself survives a power loss. */
  readonly fsyncDir: boolean;
  /** A unique suffix for the temporary file (saves drawing random bytes per file); default random. */
  readonly tempTag?: string;
}

const maxId = 0xfffffffe;

/** Refuses a mode or owner id out of range before anything is written. */
export function checkAttrs(path: string, attrs: FileAttrs): void {
  const bad = (what: string, v: string): GitwardError => new GitwardError(ErrorCode.Config, `${path}: invalid ${what} ${v}`);
  if (!Number.isInteger(attrs.mode) || attrs.mode < 0 || attrs.mode > 0o7777) throw bad("mode", `0${attrs.mode.toString(8)}`);
  for (const [what, id] of [["uid", attrs.uid], ["gid", attrs.gid]] as const) {
    if (id !== undefined && (!Number.isInteger(id) || id < 0 || id > maxId)) throw bad(what, String(id));
  }
}

/** A fresh temporary path in the same directory as `path`, so that a rename over it is atomic. */
export function tempPathFor(path: string, tag = randomBytes(6).toString("hex")): string {
  return join(dirname(path), `${tempPrefix}${basename(path).slice(0, 32)}-${tag}`);
}

/**
 * Writes `data` to a temporary file beside `path`, sets owner then mode (chown clears setuid
 * bits), optionally fsyncs, and renames it over `path`. Throws the raw system error after
 * removing the temporary file; `path` is then untouched.
 */
export async function replaceFile(path: string, data: Buffer | string, attrs: FileAttrs, opts: ReplaceOptions): Promise<void> {
  checkAttrs(path, attrs);
  const tmp = tempPathFor(path, opts.tempTag);
  const fd = await fsc.open(tmp, "wx", 0o600);
  try {
    try {
      await fsc.writeAll(fd, typeof data === "string" ? Buffer.from(data) : data);
      if (attrs.uid !== undefined || attrs.gid !== undefined) await fsc.fchown(fd, attrs.uid ?? -1, attrs.gid ?? -1);
      await fsc.fchmod(fd, attrs.mode);
      if (opts.fsyncFile) await fsc.fsync(fd);
    } finally {
      await fsc.close(fd);
    }
    await fsc.rename(tmp, path);
  } catch (e: unknown) {
    await fsc.unlink(tmp).catch(() => undefined);
    throw e;
  }
  if (opts.fsyncDir) await fsyncDir(dirname(path));
}

/**
 * Replaces a file atomically: a reader sees the old content or the new, never a mix, and a
 * failure leaves the old file as it was. Mode and owner are exact; data and rename are fsynced.
 */
export async function writeFileAtomic(path: string, data: Buffer | string, opts: FileAttrs): Promise<void> {
  try {
    await replaceFile(path, data, opts, { fsyncFile: true, fsyncDir: true });
  } catch (e: unknown) {
    throw ioError(path, "write", e);
  }
}

/** fsyncs a directory so renames and creations in it are durable; a no-op where the OS refuses. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } catch (e: unknown) {
    if (!isErrno(e, "EINVAL", "EISDIR", "EPERM", "ENOTSUP")) throw e;
  } finally {
    await fh.close();
  }
}

/** Writes gitward state as JSON (mode 0600), creating its directory (mode 0700) if needed. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (e: unknown) {
    throw ioError(dirname(path), "create directory", e);
  }
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}

/** Reads a JSON state file: undefined when it does not exist, a GitwardError naming it when it is corrupt. */
export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    // State files are small: one synchronous read costs less than the promise API's open, stat,
    // read and close round trips (an agent reads one per stack per drift check).
    text = await Promise.resolve().then(() => readFileSync(path, "utf8"));
  } catch (e: unknown) {
    if (isErrno(e, "ENOENT")) return undefined;
    throw ioError(path, "read", e);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e: unknown) {
    throw new GitwardError(targetErrorCode, `${path}: corrupt state file`, {
      cause: e,
      hint: "gitward writes its state atomically, so something else changed this file; restore it or move it aside",
    });
  }
}
