import { constants } from "node:fs";
import type { CommandRunner } from "../../../core/command-runner.ts";
import { fsyncDir } from "./atomic.ts";
import { forEachBounded } from "./bounded.ts";
import { fsc } from "./fs-calls.ts";
import { ioError, isErrno } from "./io-error.ts";

/** What a transaction wrote, to be made durable at commit. */
export interface Written {
  /** Absolute paths of files written. */
  readonly files: readonly string[];
  /** Absolute paths of directories whose entries changed. */
  readonly dirs: readonly string[];
}

/** Time allowed for `sync -f`; past it the files are fsynced one by one. */
const syncTimeoutMs = 120_000;

/** Up to this many written files are fsynced one by one. */
const smallTransaction = 32;

/** Flushes the whole file system holding `path` with syncfs(2), through coreutils `sync -f`. */
async function syncFileSystem(path: string, runner: CommandRunner): Promise<boolean> {
  if (process.platform !== "linux") return false;
  try {
    const r = await runner.run({ command: "sync", args: ["-f", path], timeoutMs: syncTimeoutMs, maxStdoutBytes: 64 * 1024 });
    return r.exitCode === 0 && !r.timedOut;
  } catch {
    return false;
  }
}

async function fsyncFile(path: string): Promise<void> {
  let fd: number;
  try {
    fd = await fsc.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e: unknown) {
    if (isErrno(e, "ENOENT", "ELOOP")) return;
    // A file with mode 0200 cannot be opened for reading by its (non-root) owner.
    if (!isErrno(e, "EACCES")) throw e;
    fd = await fsc.open(path, constants.O_WRONLY | constants.O_NOFOLLOW);
  }
  try {
    await fsc.fsync(fd);
  } finally {
    await fsc.close(fd);
  }
}

/**
 * Makes a transaction's writes durable before its commit point. Node has no syncfs(2), and
 * one fsync per file costs a journal commit each (10,000 files: ~2 s on a VM disk), so the
 * file system is flushed once with `sync -f <root>` (~60 ms); where that is unavailable or
 * fails, every written file and changed directory is fsynced instead.
 */
export async function flushWritten(root: string, written: Written, runner: CommandRunner, concurrency: number): Promise<void> {
  if (written.files.length === 0 && written.dirs.length === 0) return;
  // A few files are cheaper to fsync one by one than to start `sync` and flush the whole file system.
  if (written.files.length > smallTransaction && (await syncFileSystem(root, runner))) return;
  await forEachBounded(written.files, concurrency, async (f) => {
    await fsyncFile(f).catch((e: unknown) => {
      throw ioError(f, "flush to disk", e);
    });
  });
  await forEachBounded(written.dirs, concurrency, async (d) => {
    await fsyncDir(d).catch((e: unknown) => {
      if (!isErrno(e, "ENOENT")) throw ioError(d, "flush to disk", e);
    });
  });
}
