import { randomUUID } from "node:crypto";
import pg from "pg";
import { auditHash, canonicalJson, ChainVerifier, genesisHash } from "./audit-hash.ts";
import type { Now } from "./prepare.ts";
import { compact, listLimit, prepareAudit, prepareDrift, prepareHealth, prepareNewSync, prepareResult } from "./prepare.ts";
import { redact } from "./redact.ts";
import { PgFilter } from "./postgres/filter.ts";
import { PgCoordination } from "./postgres/coordination.ts";
import { driftParams, syncParams } from "./postgres/params.ts";
import { rowId } from "./prepare.ts";
import type { CoordinationStore } from "./coordination.ts";
import type { LeaseFence } from "./fence.ts";
import { checkFence, type Queryable } from "./postgres/fence-check.ts";
import type { Env } from "./postgres/connection.ts";
import { describeTarget, resolveTarget } from "./postgres/connection.ts";
import type { StateDump } from "./postgres/import.ts";
import { importDump } from "./postgres/import.ts";
import { checkPgSchema, lockKeys, migratePostgres } from "./postgres/migrations.ts";
import { SqlState, sqlState } from "./postgres/pg-errors.ts";
import type { Retrier } from "./postgres/retry.ts";
import { newRetrier } from "./postgres/retry.ts";
import { pgInsertToken, pgRevokeToken, pgSelectTokenByHash, pgSelectTokens, pgTouchToken } from "./postgres/tokens.ts";
import { validateNewToken } from "./sqlite/tokens.ts";
import { auditFromRow, driftFromRow, syncFromRow } from "./sqlite/rows.ts";
import type { Row } from "./sqlite/rows.ts";
import { invalidCall } from "./store-error.ts";
import type {
  AuditEvent, AuditQuery, AuditVerification, DriftQuery, DriftRow, NewAuditEvent, NewDrift, NewSync, Store, SyncHealth, SyncQuery, SyncResult, SyncRow,
} from "./store.ts";
import type { NewToken, TokenInfo } from "./tokens.ts";
import { newTokenId } from "./tokens.ts";

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** The clock for default timestamps; default the system clock. */
  readonly now?: Now;
  /** Check the schema instead of migrating it, and write nothing on open (reading commands). Default false. */
  readonly readOnly?: boolean;
  /** How long a call that failed for a lost connection is retried, with backoff; default {@link defaultRetryForMs}. */
  readonly retryForMs?: number;
  /** Connections in the pool; default 4. */
  readonly poolSize?: number;
  /** Where PG* variables and HOME are read from; default `process.env`. */
  readonly env?: Env;
  /** The agent using the store: its syncs are marked with it, and only dead agents' running syncs are interrupted. */
  readonly agentId?: string;
}

/** How long a call is retried while PostgreSQL cannot be reached, when not told: 30 s. */
const defaultRetryForMs = 30_000;

const int8 = 20;

/**
 * Opens a PostgreSQL state store: a connection pool to the database a `postgres://` URL names
 * (completed from PG* variables and the password file, as libpq does), with the schema brought
 * up to date under an advisory lock. Calls that fail because the connection was lost or the
 * server restarted are retried for a bounded time; every write carries a key generated here, so
 * a retried write whose first attempt did commit is not done twice.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const target = await resolveTarget(url, options.env ?? process.env);
  const location = describeTarget(target);
  const retry = newRetrier(location, options.retryForMs ?? defaultRetryForMs);
  const connection = {
    host: target.host, port: target.port, database: target.database, user: target.user,
    // A function, so pg never falls back to its own (deprecated) password-file lookup.
    password: () => Promise.resolve(target.password ?? ""),
    ...(target.sslmode === undefined || target.sslmode === "disable" ? {} : { ssl: target.sslmode === "require" ? { rejectUnauthorized: false } : true }),
    connectionTimeoutMillis: 10_000,
    application_name: "gitward",
    // Ids and seqs are BIGINT: as numbers (exact up to 2^53), like SQLite's.
    types: { getTypeParser: ((oid: number, format?: "text" | "binary"): unknown => (oid === int8 ? Number : pg.types.getTypeParser(oid, format ?? "text"))) as typeof pg.types.getTypeParser },
  };
  const pool = new pg.Pool({ ...connection, max: options.poolSize ?? 4 });
  // An idle connection the server closes (a restart) is an event, not a crash: the pool drops it
  // and the next call connects again (or is retried).
  pool.on("error", () => undefined);
  try {
    await retry.run("open", async () => {
      const client = await pool.connect();
      try {
        if (options.readOnly === true) await checkPgSchema(client, location);
        else await migratePostgres(client, location);
      } finally {
        client.release();
      }
    });
  } catch (e: unknown) {
    await pool.end().catch(() => undefined);
    throw e;
  }
  const now = options.now ?? ((): Date => new Date());
  const coordination = new PgCoordination({ pool, newClient: () => new pg.Client(connection), location, now });
  return new PostgresStore({ pool, location, retry, now, coordination, ...(options.agentId === undefined ? {} : { agentId: options.agentId }) });
}

/** What a {@link PostgresStore} is made of; a fenced view shares it all. */
interface PgParts {
  readonly pool: pg.Pool;
  readonly location: string;
  readonly retry: Retrier;
  readonly now: Now;
  readonly coordination: PgCoordination;
  readonly agentId?: string;
  /** Set on a fenced view: every history write checks this lease in its transaction. */
  readonly fence?: LeaseFence;
}


/** The PostgreSQL implementation of {@link Store}, shared by any number of processes. */
export class PostgresStore implements Store {
  readonly location: string;
  readonly #parts: PgParts;
  readonly #pool: pg.Pool;
  readonly #retry: Retrier;
  readonly #now: Now;
  readonly #closedWith: { closed: boolean }; // shared with fenced views: closed together

  constructor(parts: PgParts, closedWith: { closed: boolean } = { closed: false }) {
    this.#parts = parts;
    this.#pool = parts.pool;
    this.location = parts.location;
    this.#retry = parts.retry;
    this.#now = parts.now;
    this.#closedWith = closedWith;
  }

  get #closed(): boolean { return this.#closedWith.closed; }

  /** This store with every history write made under `fence`: refused ({@link FencedError}) unless that lease is still held, checked in the write's transaction. */
  fenced(fence: LeaseFence): PostgresStore {
    return new PostgresStore({ ...this.#parts, fence }, this.#closedWith);
  }

  /** Leases, heartbeats and routed work of the agents sharing this database. */
  coordination(): CoordinationStore {
    return this.#parts.coordination;
  }

  /** False while the last call failed for a lost connection (and is being retried); for the agent's /readyz. */
  healthy(): boolean {
    return !this.#closed && this.#retry.healthy();
  }

  beginSync(sync: NewSync): Promise<SyncRow> {
    const key = randomUUID();
    return this.#call("record a sync", async () => {
      const p = prepareNewSync(sync, this.#now);
      return this.#write(async (q) => {
        const r = await q.query(`INSERT INTO syncs (request_key, environment, stack, revision_sha, revision_author, revision_author_email,
          revision_committer, revision_message, revision_committed_at, trigger_kind, trigger_by, trigger_detail, started_at, outcome, summary, objects, agent_id)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'running', $14, $15, $16)
          ON CONFLICT (request_key) DO NOTHING RETURNING *`, [key, ...syncParams(p), this.#parts.fence?.owner ?? this.#parts.agentId ?? null]);
        return syncFromRow(this.location, r.rows[0] as Row | undefined ?? (await q.query("SELECT * FROM syncs WHERE request_key = $1", [key])).rows[0] as Row | undefined ?? missing("row"));
      });
    });
  }

  finishSync(id: string, result: SyncResult): Promise<SyncRow> {
    const key = randomUUID();
    return this.#call(`finish sync ${id}`, async () => {
      const p = prepareResult(result, this.#now);
      const n = rowId(id);
      return this.#write(async (q) => {
      const r = n === undefined ? undefined : await q.query(`UPDATE syncs SET outcome = $2, error = $3, summary = $4, objects = $5, commands = $6,
        finished_at = $7, duration_ms = $8, finish_key = $9 WHERE id = $1 AND outcome = 'running' RETURNING *`, [
        n, p.outcome, p.error ?? null, JSON.stringify(p.summary), JSON.stringify(p.objects), p.commands === undefined ? null : JSON.stringify(p.commands),
        p.finishedAt, p.durationMs, key,
      ]);
      const row = r?.rows[0] as Row | undefined;
      if (row !== undefined) return syncFromRow(this.location, row);
      const existing = n === undefined ? undefined : (await q.query("SELECT * FROM syncs WHERE id = $1", [n])).rows[0] as Row | undefined;
      // A retry whose first attempt committed: the row is finished, by this very call.
      if (existing !== undefined && existing["finish_key"] === key) return syncFromRow(this.location, existing);
      throw invalidCall(existing === undefined ? `sync ${id} does not exist` : `sync ${id} is not running: it is ${String(existing["outcome"])}`);
      });
    });
  }

  recordHealth(id: string, health: SyncHealth): Promise<SyncRow> {
    return this.#call(`record the health of sync ${id}`, async () => {
      const h = prepareHealth(health);
      const n = rowId(id);
      const row = n === undefined ? undefined : await this.#write(async (q) => (await q.query("UPDATE syncs SET health = $2 WHERE id = $1 RETURNING *", [n, JSON.stringify(h)])).rows[0] as Row | undefined);
      if (row === undefined) throw invalidCall(`sync ${id} does not exist`);
      return syncFromRow(this.location, row);
    });
  }

  getSync(id: string): Promise<SyncRow | undefined> {
    return this.#call(`read sync ${id}`, async () => {
      const n = rowId(id);
      if (n === undefined) return undefined;
      const row = (await this.#pool.query("SELECT * FROM syncs WHERE id = $1", [n])).rows[0] as Row | undefined;
      return row === undefined ? undefined : syncFromRow(this.location, row);
    });
  }

  listSyncs(query: SyncQuery = {}): Promise<SyncRow[]> {
    return this.#call("list syncs", async () => {
      const where = new PgFilter();
      where.eq("environment", query.environment).eq("stack", query.stack).eq("outcome", query.outcome).eq("trigger_kind", query.trigger)
        .among("environment", query.environments).time("started_at >=", "since", query.since).time("started_at <", "until", query.until);
      if (query.beforeId !== undefined) where.add(`(started_at, id) < (SELECT started_at, id FROM syncs WHERE id = ${where.param(rowId(query.beforeId) ?? null)})`);
      const limit = where.param(listLimit(query.limit));
      const r = await this.#pool.query(`SELECT * FROM syncs ${where.sql()} ORDER BY started_at DESC, id DESC LIMIT ${limit}`, where.params);
      return r.rows.map((row) => syncFromRow(this.location, row as Row));
    });
  }

  lastSync(environment: string, stack: string): Promise<SyncRow | undefined> {
    return this.#call("read the last sync", () => this.#latest(environment, stack, ""));
  }

  lastSucceeded(environment: string, stack: string): Promise<SyncRow | undefined> {
    return this.#call("read the last good sync", () => this.#latest(environment, stack, "AND outcome = 'succeeded'"));
  }

  interruptRunning(reason: string): Promise<SyncRow[]> {
    const key = randomUUID();
    return this.#call("mark running syncs interrupted", async () => {
      // Only syncs of agents no longer alive (and this agent's own, from before a restart under the same id).
      await this.#pool.query(`UPDATE syncs SET outcome = 'interrupted', error = $1, finished_at = $2, finish_key = $3 WHERE outcome = 'running'
        AND (agent_id IS NULL OR agent_id = $4 OR NOT EXISTS (SELECT 1 FROM agents a WHERE a.id = syncs.agent_id AND a.heartbeat_at > now() - make_interval(secs => a.lease_seconds)))`,
        [redact(reason), this.#now().toISOString(), key, this.#parts.agentId ?? null]);
      // Read by key: a retry whose first attempt committed still answers the rows it marked.
      const r = await this.#pool.query("SELECT * FROM syncs WHERE finish_key = $1 AND outcome = 'interrupted' ORDER BY started_at, id", [key]);
      return r.rows.map((row) => syncFromRow(this.location, row as Row));
    });
  }

  recordDrift(events: readonly NewDrift[]): Promise<DriftRow[]> {
    const keys = events.map(() => randomUUID());
    return this.#call("record drift", async () => {
      const prepared = events.map((e) => prepareDrift(e, this.#now));
      const params = prepared.map((p, i) => driftParams(keys[i] ?? "", p));
      try {
        return await this.#tx(async (c) => {
          for (const values of params) {
            await c.query(`INSERT INTO drift_events (request_key, environment, stack, detected_at, ref_group, ref_kind, ref_namespace, ref_name,
              api_version, fields, corrected, sync_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (request_key) DO NOTHING`, values);
          }
          const rows = (await c.query("SELECT * FROM drift_events WHERE request_key = ANY($1::text[])", [keys])).rows as Row[];
          const byKey = new Map(rows.map((r) => [r["request_key"], r]));
          return keys.map((k) => driftFromRow(this.location, byKey.get(k) ?? missing("drift event")));
        });
      } catch (e: unknown) {
        if (sqlState(e) !== SqlState.ForeignKeyViolation) throw e;
        throw invalidCall(`a drift event names a sync that does not exist (${prepared.map((p) => p.syncId).filter((s) => s !== undefined).join(", ")})`);
      }
    });
  }

  listDrift(query: DriftQuery = {}): Promise<DriftRow[]> {
    return this.#call("list drift", async () => {
      const where = new PgFilter();
      where.eq("environment", query.environment).eq("stack", query.stack).among("environment", query.environments);
      if (query.beforeId !== undefined) {
        where.add(`(detected_at, id) < (SELECT detected_at, id FROM drift_events WHERE id = ${where.param(rowId(query.beforeId) ?? null)})`);
      }
      const limit = where.param(listLimit(query.limit));
      const r = await this.#pool.query(`SELECT * FROM drift_events ${where.sql()} ORDER BY detected_at DESC, id DESC LIMIT ${limit}`, where.params);
      return r.rows.map((row) => driftFromRow(this.location, row as Row));
    });
  }

  appendAudit(event: NewAuditEvent): Promise<AuditEvent> {
    const key = event.requestKey ?? randomUUID();
    return this.#call("append to the audit log", async () => {
      const p = prepareAudit(event, this.#now);
      return this.#tx(async (c) => {
        // One appender at a time, across processes: the head read here cannot be chained onto twice.
        await c.query("SELECT pg_advisory_xact_lock($1)", [lockKeys.audit]);
        const mine = (await c.query("SELECT * FROM audit_events WHERE append_key = $1", [key])).rows[0] as Row | undefined;
        if (mine !== undefined) return auditFromRow(this.location, mine);
        const head = (await c.query<{ seq: number; hash: string }>("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")).rows[0];
        const seq = head === undefined ? 1 : head.seq + 1;
        const prevHash = head?.hash ?? genesisHash;
        const unhashed = compact<Omit<AuditEvent, "hash">>({ ...p, seq, prevHash });
        const stored: AuditEvent = { ...unhashed, hash: auditHash(unhashed) };
        await c.query(`INSERT INTO audit_events (seq, append_key, at, kind, actor, environment, stack, revision, details, prev_hash, hash)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
          seq, key, stored.at, stored.kind, stored.actor, stored.environment ?? null, stored.stack ?? null, stored.revision ?? null,
          canonicalJson(stored.details), prevHash, stored.hash,
        ]);
        return stored;
      });
    });
  }

  listAudit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    return this.#call("list the audit log", async () => {
      const r = await this.#pool.query(`SELECT * FROM audit_events WHERE seq > $1 AND ($3::text IS NULL OR kind = $3)
        AND ($4::text IS NULL OR environment = $4) AND ($5::text IS NULL OR revision = $5) ORDER BY seq LIMIT $2`,
      [query.afterSeq ?? 0, listLimit(query.limit), query.kind ?? null, query.environment ?? null, query.revision ?? null]);
      return r.rows.map((row) => auditFromRow(this.location, row as Row));
    });
  }

  verifyAudit(): Promise<AuditVerification> {
    return this.#call("verify the audit log", async () => {
      const chain = new ChainVerifier();
      let last = 0;
      // In pages by seq: the log is append-only, so pages read at different times still form one chain.
      for (;;) {
        const rows = (await this.#pool.query("SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 2000", [last])).rows as Row[];
        if (rows.length === 0) break;
        for (const row of rows) {
          const seq = typeof row["seq"] === "number" ? row["seq"] : -1;
          const broken = chain.next(seq, () => auditFromRow(this.location, row));
          if (broken !== undefined) return broken;
          last = seq;
        }
      }
      return chain.result();
    });
  }

  createToken(token: NewToken): Promise<TokenInfo> {
    const id = newTokenId();
    return this.#call("create a token", async () => {
      const times = validateNewToken(token, this.#now);
      return pgInsertToken(this.#pool, this.location, id, token, times);
    });
  }

  listTokens(): Promise<TokenInfo[]> {
    return this.#call("list tokens", () => pgSelectTokens(this.#pool, this.location));
  }

  revokeToken(idOrName: string): Promise<TokenInfo> {
    return this.#call("revoke a token", () => this.#tx((c) => pgRevokeToken(c, this.location, idOrName, this.#now)));
  }

  findToken(hash: string): Promise<TokenInfo | undefined> {
    return this.#call("look up a token", () => pgSelectTokenByHash(this.#pool, this.location, hash, this.#now));
  }

  touchToken(id: string, at: string): Promise<void> {
    return this.#call("record a token's use", () => pgTouchToken(this.#pool, id, at));
  }

  /** Copies a whole state into this store, which must be empty, in one transaction (`gitward state migrate`). */
  importState(dump: StateDump): Promise<void> {
    // Not retried: a copy whose outcome is unknown is found by the emptiness check when run again.
    if (this.#closed) return Promise.reject(invalidCall(`${this.location} is closed`));
    return this.#retry.run("copy the state", () => this.#tx((c) => importDump(c, this.location, dump)), () => true);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closedWith.closed = true;
    await this.#pool.end();
  }

  async #latest(environment: string, stack: string, condition: string): Promise<SyncRow | undefined> {
    const r = await this.#pool.query(`SELECT * FROM syncs WHERE environment = $1 AND stack = $2 ${condition} ORDER BY started_at DESC, id DESC LIMIT 1`, [environment, stack]);
    const row = r.rows[0] as Row | undefined;
    return row === undefined ? undefined : syncFromRow(this.location, row);
  }

  /** Runs `fn` in a transaction on one pooled connection; a connection that failed is discarded, not returned to the pool. */
  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    // Checked out, it has no pool listener: a connection dropped between statements fails the call, not the process.
    const dropped = (): void => undefined;
    c.on("error", dropped);
    try {
      await c.query("BEGIN");
      if (this.#parts.fence !== undefined) await checkFence(c, this.#parts.fence);
      const result = await fn(c);
      await c.query("COMMIT");
      c.off("error", dropped).release();
      return result;
    } catch (e: unknown) {
      await c.query("ROLLBACK").catch(() => undefined);
      c.off("error", dropped).release(e instanceof Error && sqlState(e) === undefined ? e : undefined);
      throw e;
    }
  }

  /** A write: on a fenced view in a transaction that checks the lease first, else on the pool. */
  #write<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.#parts.fence === undefined ? fn(this.#pool) : this.#tx(fn);
  }

  /** Runs one store operation: refuses after close, retries a lost connection, reports failures naming the database. */
  #call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(invalidCall(`${this.location} is closed`));
    return this.#retry.run(operation, fn, () => this.#closed);
  }
}

const missing = (what: string): never => { throw new Error(`the ${what} just written cannot be read back`); };
