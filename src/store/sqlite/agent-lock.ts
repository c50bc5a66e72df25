import { DatabaseSync } from "node:sqlite";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { sqliteCode } from "./sqlite-errors.ts";

/** The lock an agent holds on its SQLite state for its lifetime; see {@link lockAgentState}. */
export interface AgentStateLock {
  /** The lock file, `<state>.agent-lock`. */
  readonly path: string;
  /** Releases the lock. Idempotent. */
  release(): void;
}

/**
 * Takes the agent lock of an SQLite state file: an SQLite database next to it
 * (`<state>.agent-lock`) on which the agent keeps a write transaction open for its lifetime.
 * The operating system drops the lock when the process dies, even on kill -9, so a crashed
 * agent never blocks the next. A second agent on the same state refuses to start, naming the
 * first (its pid and start time are committed before the lock is kept; WAL mode lets the
 * second read them while the first holds the lock). CLI commands never take this lock.
 */
export function lockAgentState(statePath: string, info: { readonly pid: number; readonly startedAt: string } = { pid: process.pid, startedAt: new Date().toISOString() }): AgentStateLock {
  const path = `${statePath}.agent-lock`;
  const db = new DatabaseSync(path, { timeout: 0 });
  const refuse = (): never => {
    const holder = readHolder(db);
    db.close();
    throw new GitwardError(ErrorCode.Config, `another gitward agent (${holder === undefined ? "pid unknown" : `pid ${holder.pid}, started ${holder.startedAt}`}) uses this state file: sqlite:${statePath}`, {
      hint: "run one agent per SQLite state file; for several agents use a PostgreSQL state (--state postgres://…)",
    });
  };
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, started_at TEXT NOT NULL)");
    if (!begin(db)) return refuse();
    db.prepare("INSERT OR REPLACE INTO holder (id, pid, started_at) VALUES (1, ?, ?)").run(info.pid, info.startedAt);
    db.exec("COMMIT");
    // Another agent may have taken it between the commit and here: then it is the holder it names.
    if (!begin(db)) return refuse();
  } catch (e: unknown) {
    if (e instanceof GitwardError) throw e;
    db.close();
    throw new GitwardError(ErrorCode.Config, `cannot lock the state file for this agent: ${path}`, { cause: e, hint: "check that the state's directory is writable by the agent" });
  }
  let held = true;
  return {
    path,
    release(): void {
      if (!held) return;
      held = false;
      db.exec("ROLLBACK");
      db.close();
    },
  };
}

/** Opens the write transaction; false when another process holds it. */
function begin(db: DatabaseSync): boolean {
  try {
    db.exec("BEGIN IMMEDIATE");
    return true;
  } catch (e: unknown) {
    // SQLITE_BUSY (5) or SQLITE_LOCKED (6), whatever the extended code.
    const primary = (sqliteCode(e) ?? 0) & 0xff;
    if (primary === 5 || primary === 6) return false;
    throw e;
  }
}

function readHolder(db: DatabaseSync): { pid: number; startedAt: string } | undefined {
  try {
    const row = db.prepare("SELECT pid, started_at FROM holder WHERE id = 1").get() as { pid?: unknown; started_at?: unknown } | undefined;
    return typeof row?.pid === "number" && typeof row.started_at === "string" ? { pid: row.pid, startedAt: row.started_at } : undefined;
  } catch {
    return undefined;
  }
}
