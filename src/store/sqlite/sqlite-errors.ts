import { isGitwardError } from "../../core/errors.ts";
import { stateError } from "../store-error.ts";

/** A node:sqlite error: the SQLite result code is structured, so classification never reads message text. */
interface SqliteError extends Error {
  readonly code: "ERR_SQLITE_ERROR";
  /** The extended result code; the low byte is the primary code. */
  readonly errcode: number;
  readonly errstr: string;
}

function isSqliteError(e: unknown): e is SqliteError {
  return e instanceof Error && (e as { code?: unknown }).code === "ERR_SQLITE_ERROR" && typeof (e as { errcode?: unknown }).errcode === "number";
}

/** SQLite primary result codes this module tells apart (https://sqlite.org/rescode.html). */
const Rc = { Busy: 5, Locked: 6, ReadOnly: 8, IoErr: 10, Corrupt: 11, Full: 13, CantOpen: 14, NotADb: 26 } as const;

/** The extended code of a foreign key violation. */
export const sqliteForeignKeyViolation = 787;

/** The extended SQLite result code of an error, or undefined when it is not an SQLite error. */
export function sqliteCode(e: unknown): number | undefined {
  return isSqliteError(e) ? e.errcode : undefined;
}

/**
 * Turns a failure of an SQLite call into a GitwardError that names the database and says what
 * to do; GitwardErrors pass through, other errors are wrapped as they are.
 */
export function sqliteFailure(location: string, operation: string, busyTimeoutMs: number, e: unknown): Error {
  if (isGitwardError(e)) return e;
  if (!isSqliteError(e)) return stateError(location, `${operation} failed`, { cause: e });
  const opts = { cause: e };
  switch (e.errcode & 0xff) {
    case Rc.NotADb:
      return stateError(location, "is not an SQLite database", { ...opts, hint: "point the state at a new file or one gitward made" });
    case Rc.Corrupt:
      return stateError(location, "is corrupt", { ...opts, hint: "restore it from a backup, or move it aside to start a new history" });
    case Rc.CantOpen:
      return stateError(location, "cannot be opened", { ...opts, hint: "check that the directory exists and is writable by the agent" });
    case Rc.Busy:
    case Rc.Locked:
      return stateError(location, `${operation}: the database stayed locked for ${busyTimeoutMs} ms`, {
        ...opts, hint: "another process holds a long write transaction on it",
      });
    case Rc.ReadOnly:
      return stateError(location, `${operation}: the database is read-only`, { ...opts, hint: "the agent needs write access to the file and its directory" });
    case Rc.Full:
      return stateError(location, `${operation}: the disk is full`, opts);
    case Rc.IoErr:
      return stateError(location, `${operation}: input/output error`, opts);
    default:
      return stateError(location, `${operation} failed`, opts);
  }
}
