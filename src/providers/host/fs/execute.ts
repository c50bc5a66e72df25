import { randomBytes } from "node:crypto";
import { chmod, chown, lstat, mkdir, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { GitwardError } from "../../../core/errors.ts";
import { forEachBounded } from "./bounded.ts";
import type { CrashHook } from "./crash-hook.ts";
import { fsyncDir, replaceFile } from "./atomic.ts";
import { copyEntry } from "./copy-entry.ts";
import { fsc } from "./fs-calls.ts";
import { ioError, isErrno, targetErrorCode } from "./io-error.ts";
import { beforeOf, type Before } from "./journal.ts";
import { segments, verbOf, type Operation } from "./operation.ts";
import { parentDirs } from "./paths.ts";
import type { Prescan } from "./prescan.ts";

/** Mode of the parent directories a transaction creates on its own. */
export const parentDirMode = 0o755;

/** How {@link executeOps} runs. */
export interface Execution {
  readonly root: string;
  readonly plan: Prescan;
  /** Where the previous version of operation i is kept; undefined when staging (nothing is kept). */
  readonly backup?: (index: number) => string;
  /**
   * Make the backups durable before the files they keep are replaced (one directory fsync per
   * segment); the new files are made durable at commit, all at once (see flushWritten).
   */
  readonly durable: boolean;
  readonly concurrency: number;
  readonly hook: CrashHook;
}

/** Per operation: true when it changed something (a write whose target already matched did not). */
export type Changed = boolean[];

/**
 * Carries out prescanned operations in order: missing parents are created (mode 0755) as the
 * operations need them, consecutive writes and removes run concurrently with their backups
 * taken first, and each directory operation runs alone. Stops at the first failure, after the
 * operations in flight have settled; undoing is the caller's.
 */
export async function executeOps(x: Execution): Promise<Changed> {
  const changed: Changed = x.plan.ops.map(() => false);
  const made = new Set<string>();
  const missing = new Set(x.plan.createdDirs);
  for (const seg of segments(x.plan.ops)) {
    await createParents(x, seg.indexes, missing, made);
    if (seg.kind === "files") await runFiles(x, seg.indexes, changed);
    else await runDirOp(x, seg.indexes[0] as number, changed);
  }
  return changed;
}

async function createParents(x: Execution, indexes: readonly number[], missing: ReadonlySet<string>, made: Set<string>): Promise<void> {
  const needed = new Set<string>();
  for (const i of indexes) {
    for (const dir of parentDirs((x.plan.ops[i] as Operation).path)) if (missing.has(dir) && !made.has(dir)) needed.add(dir);
  }
  const dirs = [...needed].sort((a, b) => a.split("/").length - b.split("/").length);
  for (const dir of dirs) {
    const abs = join(x.root, dir);
    try {
      await mkdir(abs, { mode: parentDirMode });
      await chmod(abs, parentDirMode);
    } catch (e: unknown) {
      if (!isErrno(e, "EEXIST") || !(await lstat(abs)).isDirectory()) throw ioError(dir, "create directory", e);
    }
    made.add(dir);
  }
}

/** True when a file already has the content, mode and owner a write asks for. */
async function matches(abs: string, op: Extract<Operation, { op: "write" }>, before: Before, size: number): Promise<boolean> {
  if (before.type !== "file" || size !== op.content.length || before.mode !== op.mode) return false;
  if ((op.uid !== undefined && op.uid !== before.uid) || (op.gid !== undefined && op.gid !== before.gid)) return false;
  const fd = await fsc.open(abs, "r");
  try {
    return (await fsc.readUpTo(fd, size)).equals(op.content);
  } finally {
    await fsc.close(fd);
  }
}

/**
 * Keeps a file's previous version: a hard link (the file's own inode, with its mode and
 * owner), or a copy where linking is refused (another file system, a protected link).
 */
async function keepCopy(abs: string, backup: string, before: Before): Promise<void> {
  try {
    await fsc.link(abs, backup);
  } catch (e: unknown) {
    if (isErrno(e, "EEXIST")) throw e;
    await copyEntry(abs, backup, before, e);
  }
}

/** Moves a path being removed into its backup, or copies it there first across file systems. */
async function moveAside(abs: string, backup: string, before: Before): Promise<void> {
  try {
    await fsc.rename(abs, backup);
  } catch (e: unknown) {
    if (!isErrno(e, "EXDEV")) throw e;
    await copyEntry(abs, backup, before, e);
    await fsc.unlink(abs);
  }
}

async function runFiles(x: Execution, indexes: readonly number[], changed: Changed): Promise<void> {
  const skip = new Set<number>();
  let kept = 0;
  // Phase one: every backup of the segment (and the removes, which are moves into backups).
  await forEachBounded(indexes, x.concurrency, async (i) => {
    const op = x.plan.ops[i] as Operation;
    const abs = x.plan.abs[i] as string;
    const before = x.plan.before[i] as Before;
    try {
      if (op.op === "write" && before.type === "file") {
        if (await matches(abs, op, before, x.plan.sizes[i] as number)) {
          skip.add(i);
          x.hook.done();
        } else if (x.backup !== undefined) {
          await keepCopy(abs, x.backup(i), before);
          kept++;
        }
      } else if (op.op === "remove" && before.type !== "missing") {
        if (x.backup === undefined) await fsc.unlink(abs);
        else await moveAside(abs, x.backup(i), before);
        kept++;
        changed[i] = true;
        x.hook.done();
      }
    } catch (e: unknown) {
      throw ioError(op.path, verbOf(op.op), e);
    }
  });
  if (x.durable && x.backup !== undefined && kept > 0) await fsyncDir(dirname(x.backup(0)));
  // Phase two: the writes, each atomic on its own.
  const writes = indexes.filter((i) => x.plan.ops[i]?.op === "write" && !skip.has(i));
  const tag = randomBytes(4).toString("hex");
  await forEachBounded(writes, x.concurrency, async (i) => {
    const op = x.plan.ops[i] as Extract<Operation, { op: "write" }>;
    try {
      await replaceFile(x.plan.abs[i] as string, op.content, op, { fsyncFile: false, fsyncDir: false, tempTag: `${tag}-${i}` });
    } catch (e: unknown) {
      throw ioError(op.path, "write", e);
    }
    changed[i] = true;
    x.hook.done();
  });
}

async function setDirAttrs(abs: string, want: { mode: number; uid?: number; gid?: number }, now: Before): Promise<boolean> {
  const has = now.type === "dir" ? now : undefined;
  const ownerDiffers = (want.uid !== undefined && want.uid !== has?.uid) || (want.gid !== undefined && want.gid !== has?.gid);
  if (!ownerDiffers && has?.mode === want.mode) return false;
  if (ownerDiffers) await chown(abs, want.uid ?? -1, want.gid ?? -1);
  // chown can clear setgid, so the mode is set after it whenever the owner changed.
  await chmod(abs, want.mode);
  return true;
}

async function runDirOp(x: Execution, i: number, changed: Changed): Promise<void> {
  const op = x.plan.ops[i] as Operation;
  const abs = x.plan.abs[i] as string;
  let before = x.plan.before[i] as Before;
  try {
    if (op.op === "mkdir") {
      try {
        await mkdir(abs, { mode: 0o700 });
        before = { type: "missing" };
        changed[i] = true;
      } catch (e: unknown) {
        // It existed, or was made meanwhile as the parent of an earlier write.
        if (!isErrno(e, "EEXIST")) throw e;
        before = beforeOf(await lstat(abs));
        if (before.type !== "dir") throw e;
      }
      if (await setDirAttrs(abs, op, before)) changed[i] = true;
    } else if (op.op === "rmdir" && before.type === "dir") {
      await rmdir(abs).catch((e: unknown) => {
        throw isErrno(e, "ENOTEMPTY", "EEXIST") ? new GitwardError(targetErrorCode, `${op.path}: cannot remove directory: it is not empty`) : e;
      });
      changed[i] = true;
    }
  } catch (e: unknown) {
    throw ioError(op.path, verbOf(op.op), e);
  }
  x.hook.done();
}
