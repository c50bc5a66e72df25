import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, rm, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { ProcessRunner, type CommandRunner } from "../../../core/command-runner.ts";
import { ErrorCode, GitwardError } from "../../../core/errors.ts";
import { fsyncDir, tempPrefix } from "./atomic.ts";
import { crashHook } from "./crash-hook.ts";
import { executeOps } from "./execute.ts";
import { flushWritten, type Written } from "./flush.ts";
import { ioError, isErrno, targetErrorCode } from "./io-error.ts";
import { backupPath, journalPath, readJournal, txnDirPath, writeJournal, type Journal } from "./journal.ts";
import { ensureStateDir } from "./lock.ts";
import { checkOperations, type Operation } from "./operation.ts";
import { PathGuard, stateDirName } from "./paths.ts";
import { prescan, type Prescan } from "./prescan.ts";
import { undoJournal } from "./undo.ts";

export type { Operation } from "./operation.ts";

// Why a crash at any point is repaired by rolling back from the journal:
// - The journal (every path and what it was before) is durable before anything changes, and is
//   removed only at commit or once a rollback is complete; no journal means nothing to repair.
// - A path is never changed before its backup exists: a replaced file's old inode is hard-linked
//   into the backups first, a removed path is moved there. So "backup present" means "put it
//   back", and "no backup, existed before" means "never touched".
// - Whatever exists at a path recorded as missing was made by the transaction (the lock keeps
//   other gitward runs out), as were the parents it recorded as created.
// - Each undo step looks at the disk, not at how far the crashed run got, so an undo that is
//   itself killed is finished by running it again.

/** Options of {@link beginTransaction} and {@link recoverTransaction}. */
export interface TransactionOptions {
  /** File operations in flight at once; default 32. */
  readonly concurrency?: number;
  /**
   * Survive a power loss as well as a crash: the journal and backups are fsynced before
   * anything is replaced, and the new files before the commit point; default true.
   */
  readonly durable?: boolean;
  /** Runs `sync -f` to flush the file system at commit; default a {@link ProcessRunner}. */
  readonly runner?: CommandRunner;
}

/** What a rollback or a recovery put back. */
export interface RollbackResult {
  /** The paths it restored, removed or recreated. */
  readonly rolledBack: string[];
}

/** Changes applied to a target root, with the previous versions kept until commit or rollback. */
export interface Transaction {
  readonly id: string;
  /** The paths the transaction changed, in operation order; writes that already matched are left out. */
  readonly changed: readonly string[];
  /** Makes the changes final (the journal's removal is the commit point) and drops the backups. Idempotent. */
  commit(): Promise<void>;
  /** Puts every touched path back as it was and drops the backups. Idempotent. */
  rollback(): Promise<RollbackResult>;
}

interface Settings {
  readonly concurrency: number;
  readonly durable: boolean;
  readonly runner: CommandRunner;
}

function settingsOf(opts: TransactionOptions): Settings {
  return { concurrency: Math.max(1, opts.concurrency ?? 32), durable: opts.durable ?? true, runner: opts.runner ?? new ProcessRunner() };
}

/** The files a transaction wrote and the directories whose entries it changed. */
function writtenBy(plan: Prescan, changed: readonly boolean[]): Written {
  const files: string[] = [];
  const dirs = new Set<string>();
  plan.ops.forEach((op, i) => {
    if (!changed[i]) return;
    const abs = plan.abs[i] as string;
    if (op.op === "write") files.push(abs);
    dirs.add(dirname(abs));
  });
  for (const d of plan.createdDirs) dirs.add(dirname(join(plan.root, d)));
  return { files, dirs: [...dirs] };
}

/** Removes the journal (the commit point, or the end of a rollback), then the backups. */
async function finish(root: string, id: string, s: Settings): Promise<void> {
  try {
    await unlink(journalPath(root));
  } catch (e: unknown) {
    if (!isErrno(e, "ENOENT")) throw ioError(journalPath(root), "remove", e);
  }
  if (s.durable) await fsyncDir(join(root, stateDirName));
  // Past the commit point a leftover directory is harmless: the next recovery removes it.
  await rm(txnDirPath(root, id), { recursive: true, force: true }).catch(() => undefined);
}

async function undo(root: string, journal: Journal, s: Settings): Promise<RollbackResult> {
  const rolledBack = await undoJournal(root, journal, { ...s, hook: crashHook("GITWARD_TEST_CRASH_AFTER_UNDO") });
  await finish(root, journal.id, s);
  return { rolledBack };
}

class FileTransaction implements Transaction {
  readonly id: string;
  readonly changed: readonly string[];
  readonly #root: string;
  readonly #journal: Journal;
  readonly #settings: Settings;
  readonly #written: Written;
  #outcome: "open" | "committed" | RollbackResult = "open";

  constructor(root: string, journal: Journal, plan: Prescan, changed: readonly boolean[], settings: Settings) {
    this.id = journal.id;
    this.changed = plan.ops.filter((_, i) => changed[i]).map((o) => o.path);
    this.#root = root;
    this.#journal = journal;
    this.#settings = settings;
    this.#written = writtenBy(plan, changed);
  }

  async commit(): Promise<void> {
    if (this.#outcome === "committed") return;
    if (this.#outcome !== "open") throw new GitwardError(ErrorCode.Internal, `transaction ${this.id} was rolled back; it cannot be committed`);
    const s = this.#settings;
    if (s.durable) await flushWritten(this.#root, this.#written, s.runner, s.concurrency);
    await finish(this.#root, this.id, s);
    this.#outcome = "committed";
  }

  async rollback(): Promise<RollbackResult> {
    if (this.#outcome === "committed") throw new GitwardError(ErrorCode.Internal, `transaction ${this.id} was committed; it cannot be rolled back`);
    if (this.#outcome === "open") this.#outcome = await undo(this.#root, this.#journal, this.#settings);
    return this.#outcome;
  }
}

/**
 * Applies operations to a target root as one transaction. A journal listing every operation
 * and what its path was before is written first; then missing parents are created and the
 * operations run in order, each replaced or removed path first kept as a backup under
 * `.gitward/txn-<id>/`. If an operation fails, everything done is undone and the error thrown.
 * The caller holds the root's lock and has run {@link recoverTransaction}.
 */
export async function beginTransaction(root: string, ops: readonly Operation[], opts: TransactionOptions = {}): Promise<Transaction> {
  const base = resolve(root);
  const s = settingsOf(opts);
  const checked = checkOperations(ops);
  const plan = await prescan(new PathGuard(base), checked);
  await ensureStateDir(base);
  if ((await readJournal(base)) !== undefined) {
    throw new GitwardError(targetErrorCode, `${journalPath(base)}: an interrupted transaction has not been recovered`, {
      hint: "recoverTransaction must run (under the lock) before a new transaction begins",
    });
  }
  const id = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  await mkdir(join(txnDirPath(base, id), "backup"), { recursive: true, mode: 0o700 }).catch((e: unknown) => {
    throw ioError(txnDirPath(base, id), "create directory", e);
  });
  const journal: Journal = {
    version: 1, id, pid: process.pid, startedAt: new Date().toISOString(),
    entries: checked.map((o, i) => ({ op: o.op, path: o.path, before: plan.before[i] ?? { type: "missing" } })),
    createdDirs: plan.createdDirs,
  };
  await writeJournal(base, journal);
  const hook = crashHook("GITWARD_TEST_CRASH_AFTER_OPS");
  hook.check();
  try {
    const changed = await executeOps({ root: base, plan, backup: (i) => backupPath(base, id, i), durable: s.durable, concurrency: s.concurrency, hook });
    return new FileTransaction(base, journal, plan, changed, s);
  } catch (e: unknown) {
    const failure = ioError(base, "apply the transaction", e);
    try {
      await undo(base, journal, s);
    } catch (u: unknown) {
      const why = u instanceof Error ? u.message : String(u);
      throw new GitwardError(targetErrorCode, `${failure.message}; rolling back failed too (${why}); the next run retries it from the journal`, { cause: failure });
    }
    throw failure;
  }
}

function deadPid(name: string): boolean {
  const pid = Number(/^stage-(\d+)-/.exec(name)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e: unknown) {
    return !isErrno(e, "EPERM");
  }
}

/** Removes what killed runs left in `.gitward`: transaction directories, stage copies of dead processes, temporary files. */
async function removeStrays(stateDir: string): Promise<void> {
  for (const name of await readdir(stateDir)) {
    const path = join(stateDir, name);
    if (name.startsWith("txn-") || (name.startsWith("stage-") && deadPid(name))) await rm(path, { recursive: true, force: true });
    else if (name.startsWith(tempPrefix)) await unlink(path).catch(() => undefined);
  }
}

/**
 * Finishes what a killed run left: when a journal exists, rolls its transaction back to the
 * previous files (the journal is removed last, so a recovery cut short is simply run again),
 * then removes stray backups and temporary files. Undefined when there was nothing to roll
 * back. The caller holds the root's lock.
 */
export async function recoverTransaction(root: string, opts: TransactionOptions = {}): Promise<RollbackResult | undefined> {
  const base = resolve(root);
  const stateDir = join(base, stateDirName);
  const info = await lstat(stateDir).catch(() => undefined);
  if (info?.isDirectory() !== true) return undefined;
  const journal = await readJournal(base);
  const result = journal === undefined ? undefined : await undo(base, journal, settingsOf(opts));
  await removeStrays(stateDir);
  return result;
}
