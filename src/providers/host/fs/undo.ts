import type { Stats } from "node:fs";
import { chmod, chown, mkdir, readdir, rmdir, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { forEachBounded } from "./bounded.ts";
import type { CrashHook } from "./crash-hook.ts";
import type { CommandRunner } from "../../../core/command-runner.ts";
import { tempPrefix } from "./atomic.ts";
import { copyEntry } from "./copy-entry.ts";
import { flushWritten } from "./flush.ts";
import { fsc } from "./fs-calls.ts";
import { ioError, isErrno } from "./io-error.ts";
import { backupPath, type Before, type Journal, type JournalEntry } from "./journal.ts";
import { segments } from "./operation.ts";
import { PathGuard } from "./paths.ts";

/** How {@link undoJournal} runs. */
export interface UndoOptions {
  readonly concurrency: number;
  /** Flush what was put back before returning (the caller then removes the journal). */
  readonly durable: boolean;
  /** Runs `sync -f` for the flush. */
  readonly runner: CommandRunner;
  readonly hook: CrashHook;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await fsc.lstat(path);
  } catch (e: unknown) {
    if (isErrno(e, "ENOENT", "ENOTDIR")) return undefined;
    throw e;
  }
}

/** Puts a backup back in place: a rename, or a copy where the backup is on another file system. */
async function putBack(backup: string, abs: string, before: Before): Promise<void> {
  try {
    await fsc.rename(backup, abs);
  } catch (e: unknown) {
    if (!isErrno(e, "EXDEV")) throw e;
    await copyEntry(backup, abs, before, e);
    await fsc.unlink(backup);
  }
}

/**
 * Undoes one write or remove. Nothing there before: whatever is there now is gitward's and is
 * removed. Something there before and a backup: the original was replaced or moved, and goes
 * back. Something there before and no backup: it was never touched, and stays. One system
 * call in the usual cases: the rename or unlink is tried, and absence is learnt from ENOENT.
 */
async function undoFile(root: string, journal: Journal, i: number, abs: string): Promise<boolean> {
  const entry = journal.entries[i] as JournalEntry;
  if (entry.before.type === "missing") {
    if (entry.op !== "write") return false;
    try {
      await fsc.unlink(abs);
      return true;
    } catch (e: unknown) {
      if (isErrno(e, "ENOENT", "ENOTDIR")) return false;
      // A directory made there since is not gitward's to remove.
      if (isErrno(e, "EISDIR", "EPERM") && (await lstatOrUndefined(abs))?.isDirectory() === true) return false;
      throw e;
    }
  }
  const backup = backupPath(root, journal.id, i);
  try {
    await putBack(backup, abs, entry.before);
    return true;
  } catch (e: unknown) {
    if (isErrno(e, "ENOENT") && (await lstatOrUndefined(backup)) === undefined) return false;
    throw e;
  }
}

/** Undoes a mkdir over an existing directory (its mode and owner) or an rmdir (the directory). */
async function undoDir(entry: JournalEntry, abs: string): Promise<boolean> {
  const b = entry.before;
  if (b.type !== "dir") return false;
  const now = await lstatOrUndefined(abs);
  if (entry.op === "rmdir" && now === undefined) {
    await mkdir(abs, { mode: 0o700 });
  } else if (entry.op !== "mkdir" || now?.isDirectory() !== true || ((now.mode & 0o7777) === b.mode && now.uid === b.uid && now.gid === b.gid)) {
    return false;
  }
  await chown(abs, b.uid, b.gid);
  await chmod(abs, b.mode);
  return true;
}

/** Removes the temporary files a killed write left in the given directories. */
async function removeTemps(dirs: Iterable<string>): Promise<void> {
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) if (name.startsWith(tempPrefix)) await unlink(`${dir}/${name}`).catch(() => undefined);
  }
}

/** Removes the directories the transaction created, deepest first, where they are empty. */
async function removeCreatedDirs(guard: PathGuard, journal: Journal): Promise<string[]> {
  const dirs = new Set(journal.createdDirs);
  for (const e of journal.entries) if (e.op === "mkdir" && e.before.type === "missing") dirs.add(e.path);
  const removed: string[] = [];
  for (const dir of [...dirs].sort((a, b) => b.split("/").length - a.split("/").length)) {
    try {
      await rmdir(guard.parents(dir));
      removed.push(dir);
    } catch (e: unknown) {
      if (!isErrno(e, "ENOENT", "ENOTEMPTY", "EEXIST", "ENOTDIR")) throw ioError(dir, "remove directory", e);
    }
  }
  return removed;
}

/**
 * Rolls a transaction back from its journal, whatever point it reached: every step looks at
 * what is on disk, so running it again after it was itself cut short finishes the job.
 * Returns the paths it changed. The journal itself is left for the caller to remove.
 */
export async function undoJournal(root: string, journal: Journal, opts: UndoOptions): Promise<string[]> {
  const guard = new PathGuard(root);
  const abs = journal.entries.map((e) => guard.parents(e.path));
  await removeTemps(new Set(abs.map((a) => dirname(a))));
  const changed = journal.entries.map(() => false);
  for (const seg of segments(journal.entries).reverse()) {
    await forEachBounded(seg.indexes, seg.kind === "files" ? opts.concurrency : 1, async (i) => {
      const entry = journal.entries[i] as JournalEntry;
      try {
        changed[i] = seg.kind === "files" ? await undoFile(root, journal, i, abs[i] as string) : await undoDir(entry, abs[i] as string);
      } catch (e: unknown) {
        throw ioError(entry.path, "restore", e);
      }
      opts.hook.done();
    });
  }
  const removedDirs = await removeCreatedDirs(guard, journal);
  if (opts.durable) {
    const dirs = new Set([...abs, ...removedDirs.map((d) => guard.parents(d))].map((a) => dirname(a)));
    await flushWritten(root, { files: [], dirs: [...dirs] }, opts.runner, opts.concurrency);
  }
  return [...journal.entries.filter((_, i) => changed[i]).map((e) => e.path), ...removedDirs];
}
