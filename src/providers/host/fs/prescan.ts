import { lstatSync, type Stats } from "node:fs";
import { GitwardError } from "../../../core/errors.ts";
import { ioError, isErrno, targetErrorCode } from "./io-error.ts";
import { beforeOf, type Before } from "./journal.ts";
import { verbOf, type Operation } from "./operation.ts";
import { parentDirs, symlinkRefusal, type PathGuard } from "./paths.ts";
import { forEachSliced } from "./sliced.ts";

/** The operations of a transaction with what their paths are now, checked before anything changes. */
export interface Prescan {
  /** The absolute root. */
  readonly root: string;
  readonly ops: readonly Operation[];
  /** Absolute path of each operation. */
  readonly abs: readonly string[];
  readonly before: readonly Before[];
  /** Size of each path that is a regular file now, else -1. */
  readonly sizes: readonly number[];
  /** Missing parent directories the operations need, outermost first. */
  readonly createdDirs: readonly string[];
}

const typeNames: Record<Before["type"], string> = { missing: "missing", file: "a file", dir: "a directory", symlink: "a symlink", other: "a special file" };

/** Why an operation cannot be done on what is there now, or undefined when it can. */
function conflict(op: Operation, before: Before): string | undefined {
  const allowed: Record<Operation["op"], readonly Before["type"][]> = {
    write: ["missing", "file"],
    mkdir: ["missing", "dir"],
    remove: ["missing", "file", "symlink", "other"],
    rmdir: ["missing", "dir"],
  };
  return allowed[op.op].includes(before.type) ? undefined : `it is ${typeNames[before.type]}`;
}

function lstatOrMissing(abs: string, rel: string): Stats | undefined {
  try {
    return lstatSync(abs, { throwIfNoEntry: false });
  } catch (e: unknown) {
    if (isErrno(e, "ENOENT", "ENOTDIR")) return undefined;
    throw ioError(rel, "inspect", e);
  }
}

function missingParents(guard: PathGuard, op: Operation, into: Set<string>): void {
  for (const dir of parentDirs(op.path)) {
    const verdict = guard.dirState(dir);
    if (verdict === "missing") into.add(dir);
    if (verdict === "not-dir") throw new GitwardError(targetErrorCode, `${op.path}: cannot ${verbOf(op.op)}: ${dir} is not a directory`);
  }
}

/**
 * Looks at every path the operations name (refusing symlinked components) and at their
 * parents, and refuses operations that cannot succeed: writing over a directory, removing a
 * directory with `remove`, a parent that is a file. Nothing is changed.
 */
export async function prescan(guard: PathGuard, ops: readonly Operation[]): Promise<Prescan> {
  const abs = new Array<string>(ops.length);
  const before = new Array<Before>(ops.length);
  const sizes = new Array<number>(ops.length);
  const created = new Set<string>();
  await forEachSliced(ops, (op, i) => {
    abs[i] = guard.parents(op.path);
    missingParents(guard, op, created);
    const info = lstatOrMissing(abs[i], op.path);
    if (info?.isSymbolicLink() === true && op.op !== "remove") throw symlinkRefusal(op.path);
    const b = beforeOf(info);
    const why = conflict(op, b);
    if (why !== undefined) throw new GitwardError(targetErrorCode, `${op.path}: cannot ${verbOf(op.op)}: ${why}`);
    before[i] = b;
    sizes[i] = info?.isFile() === true ? info.size : -1;
  });
  const depth = (p: string): number => p.split("/").length;
  const createdDirs = [...created].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  return { root: guard.root, ops, abs, before, sizes, createdDirs };
}
