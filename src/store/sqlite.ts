import { resolve } from "node:path";
import type { SQLInputValue, StatementSync } from "node:sqlite";
import { DatabaseSync } from "node:sqlite";
import { auditHash, canonicalJson, ChainVerifier, genesisHash } from "./audit-hash.ts";
import type { Now, PreparedDrift, PreparedSync } from "./prepare.ts";
import { compact, listLimit, prepareAudit, prepareDrift, prepareHealth, prepareNewSync, prepareResult, rowId } from "./prepare.ts";
import { redact } from "./redact.ts";
import { checkSchema, migrate } from "./sqlite/migrations.ts";
import { auditFromRow, driftFromRow, syncFromRow } from "./sqlite/rows.ts";
import type { Row } from "./sqlite/rows.ts";
import { sqliteCode, sqliteFailure, sqliteForeignKeyViolation } from "./sqlite/sqlite-errors.ts";
import { preparePrivateFile, requireExistingFile } from "./sqlite/state-file.ts";
import { insertToken, revokeTokenRow, selectTokenByHash, selectTokens, touchTokenRow } from "./sqlite/tokens.ts";
import { immediate } from "./sqlite/transaction.ts";
import { invalidCall } from "./store-error.ts";
import type {
  AuditEvent, AuditQuery, AuditVerification, DriftQuery, DriftRow, NewAuditEvent, NewDrift, NewSync, Store, SyncHealth, SyncQuery, SyncResult, SyncRow,
} from "./store.ts";
import type { NewToken, TokenInfo } from "./tokens.ts";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** How long a write waits for another process's lock before failing; default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /** The clock for default timestamps; default the system clock. */
  readonly now?: Now;
  /**
   * Open an existing database to read it (`gitward status`, `history`, `audit verify`): a
   * missing file is an error, nothing is created, migrated or written. Default false.
   */
  readonly readOnly?: boolean;
}

/** The busy timeout when none is given, in milliseconds. */
export const defaultBusyTimeoutMs = 5000;

/**
 * Opens (creating it and its directory if needed) an SQLite state database and brings its schema
 * up to date: WAL journal so readers never block the writer, a busy timeout so processes sharing
 * the file wait for each other, foreign keys on. The file and its directory are created private
 * (0600, 0700). `":memory:"` opens a private in-memory database. With `readOnly`, the file must
 * exist and be at this code's schema; nothing is written.
 *
 * node:sqlite is synchronous: a call blocks the event loop while SQLite works or waits for a
 * lock (at most the busy timeout). Statements are small and indexed, so this is brief.
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<Store> {
  const memory = path === ":memory:";
  const location = memory ? "sqlite::memory:" : `sqlite:${resolve(path)}`;
  const busyTimeoutMs = options.busyTimeoutMs ?? defaultBusyTimeoutMs;
  const readOnly = options.readOnly === true && !memory;
  if (path === "") throw invalidCall("the SQLite path is empty");
  if (readOnly) await requireExistingFile(resolve(path), location);
  else if (!memory) await preparePrivateFile(resolve(path), location);
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { timeout: busyTimeoutMs, enableForeignKeyConstraints: true, readOnly });
    if (readOnly) {
      checkSchema(db, location);
    } else {
      db.exec("PRAGMA journal_mode = WAL");
      // In WAL mode NORMAL is consistent after a crash and skips an fsync per transaction; a power
      // loss may lose the last transactions, which the agent redoes (a sync is recorded again).
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec("PRAGMA foreign_keys = ON");
      // A REPLACE deletes the row it conflicts with; with this, DELETE triggers see it.
      db.exec("PRAGMA recursive_triggers = ON");
      migrate(db, location);
    }
    return new SqliteStore(db, location, busyTimeoutMs, options.now ?? (() => new Date()));
  } catch (e: unknown) {
    if (db?.isOpen === true) db.close();
    throw sqliteFailure(location, "open", busyTimeoutMs, e);
  }
}

const syncColumns = `
  environment, stack, revision_sha, revision_author, revision_author_email, revision_committer, revision_message,
  revision_committed_at, trigger_kind, trigger_by, trigger_detail, started_at, outcome, summary, objects`;

/** The SQLite implementation of {@link Store}: one file, shared safely by processes on one machine. */
class SqliteStore implements Store {
  readonly location: string;
  readonly #db: DatabaseSync;
  readonly #busyTimeoutMs: number;
  readonly #now: Now;

  constructor(db: DatabaseSync, location: string, busyTimeoutMs: number, now: Now) {
    this.#db = db;
    this.location = location;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#now = now;
  }

  beginSync(sync: NewSync): Promise<SyncRow> {
    return this.#call("record a sync", () => {
      const p = prepareNewSync(sync, this.#now);
      const row = this.#prepare(`INSERT INTO syncs (${syncColumns}) VALUES (
        :environment, :stack, :sha, :author, :authorEmail, :committer, :message, :committedAt,
        :triggerKind, :triggerBy, :triggerDetail, :startedAt, 'running', :summary, :objects) RETURNING *`).get(syncParams(p));
      return syncFromRow(this.location, must(row));
    });
  }

  finishSync(id: string, result: SyncResult): Promise<SyncRow> {
    return this.#call(`finish sync ${id}`, () => {
      const p = prepareResult(result, this.#now);
      const key = rowId(id);
      const row = key === undefined ? undefined : this.#prepare(`UPDATE syncs SET
        outcome = :outcome, error = :error, summary = :summary, objects = :objects, commands = :commands,
        finished_at = :finishedAt, duration_ms = :durationMs
        WHERE id = :id AND outcome = 'running' RETURNING *`).get({
        id: key, outcome: p.outcome, error: p.error ?? null, summary: JSON.stringify(p.summary), objects: JSON.stringify(p.objects),
        commands: p.commands === undefined ? null : JSON.stringify(p.commands), finishedAt: p.finishedAt, durationMs: p.durationMs,
      });
      if (row !== undefined) return syncFromRow(this.location, row);
      const existing = this.#getSync(id);
      throw invalidCall(existing === undefined ? `sync ${id} does not exist` : `sync ${id} is not running: it is ${existing.outcome}`);
    });
  }

  recordHealth(id: string, health: SyncHealth): Promise<SyncRow> {
    return this.#call(`record the health of sync ${id}`, () => {
      const h = prepareHealth(health);
      const key = rowId(id);
      const row = key === undefined ? undefined : this.#prepare("UPDATE syncs SET health = :health WHERE id = :id RETURNING *").get({ id: key, health: JSON.stringify(h) });
      if (row === undefined) throw invalidCall(`sync ${id} does not exist`);
      return syncFromRow(this.location, row);
    });
  }

  getSync(id: string): Promise<SyncRow | undefined> {
    return this.#call(`read sync ${id}`, () => this.#getSync(id));
  }

  listSyncs(query: SyncQuery = {}): Promise<SyncRow[]> {
    return this.#call("list syncs", () => {
      const where = new Filter();
      where.eq("environment", query.environment).eq("stack", query.stack).eq("outcome", query.outcome).eq("trigger_kind", query.trigger)
        .among("environment", query.environments).time("started_at >=", "since", query.since).time("started_at <", "until", query.until);
      if (query.beforeId !== undefined) where.add("(started_at, id) < (SELECT started_at, id FROM syncs WHERE id = :before)", { before: rowId(query.beforeId) ?? null });
      const sql = `SELECT * FROM syncs ${where.sql()} ORDER BY started_at DESC, id DESC LIMIT :limit`;
      return this.#prepare(sql).all({ ...where.params, limit: listLimit(query.limit) }).map((r) => syncFromRow(this.location, r));
    });
  }

  lastSync(environment: string, stack: string): Promise<SyncRow | undefined> {
    return this.#call("read the last sync", () => this.#latest(environment, stack, ""));
  }

  lastSucceeded(environment: string, stack: string): Promise<SyncRow | undefined> {
    return this.#call("read the last good sync", () => this.#latest(environment, stack, "AND outcome = 'succeeded'"));
  }

  interruptRunning(reason: string): Promise<SyncRow[]> {
    return this.#call("mark running syncs interrupted", () => {
      // durationMs stays unknown: the process died at some time between start and now.
      const rows = this.#prepare(`UPDATE syncs SET outcome = 'interrupted', error = :reason, finished_at = :now
        WHERE outcome = 'running' RETURNING *`).all({ reason: redact(reason), now: this.#now().toISOString() });
      return rows.map((r) => syncFromRow(this.location, r)).sort(bySyncOrder);
    });
  }

  recordDrift(events: readonly NewDrift[]): Promise<DriftRow[]> {
    return this.#call("record drift", () => {
      const prepared = events.map((e) => prepareDrift(e, this.#now));
      const insert = this.#prepare(`INSERT INTO drift_events
        (environment, stack, detected_at, ref_group, ref_kind, ref_namespace, ref_name, api_version, fields, corrected, sync_id)
        VALUES (:environment, :stack, :detectedAt, :group, :kind, :namespace, :name, :apiVersion, :fields, :corrected, :syncId) RETURNING *`);
      try {
        return immediate(this.#db, () => prepared.map((p) => driftFromRow(this.location, must(insert.get(driftParams(p))))));
      } catch (e: unknown) {
        if (sqliteCode(e) !== sqliteForeignKeyViolation) throw e;
        throw invalidCall(`a drift event names a sync that does not exist (${prepared.map((p) => p.syncId).filter((s) => s !== undefined).join(", ")})`);
      }
    });
  }

  listDrift(query: DriftQuery = {}): Promise<DriftRow[]> {
    return this.#call("list drift", () => {
      const where = new Filter();
      where.eq("environment", query.environment).eq("stack", query.stack).among("environment", query.environments);
      if (query.beforeId !== undefined) {
        where.add("(detected_at, id) < (SELECT detected_at, id FROM drift_events WHERE id = :before)", { before: rowId(query.beforeId) ?? null });
      }
      const sql = `SELECT * FROM drift_events ${where.sql()} ORDER BY detected_at DESC, id DESC LIMIT :limit`;
      return this.#prepare(sql).all({ ...where.params, limit: listLimit(query.limit) }).map((r) => driftFromRow(this.location, r));
    });
  }

  appendAudit(event: NewAuditEvent): Promise<AuditEvent> {
    return this.#call("append to the audit log", () => {
      const p = prepareAudit(event, this.#now);
      const last = this.#prepare("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1");
      const insert = this.#prepare(`INSERT INTO audit_events (seq, at, kind, actor, environment, stack, revision, details, prev_hash, hash)
        VALUES (:seq, :at, :kind, :actor, :environment, :stack, :revision, :details, :prevHash, :hash)`);
      // The previous hash is read under the write lock: two processes cannot both chain onto it.
      return immediate(this.#db, () => {
        const head = last.get();
        const seq = typeof head?.["seq"] === "number" ? head["seq"] + 1 : 1;
        const prevHash = typeof head?.["hash"] === "string" ? head["hash"] : genesisHash;
        const unhashed = compact<Omit<AuditEvent, "hash">>({ ...p, seq, prevHash });
        const stored: AuditEvent = { ...unhashed, hash: auditHash(unhashed) };
        insert.run({
          seq, at: stored.at, kind: stored.kind, actor: stored.actor, environment: stored.environment ?? null, stack: stored.stack ?? null,
          revision: stored.revision ?? null, details: canonicalJson(stored.details), prevHash, hash: stored.hash,
        });
        return stored;
      });
    });
  }

  listAudit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    return this.#call("list the audit log", () =>
      this.#prepare(`SELECT * FROM audit_events WHERE seq > :after AND (:kind IS NULL OR kind = :kind)
        AND (:environment IS NULL OR environment = :environment) AND (:revision IS NULL OR revision = :revision) ORDER BY seq LIMIT :limit`)
        .all({
          after: query.afterSeq ?? 0, limit: listLimit(query.limit),
          kind: query.kind ?? null, environment: query.environment ?? null, revision: query.revision ?? null,
        })
        .map((r) => auditFromRow(this.location, r)));
  }

  verifyAudit(): Promise<AuditVerification> {
    return this.#call("verify the audit log", () => {
      const rows = this.#prepare("SELECT * FROM audit_events ORDER BY seq");
      // One read transaction: a consistent snapshot while other processes keep appending.
      this.#db.exec("BEGIN");
      try {
        const chain = new ChainVerifier();
        for (const row of rows.iterate()) {
          const seq = typeof row["seq"] === "number" ? row["seq"] : -1;
          const broken = chain.next(seq, () => auditFromRow(this.location, row));
          if (broken !== undefined) return broken;
        }
        return chain.result();
      } finally {
        this.#db.exec("COMMIT");
      }
    });
  }

  createToken(token: NewToken): Promise<TokenInfo> {
    return this.#call("create a token", () => insertToken(this.#db, this.location, token, this.#now));
  }

  listTokens(): Promise<TokenInfo[]> {
    return this.#call("list tokens", () => selectTokens(this.#db, this.location));
  }

  revokeToken(idOrName: string): Promise<TokenInfo> {
    return this.#call("revoke a token", () => revokeTokenRow(this.#db, this.location, idOrName, this.#now));
  }

  findToken(hash: string): Promise<TokenInfo | undefined> {
    return this.#call("look up a token", () => selectTokenByHash(this.#db, this.location, hash, this.#now));
  }

  touchToken(id: string, at: string): Promise<void> {
    return this.#call("record a token's use", () => touchTokenRow(this.#db, id, at));
  }

  /** A local file is always reachable while open. */
  healthy(): boolean {
    return this.#db.isOpen;
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }

  #getSync(id: string): SyncRow | undefined {
    const key = rowId(id);
    if (key === undefined) return undefined;
    const row = this.#prepare("SELECT * FROM syncs WHERE id = ?").get(key);
    return row === undefined ? undefined : syncFromRow(this.location, row);
  }

  #latest(environment: string, stack: string, condition: string): SyncRow | undefined {
    const row = this.#prepare(`SELECT * FROM syncs WHERE environment = ? AND stack = ? ${condition} ORDER BY started_at DESC, id DESC LIMIT 1`)
      .get(environment, stack);
    return row === undefined ? undefined : syncFromRow(this.location, row);
  }

  #prepare(sql: string): StatementSync {
    return this.#db.prepare(sql);
  }

  /** Runs one store operation: refuses after close, reports failures as GitwardErrors naming the database. */
  #call<T>(operation: string, fn: () => T): Promise<T> {
    if (!this.#db.isOpen) return Promise.reject(invalidCall(`${this.location} is closed`));
    try {
      return Promise.resolve(fn());
    } catch (e: unknown) {
      return Promise.reject(sqliteFailure(this.location, operation, this.#busyTimeoutMs, e));
    }
  }
}

/** A WHERE clause built from the filters given, with named parameters. */
class Filter {
  readonly #terms: string[] = [];
  readonly params: Record<string, SQLInputValue> = {};

  /** Adds `column = :column` when the value is given. */
  eq(column: string, value: string | undefined): this {
    if (value !== undefined) this.add(`${column} = :${column}`, { [column]: value });
    return this;
  }

  /** Adds `column IN (…)` when the list is given; an empty list matches no row. */
  among(column: string, values: readonly string[] | undefined): this {
    if (values === undefined) return this;
    if (values.length === 0) return this.add("0", {});
    const names = values.map((_, i) => `${column}_${i}`);
    return this.add(`${column} IN (${names.map((n) => `:${n}`).join(", ")})`, Object.fromEntries(values.map((v, i): [string, SQLInputValue] => [`${column}_${i}`, v])));
  }

  /** Compares a timestamp column with an ISO 8601 time, normalised to the store's UTC form so text order is time order. */
  time(comparison: string, name: string, value: string | undefined): this {
    if (value === undefined) return this;
    const t = new Date(value);
    if (Number.isNaN(t.getTime())) throw invalidCall(`${name} ${JSON.stringify(value.slice(0, 40))} is not an ISO 8601 time`);
    return this.add(`${comparison} :${name}`, { [name]: t.toISOString() });
  }

  add(term: string, params: Record<string, SQLInputValue>): this {
    this.#terms.push(term);
    Object.assign(this.params, params);
    return this;
  }

  sql(): string {
    return this.#terms.length === 0 ? "" : `WHERE ${this.#terms.join(" AND ")}`;
  }
}


function must(row: Row | undefined): Row {
  if (row === undefined) throw new Error("INSERT … RETURNING returned no row");
  return row;
}

function bySyncOrder(a: SyncRow, b: SyncRow): number {
  return a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : Number(a.id) - Number(b.id);
}

function syncParams(p: PreparedSync): Record<string, SQLInputValue> {
  return {
    environment: p.environment, stack: p.stack, sha: p.revision.sha, author: p.revision.author, authorEmail: p.revision.authorEmail ?? null,
    committer: p.revision.committer ?? null, message: p.revision.message, committedAt: p.revision.committedAt ?? null,
    triggerKind: p.trigger.kind, triggerBy: p.trigger.by ?? null, triggerDetail: p.trigger.detail ?? null, startedAt: p.startedAt,
    summary: JSON.stringify(p.summary), objects: JSON.stringify(p.objects),
  };
}

function driftParams(p: PreparedDrift): Record<string, SQLInputValue> {
  const syncId = p.syncId === undefined ? null : rowId(p.syncId);
  if (syncId === undefined) throw invalidCall(`drift event names sync ${p.syncId ?? ""}, which does not exist`);
  return {
    environment: p.environment, stack: p.stack, detectedAt: p.detectedAt, group: p.ref.group, kind: p.ref.kind,
    namespace: p.ref.namespace ?? null, name: p.ref.name, apiVersion: p.apiVersion, fields: JSON.stringify(p.fields),
    corrected: p.corrected ? 1 : 0, syncId,
  };
}
