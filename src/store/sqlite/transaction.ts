import type { DatabaseSync } from "node:sqlite";

/**
 * Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken at the start (waiting up
 * to the busy timeout), so a read inside cannot be invalidated by another process's write before
 * this one commits. Every write goes through here.
 */
export function immediate<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (e: unknown) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw e;
  }
}
