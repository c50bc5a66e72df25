import type { DatabaseSync } from "node:sqlite";
import { stateError } from "../store-error.ts";
import { immediate } from "./transaction.ts";

/** One step of the schema, applied once, in order, inside the transaction that records it. */
export interface Migration {
  /** 1, 2, 3, …: the schema version after it. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The schema, as the ordered list of steps that build it. Append only: a released step never
 * changes, because databases in the field have already run it.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "syncs, drift and the audit chain",
    sql: `
      CREATE TABLE syncs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        environment TEXT NOT NULL,
        stack TEXT NOT NULL,
        revision_sha TEXT NOT NULL,
        revision_author TEXT NOT NULL,
        revision_author_email TEXT,
        revision_committer TEXT,
        revision_message TEXT NOT NULL,
        revision_committed_at TEXT,
        trigger_kind TEXT NOT NULL,
        trigger_by TEXT,
        trigger_detail TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_ms REAL,
        outcome TEXT NOT NULL,
        error TEXT,
        summary TEXT NOT NULL,  -- JSON: {action: count}
        objects TEXT NOT NULL,  -- JSON: ChangeSetEntry[]
        commands TEXT           -- JSON: CommandOutput[]
      ) STRICT;
      CREATE INDEX syncs_stack_started ON syncs (environment, stack, started_at);
      CREATE INDEX syncs_started ON syncs (started_at);
      CREATE INDEX syncs_running ON syncs (outcome) WHERE outcome = 'running';

      CREATE TABLE drift_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        environment TEXT NOT NULL,
        stack TEXT NOT NULL,
        detected_at TEXT NOT NULL,
        ref_group TEXT NOT NULL,
        ref_kind TEXT NOT NULL,
        ref_namespace TEXT,
        ref_name TEXT NOT NULL,
        api_version TEXT NOT NULL,
        fields TEXT NOT NULL,   -- JSON: Drift[]
        corrected INTEGER NOT NULL CHECK (corrected IN (0, 1)),
        sync_id INTEGER REFERENCES syncs (id)
      ) STRICT;
      CREATE INDEX drift_stack_detected ON drift_events (environment, stack, detected_at);
      CREATE INDEX drift_detected ON drift_events (detected_at);

      CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        environment TEXT,
        stack TEXT,
        revision TEXT,
        details TEXT NOT NULL,  -- canonical JSON
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      ) STRICT;
      CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: rows cannot be updated'); END;
      CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: rows cannot be deleted'); END;
    `,
  },
  {
    version: 2,
    name: "health of a sync's objects",
    sql: `ALTER TABLE syncs ADD COLUMN health TEXT;  -- JSON: SyncHealth`,
  },
  {
    version: 3,
    name: "audit rows cannot be replaced",
    // INSERT OR REPLACE (and REPLACE INTO) deletes the row it conflicts with without firing
    // DELETE triggers unless recursive_triggers is on, a per-connection setting another
    // program's connection does not have. A BEFORE INSERT trigger sees the old row still there.
    sql: `
      CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events
        WHEN EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.seq)
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: rows cannot be replaced'); END;
    `,
  },
  {
    version: 4,
    name: "API tokens",
    // Only the SHA-256 of a token is kept. A name is unique among unrevoked tokens, so a revoked
    // token's name can be given to its replacement while the old row stays for the record.
    sql: `
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        environments TEXT NOT NULL,  -- JSON: string[], ["*"] for all
        hash TEXT NOT NULL UNIQUE,   -- lower-case hex SHA-256 of the token
        created_at TEXT NOT NULL,
        expires_at TEXT,
        last_used_at TEXT,
        revoked_at TEXT,
        created_by TEXT NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX tokens_unrevoked_name ON tokens (name) WHERE revoked_at IS NULL;
    `,
  },
];

/** The schema version this code writes: the last migration's. */
export const schemaVersion = migrations.at(-1)?.version ?? 0;

/** What {@link migrate} did. */
export interface MigrationReport {
  /** The version found before migrating; 0 for a new database. */
  readonly from: number;
  readonly to: number;
  /** The versions applied now, in order. */
  readonly applied: readonly number[];
}

/**
 * Checks, without writing, that a database opened read-only is gitward's and at the schema this
 * code reads: a reader cannot migrate, and must not guess at columns an older schema lacks.
 */
export function checkSchema(db: DatabaseSync, location: string, steps: readonly Migration[] = migrations): void {
  const known = steps.at(-1)?.version ?? 0;
  const hasTable = db.prepare("SELECT 1 AS x FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined;
  if (!hasTable) throw stateError(location, "is not a gitward state database (it has no schema_migrations table)", { hint: "check the --state path" });
  const row = db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").get();
  const version = typeof row?.["v"] === "number" ? row["v"] : 0;
  if (version > known) {
    throw stateError(location, `has schema version ${version}, newer than ${known}, the latest this gitward knows`, { hint: "a newer gitward wrote it: upgrade gitward" });
  }
  if (version < known) {
    throw stateError(location, `has schema version ${version}, older than ${known}, which this gitward reads`, {
      hint: "start the agent (or gitward apply --state) once on it with this gitward: it migrates the file",
    });
  }
}

/**
 * Brings the database to {@link schemaVersion}: every pending migration in one immediate
 * transaction, so two processes opening a new file at once apply them once. Refuses a database
 * another program made, and one a newer gitward migrated past what this code knows.
 */
export function migrate(db: DatabaseSync, location: string, steps: readonly Migration[] = migrations): MigrationReport {
  return immediate(db, () => {
    const known = steps.at(-1)?.version ?? 0;
    const hasTable = db.prepare("SELECT 1 AS x FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined;
    if (!hasTable) {
      const other = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' LIMIT 1").get();
      if (other !== undefined) {
        throw stateError(location, `is a database of another program (it has a table ${String(other["name"])} but no schema_migrations)`, {
          hint: "give gitward a file of its own",
        });
      }
      db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT");
    }
    const row = db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").get();
    const from = typeof row?.["v"] === "number" ? row["v"] : 0;
    if (from > known) {
      throw stateError(location, `has schema version ${from}, newer than ${known}, the latest this gitward knows`, {
        hint: "a newer gitward wrote it: upgrade gitward, or point --state at another file",
      });
    }
    const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    const applied: number[] = [];
    for (const step of steps) {
      if (step.version <= from) continue;
      db.exec(step.sql);
      record.run(step.version, step.name, new Date().toISOString());
      applied.push(step.version);
    }
    return { from, to: Math.max(from, known), applied };
  });
}
