import type { Stats } from "node:fs";
import { join } from "node:path";
import { GitwardError } from "../../../core/errors.ts";
import { readJsonFile, writeJsonAtomic } from "./atomic.ts";
import { targetErrorCode } from "./io-error.ts";
import type { OperationKind } from "./operation.ts";
import { normalizeRelPath, stateDirName } from "./paths.ts";

/** What a path was before a transaction touched it. */
export type Before =
  | { readonly type: "missing" }
  | { readonly type: "file" | "dir" | "symlink" | "other"; readonly mode: number; readonly uid: number; readonly gid: number };

/** One operation of a transaction as the journal records it (content is not kept: backups are). */
export interface JournalEntry {
  readonly op: OperationKind;
  readonly path: string;
  readonly before: Before;
}

/**
 * The record of a transaction in progress, written before anything changes and removed at
 * commit. If it is still there when gitward starts, the transaction was cut short and is
 * rolled back from it.
 */
export interface Journal {
  readonly version: 1;
  readonly id: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly entries: readonly JournalEntry[];
  /** Directories that did not exist and will be created as parents, outermost first. */
  readonly createdDirs: readonly string[];
}

/** `<root>/.gitward/journal.json`. */
export function journalPath(root: string): string {
  return join(root, stateDirName, "journal.json");
}

/** `<root>/.gitward/txn-<id>`: the transaction's backups live under it. */
export function txnDirPath(root: string, id: string): string {
  return join(root, stateDirName, `txn-${id}`);
}

/**
 * Where the previous version of the journal entry at `index` is kept. Backups are named by
 * index, not by path, so that a directory and a file in it can both be backed up.
 */
export function backupPath(root: string, id: string, index: number): string {
  return join(txnDirPath(root, id), "backup", String(index));
}

/** The {@link Before} of a path from its lstat, or missing. */
export function beforeOf(info: Stats | undefined): Before {
  if (info === undefined) return { type: "missing" };
  const type = info.isFile() ? "file" : info.isDirectory() ? "dir" : info.isSymbolicLink() ? "symlink" : "other";
  return { type, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
}

/** Writes the journal atomically and durably. */
export async function writeJournal(root: string, journal: Journal): Promise<void> {
  await writeJsonAtomic(journalPath(root), journal);
}

const ops = new Set(["write", "mkdir", "remove", "rmdir"]);
const types = new Set(["file", "dir", "symlink", "other"]);
const isId = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v >= 0;

function validBefore(b: unknown): boolean {
  const r = b as { type?: unknown; mode?: unknown; uid?: unknown; gid?: unknown } | null;
  if (typeof r !== "object" || r === null) return false;
  if (r.type === "missing") return true;
  return types.has(r.type as string) && isId(r.mode) && isId(r.uid) && isId(r.gid);
}

/** A path from the journal: normal form only, since recovery deletes what the journal names. */
function validPath(p: unknown): boolean {
  if (typeof p !== "string") return false;
  try {
    return normalizeRelPath(p) === p;
  } catch {
    return false;
  }
}

function validJournal(j: unknown): j is Journal {
  const r = j as Partial<Journal> | null;
  if (typeof r !== "object" || r === null || r.version !== 1 || typeof r.id !== "string" || !/^[a-z0-9-]+$/.test(r.id)) return false;
  if (!Array.isArray(r.entries) || !Array.isArray(r.createdDirs) || !r.createdDirs.every(validPath)) return false;
  return r.entries.every((e: unknown) => {
    const x = e as Partial<JournalEntry> | null;
    return typeof x === "object" && x !== null && ops.has(x.op as string) && validPath(x.path) && validBefore(x.before);
  });
}

/** The journal of an unfinished transaction, or undefined; a malformed one is a GitwardError naming it. */
export async function readJournal(root: string): Promise<Journal | undefined> {
  const path = journalPath(root);
  const journal = await readJsonFile<unknown>(path);
  if (journal === undefined) return undefined;
  if (!validJournal(journal)) {
    throw new GitwardError(targetErrorCode, `${path}: not a valid gitward journal`, {
      hint: "a previous sync was interrupted and its journal is damaged; check the files under the root, then move the journal aside",
    });
  }
  return journal;
}
