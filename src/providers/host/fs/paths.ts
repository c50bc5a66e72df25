import { lstatSync, type Stats } from "node:fs";
import { join, resolve } from "node:path";
import { ErrorCode, GitwardError } from "../../../core/errors.ts";
import { ioError, isErrno } from "./io-error.ts";

/** gitward's own directory under a target root; no user path may touch it. */
export const stateDirName = ".gitward";

/** Options of {@link resolveInside}. */
export interface ResolveOptions {
  /** Accept an existing symlink as the last component (to remove the link itself); default false. */
  readonly allowFinalSymlink?: boolean;
}

function refuse(rel: string, why: string): GitwardError {
  return new GitwardError(ErrorCode.Limit, `path ${JSON.stringify(rel)} ${why}`);
}

/**
 * Validates a user path relative to the target root and returns its normal form
 * (`./a//b/` → `a/b`). Refuses, with a GitwardError(Limit) naming the path and the reason,
 * an empty or absolute path, NUL, backslashes, `..` segments, the root itself and `.gitward`.
 */
export function normalizeRelPath(rel: string): string {
  if (rel === "") throw refuse(rel, "is empty");
  if (rel.includes("\0")) throw refuse(rel, "contains a NUL character");
  if (rel.startsWith("/")) throw refuse(rel, "is absolute; paths are relative to the target root");
  if (rel.includes("\\")) throw refuse(rel, "contains a backslash; separate directories with \"/\"");
  const parts = rel.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw refuse(rel, "escapes the target root: \"..\" is not allowed");
  if (parts.length === 0) throw refuse(rel, "is the target root itself; name a file or directory under it");
  // Case-insensitive, for file systems (macOS, Windows shares) where .GITWARD is .gitward.
  if (parts[0]?.toLowerCase() === stateDirName) throw refuse(rel, `is inside ${stateDirName}, which gitward reserves for its own state`);
  return parts.join("/");
}

/**
 * A path as messages and diffs show it: as it is, or quoted with its control characters
 * escaped (`"a\nb"`) so that a name read from disk cannot forge lines of a diff or a log.
 */
export function displayPath(path: string): string {
  if (!/[\u0000-\u001f\u007f]/.test(path)) return path;
  return JSON.stringify(path).replaceAll("\u007f", "\\u007f");
}

/** The error for a symlink met under the target root. */
export function symlinkRefusal(rel: string): GitwardError {
  return new GitwardError(ErrorCode.Limit, `${rel} is a symlink; gitward does not follow symlinks under the target root`);
}

/** What a directory path is: a directory, missing (or under a missing one), or blocked by a non-directory. */
export type DirVerdict = "dir" | "missing" | "not-dir";

/**
 * Checks paths under one root for symlinked components, remembering the directories it has
 * checked: a scan or transaction of 10,000 files then lstats each directory once. The checks
 * are synchronous lstat calls on a few directories, cheaper than a thread-pool round trip.
 * Checks happen before use; a local user racing gitward to swap a directory for a symlink is
 * outside what it defends against.
 */
export class PathGuard {
  readonly root: string;
  readonly #dirs = new Map<string, DirVerdict>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The absolute path of a relative one, after checking every existing directory above it. */
  parents(rel: string): string {
    const norm = normalizeRelPath(rel);
    const cut = norm.lastIndexOf("/");
    if (cut > 0) this.dirState(norm.slice(0, cut));
    return join(this.root, norm);
  }

  /** Like {@link resolveInside}: the parents and the last component are checked. */
  resolve(rel: string, opts: ResolveOptions = {}): string {
    const abs = this.parents(rel);
    let info: Stats | undefined;
    try {
      info = lstatSync(abs, { throwIfNoEntry: false });
    } catch (e: unknown) {
      if (!isErrno(e, "ENOTDIR")) throw ioError(rel, "inspect", e);
    }
    if (info?.isSymbolicLink() === true && opts.allowFinalSymlink !== true) throw symlinkRefusal(normalizeRelPath(rel));
    return abs;
  }

  /** What a directory (normalized, relative) is, refusing symlinks in it or above it. */
  dirState(rel: string): DirVerdict {
    let verdict = this.#dirs.get(rel);
    if (verdict === undefined) {
      verdict = this.#check(rel);
      this.#dirs.set(rel, verdict);
    }
    return verdict;
  }

  #check(rel: string): DirVerdict {
    const cut = rel.lastIndexOf("/");
    const above = cut > 0 ? this.dirState(rel.slice(0, cut)) : "dir";
    if (above !== "dir") return above;
    let info: Stats | undefined;
    try {
      info = lstatSync(join(this.root, rel), { throwIfNoEntry: false });
    } catch (e: unknown) {
      throw ioError(rel, "inspect", e);
    }
    if (info === undefined) return "missing";
    if (info.isSymbolicLink()) throw symlinkRefusal(rel);
    return info.isDirectory() ? "dir" : "not-dir";
  }
}

/**
 * The absolute path of `rel` under `root`, refusing a path whose existing components under
 * the root include a symlink (the root itself may be one), or whose last component is one.
 * Missing components are fine: they will be created.
 */
export function resolveInside(root: string, rel: string, opts: ResolveOptions = {}): Promise<string> {
  return Promise.resolve().then(() => new PathGuard(root).resolve(rel, opts));
}

/** The parent directories of a normalized relative path, outermost first: `a/b/c` → `a`, `a/b`. */
export function parentDirs(rel: string): string[] {
  const out: string[] = [];
  for (let i = rel.indexOf("/"); i !== -1; i = rel.indexOf("/", i + 1)) out.push(rel.slice(0, i));
  return out;
}
