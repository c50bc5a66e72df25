import type pg from "pg";
import { stateError } from "../store-error.ts";

/**
 * Copying a whole state (SQLite's tables, as rows) into an empty PostgreSQL store, keeping ids,
 * sequence numbers and audit hashes: the copied chain verifies with the same head.
 */

/** The rows of each table of a state, as read from SQLite (column names are the same in both schemas). */
export interface StateDump {
  readonly syncs: readonly Record<string, unknown>[];
  readonly drift_events: readonly Record<string, unknown>[];
  readonly audit_events: readonly Record<string, unknown>[];
  readonly tokens: readonly Record<string, unknown>[];
}

/** What is copied of each table: SQLite's columns; PostgreSQL's retry keys stay null for copied rows. */
export const dumpColumns: Readonly<Record<keyof StateDump, readonly string[]>> = {
  syncs: [
    "id", "environment", "stack", "revision_sha", "revision_author", "revision_author_email", "revision_committer", "revision_message",
    "revision_committed_at", "trigger_kind", "trigger_by", "trigger_detail", "started_at", "finished_at", "duration_ms", "outcome", "error",
    "summary", "objects", "commands", "health",
  ],
  drift_events: ["id", "environment", "stack", "detected_at", "ref_group", "ref_kind", "ref_namespace", "ref_name", "api_version", "fields", "corrected", "sync_id"],
  audit_events: ["seq", "at", "kind", "actor", "environment", "stack", "revision", "details", "prev_hash", "hash"],
  tokens: ["id", "name", "role", "environments", "hash", "created_at", "expires_at", "last_used_at", "revoked_at", "created_by"],
};

const order: readonly (keyof StateDump)[] = ["syncs", "drift_events", "audit_events", "tokens"];
const batch = 500;

/**
 * Inserts a dump in the caller's transaction, after checking that every table is empty (a copy
 * never merges into existing state), then moves the id sequences past the copied ids.
 */
export async function importDump(c: pg.ClientBase, location: string, dump: StateDump): Promise<void> {
  // No appender may slip an event in between the emptiness check and the copy.
  await c.query("LOCK TABLE syncs, drift_events, audit_events, tokens IN EXCLUSIVE MODE");
  for (const table of order) {
    const n = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? 0;
    if (n > 0) throw stateError(location, `is not empty (${table} has ${n} rows): a state is copied only into an empty database`, { hint: "give the copy a new database" });
  }
  for (const table of order) {
    const cols = dumpColumns[table];
    const rows = dump[table];
    for (let i = 0; i < rows.length; i += batch) {
      const chunk = rows.slice(i, i + batch);
      const values: unknown[] = [];
      const tuples = chunk.map((row) => `(${cols.map((col) => {
        values.push(row[col] ?? null);
        return `$${values.length}`;
      }).join(", ")})`);
      await c.query(`INSERT INTO ${table} (${cols.join(", ")}) VALUES ${tuples.join(", ")}`, values);
    }
  }
  for (const table of ["syncs", "drift_events"]) {
    await c.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM ${table}), 1), (SELECT COUNT(*) > 0 FROM ${table}))`);
  }
}
