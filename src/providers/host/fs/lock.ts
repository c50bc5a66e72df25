import { randomBytes } from "node:crypto";
import { lstat, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { ErrorCode, GitwardError } from "../../../core/errors.ts";
import { ioError, isErrno } from "./io-error.ts";
import { stateDirName } from "./paths.ts";

/** A held lock on a target root. */
export interface Lock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file if it is still this lock's; safe to call twice. */
  release(): Promise<void>;
}

/** What a lock file holds. */
interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  /** The process's start time from /proc, so a reused pid is not mistaken for the holder. */
  readonly procStart?: string;
  readonly token: string;
}

/** How long a lock file may stay empty (its holder between create and write) before it counts as stale. */
const emptyGraceMs = 10_000;

/**
 * Creates `<root>/.gitward` (mode 0700) if needed and returns it, refusing a symlink there:
 * gitward's journal and backups must not be redirected out of the root.
 */
export async function ensureStateDir(root: string): Promise<string> {
  const dir = join(root, stateDirName);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (e: unknown) {
    if (!isErrno(e, "EEXIST")) throw ioError(dir, "create directory", e);
  }
  const info = await lstat(dir);
  if (!info.isDirectory()) {
    throw new GitwardError(ErrorCode.Limit, `${dir} is ${info.isSymbolicLink() ? "a symlink" : "not a directory"}; gitward keeps its state there`);
  }
  return dir;
}

/** The start time of a process (field 22 of /proc/<pid>/stat), or undefined where /proc is absent. */
async function procStart(pid: number): Promise<string | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

async function isAlive(holder: LockRecord): Promise<boolean> {
  if (holder.host !== hostname()) return true; // cannot tell: a root shared between machines
  try {
    process.kill(holder.pid, 0);
  } catch (e: unknown) {
    return isErrno(e, "EPERM");
  }
  if (holder.procStart === undefined) return true;
  const now = await procStart(holder.pid);
  return now === undefined || now === holder.procStart;
}

async function readRecord(path: string): Promise<LockRecord | "empty" | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e: unknown) {
    if (isErrno(e, "ENOENT")) return undefined;
    throw ioError(path, "read", e);
  }
  try {
    const r = JSON.parse(text) as Partial<LockRecord>;
    if (typeof r.pid === "number" && typeof r.token === "string") return r as LockRecord;
  } catch {
    // A torn or foreign file: judged by its age below.
  }
  return "empty";
}

async function tryCreate(path: string, record: LockRecord): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, "wx", 0o600);
  } catch (e: unknown) {
    if (isErrno(e, "EEXIST")) return false;
    throw ioError(path, "create lock file", e);
  }
  try {
    await fh.writeFile(`${JSON.stringify(record)}\n`);
  } finally {
    await fh.close();
  }
  return true;
}

function sameRecord(a: LockRecord | "empty" | undefined, b: LockRecord | "empty"): boolean {
  return a === b || (typeof a === "object" && typeof b === "object" && a.token === b.token);
}

/**
 * Removes a stale lock without removing a fresh one another process created meanwhile: the
 * removal happens under a second lock file (`lock.takeover`, O_EXCL) after reading the lock
 * again. A takeover lock left by a process killed in that instant is removed once it is old.
 */
async function takeOver(path: string, stale: LockRecord | "empty"): Promise<void> {
  const guard = `${path}.takeover`;
  let fh;
  try {
    fh = await open(guard, "wx", 0o600);
  } catch (e: unknown) {
    if (!isErrno(e, "EEXIST")) throw ioError(guard, "create lock file", e);
    const info = await stat(guard).catch(() => undefined);
    if (info !== undefined && Date.now() - info.mtimeMs > emptyGraceMs) await unlink(guard).catch(() => undefined);
    await delay(25);
    return;
  }
  try {
    await fh.close();
    if (sameRecord(await readRecord(path), stale)) {
      await unlink(path).catch((e: unknown) => {
        if (!isErrno(e, "ENOENT")) throw ioError(path, "take over stale lock", e);
      });
    }
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/** Who holds a root's lock, as its lock file says. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

/**
 * The error of {@link acquireLock} when another live gitward process holds the root: a
 * GitwardError (code `limit`) of its own type, so a caller that would rather wait can tell it
 * from every other failure without reading the message.
 */
export class LockHeldError extends GitwardError {
  /** The lock file. */
  readonly lockPath: string;
  /** The holder, or undefined when the lock file is empty (its holder is between create and write). */
  readonly holder: LockHolder | undefined;

  constructor(root: string, lockPath: string, holder: LockHolder | undefined) {
    const who = holder === undefined ? "another gitward process" : `another gitward process (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt})`;
    super(ErrorCode.Limit, `${root}: ${who} holds the lock on this root`, {
      hint: `wait for it to finish; if no gitward is running there, remove ${lockPath}`,
    });
    this.name = "LockHeldError";
    this.lockPath = lockPath;
    this.holder = holder;
  }
}

function busy(root: string, path: string, holder: LockRecord | "empty"): LockHeldError {
  return new LockHeldError(root, path, holder === "empty" ? undefined : { pid: holder.pid, host: holder.host, startedAt: holder.startedAt });
}

async function isStale(path: string, holder: LockRecord | "empty"): Promise<boolean> {
  if (holder !== "empty") return !(await isAlive(holder));
  const info = await stat(path).catch(() => undefined);
  return info === undefined || Date.now() - info.mtimeMs > emptyGraceMs;
}

/**
 * Takes the exclusive lock `<root>/.gitward/lock` (created with O_EXCL; it holds the pid, host
 * and start time). A lock held by a live process is a {@link LockHeldError} naming it; a lock
 * left by a dead one is taken over.
 */
export async function acquireLock(root: string): Promise<Lock> {
  const path = join(await ensureStateDir(root), "lock");
  const record: LockRecord = {
    pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), token: randomBytes(12).toString("hex"),
    ...await procStart(process.pid).then((s) => (s === undefined ? {} : { procStart: s })),
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    if (await tryCreate(path, record)) return heldLock(path, record.token);
    const holder = await readRecord(path);
    if (holder === undefined) continue;
    if (!(await isStale(path, holder))) throw busy(root, path, holder);
    await takeOver(path, holder);
  }
  throw busy(root, path, "empty");
}

function heldLock(path: string, token: string): Lock {
  return {
    path,
    async release(): Promise<void> {
      const now = await readRecord(path);
      if (typeof now === "object" && now.token === token) await unlink(path).catch((e: unknown) => {
        if (!isErrno(e, "ENOENT")) throw ioError(path, "remove lock file", e);
      });
    },
  };
}
