import type pg from "pg";
import { stateError } from "../store-error.ts";

/** One step of the PostgreSQL schema, applied once, in order, inside the transaction that records it. */
export interface PgMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The advisory lock keys of this store (one 64-bit space per database): migrating, and appending
 * to the audit chain. Constants, so every gitward process agrees on them.
 */
export const lockKeys = { migrate: 7_301_000_017, audit: 7_301_000_018 } as const;

/**
 * The schema, append only. Columns mirror the SQLite schema (times as ISO 8601 text, JSON as
 * text) so rows copy across unchanged and audit details read back byte for byte as hashed.
 * `request_key`, `finish_key` and `append_key` are client-generated: a write retried after a
 * lost connection finds its first attempt instead of doing it twice.
 */
export const pgMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: "syncs, drift, the audit chain and API tokens",
    sql: `
      CREATE TABLE syncs (
        id BIGSERIAL PRIMARY KEY,
        request_key TEXT UNIQUE,
        finish_key TEXT,
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
        started_at TEXT COLLATE "C" NOT NULL,
        finished_at TEXT,
        duration_ms DOUBLE PRECISION,
        outcome TEXT NOT NULL,
        error TEXT,
        summary TEXT NOT NULL,
        objects TEXT NOT NULL,
        commands TEXT,
        health TEXT
      );
      -- Times are ISO 8601 UTC text of one width: with the C collation text order is time order, whatever the database's locale.
      CREATE INDEX syncs_stack_started ON syncs (environment, stack, started_at);
      CREATE INDEX syncs_started ON syncs (started_at, id);
      CREATE INDEX syncs_running ON syncs (outcome) WHERE outcome = 'running';
      CREATE INDEX syncs_finish_key ON syncs (finish_key) WHERE finish_key IS NOT NULL;

      CREATE TABLE drift_events (
        id BIGSERIAL PRIMARY KEY,
        request_key TEXT UNIQUE,
        environment TEXT NOT NULL,
        stack TEXT NOT NULL,
        detected_at TEXT COLLATE "C" NOT NULL,
        ref_group TEXT NOT NULL,
        ref_kind TEXT NOT NULL,
        ref_namespace TEXT,
        ref_name TEXT NOT NULL,
        api_version TEXT NOT NULL,
        fields TEXT NOT NULL,
        corrected SMALLINT NOT NULL CHECK (corrected IN (0, 1)),
        sync_id BIGINT REFERENCES syncs (id)
      );
      CREATE INDEX drift_stack_detected ON drift_events (environment, stack, detected_at);
      CREATE INDEX drift_detected ON drift_events (detected_at, id);

      CREATE TABLE audit_events (
        seq BIGINT PRIMARY KEY,
        append_key TEXT UNIQUE,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        environment TEXT,
        stack TEXT,
        revision TEXT,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE FUNCTION gitward_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % is refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION gitward_audit_append_only();
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION gitward_audit_append_only();

      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        environments TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        created_at TEXT COLLATE "C" NOT NULL,
        expires_at TEXT,
        last_used_at TEXT,
        revoked_at TEXT,
        created_by TEXT NOT NULL
      );
      CREATE UNIQUE INDEX tokens_unrevoked_name ON tokens (name) WHERE revoked_at IS NULL;
    `,
  },
  {
    version: 2,
    name: "several agents: agents, leases, routed work, the agent of each sync",
    sql: `
      -- The agent that ran a sync: an agent starting marks only the running syncs of agents no longer alive.
      ALTER TABLE syncs ADD COLUMN agent_id TEXT;
      CREATE INDEX syncs_agent_running ON syncs (agent_id) WHERE outcome = 'running';

      -- Times here are the database's (now()), never an agent's clock.
      CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        hostname TEXT NOT NULL,
        pid INTEGER NOT NULL,
        url TEXT,
        lease_seconds DOUBLE PRECISION NOT NULL CHECK (lease_seconds > 0),
        started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );

      -- One owner per (environment, stack); epoch grows at each takeover and fences the previous owner's writes.
      CREATE TABLE leases (
        environment TEXT NOT NULL,
        stack TEXT NOT NULL,
        owner TEXT NOT NULL,
        epoch BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (environment, stack)
      );
      CREATE INDEX leases_owner ON leases (owner);

      -- Manual syncs received by an agent that does not own the stack, for its owner to take.
      CREATE TABLE work_queue (
        id BIGSERIAL PRIMARY KEY,
        environment TEXT NOT NULL,
        stack TEXT NOT NULL,
        trigger_kind TEXT NOT NULL,
        trigger_by TEXT,
        trigger_detail TEXT,
        from_agent TEXT NOT NULL,
        queued_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE INDEX work_queue_stack ON work_queue (environment, stack);
    `,
  },
];

/** The schema version this code writes. */
const pgSchemaVersion = pgMigrations.at(-1)?.version ?? 0;

const ourTables = ["syncs", "drift_events", "audit_events", "tokens"];

/** The schema version recorded, or undefined when there is no schema_migrations table (in the search path). */
async function recordedVersion(client: pg.ClientBase): Promise<number | undefined> {
  const has = await client.query<{ has: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS has");
  if (has.rows[0]?.has !== true) return undefined;
  const r = await client.query<{ v: number }>("SELECT COALESCE(MAX(version), 0)::int AS v FROM schema_migrations");
  return r.rows[0]?.v ?? 0;
}

/**
 * Brings the database to {@link pgSchemaVersion} in one transaction holding an advisory lock, so
 * that agents starting at once migrate once (the second waits, then finds nothing to do).
 * Refuses a database whose tables another program made, and a schema newer than this code's.
 * Returns the versions applied.
 */
export async function migratePostgres(client: pg.ClientBase, location: string, steps: readonly PgMigration[] = pgMigrations): Promise<number[]> {
  const known = steps.at(-1)?.version ?? 0;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [lockKeys.migrate]);
    let from = await recordedVersion(client);
    if (from === undefined) {
      const other = await client.query<{ name: string }>("SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NOT NULL LIMIT 1", [ourTables]);
      if (other.rows[0] !== undefined) {
        throw stateError(location, `has a table ${other.rows[0].name} but no schema_migrations: another program's database`, { hint: "give gitward a database (or schema) of its own" });
      }
      await client.query("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      from = 0;
    }
    if (from > known) {
      throw stateError(location, `has schema version ${from}, newer than ${known}, the latest this gitward knows`, { hint: "a newer gitward wrote it: upgrade gitward" });
    }
    const applied: number[] = [];
    for (const step of steps) {
      if (step.version <= from) continue;
      await client.query(step.sql);
      await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [step.version, step.name]);
      applied.push(step.version);
    }
    await client.query("COMMIT");
    return applied;
  } catch (e: unknown) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

/** Checks, without writing, that the database is gitward's and at this code's schema (read-only opens). */
export async function checkPgSchema(client: pg.ClientBase, location: string, known: number = pgSchemaVersion): Promise<void> {
  const version = await recordedVersion(client);
  if (version === undefined) throw stateError(location, "is not a gitward state database (it has no schema_migrations table)", { hint: "check the --state URL" });
  if (version > known) throw stateError(location, `has schema version ${version}, newer than ${known}, the latest this gitward knows`, { hint: "upgrade gitward" });
  if (version < known) throw stateError(location, `has schema version ${version}, older than ${known}`, { hint: "start the agent once with this gitward: it migrates the database" });
}
