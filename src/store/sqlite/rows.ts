import type { SQLOutputValue } from "node:sqlite";
import type { ObjRef } from "../../core/objref.ts";
import type { ChangeSetEntry, CommandOutput, Drift } from "../../providers/provider.ts";
import { compact, isHealthState, isSyncOutcome, isTriggerKind } from "../prepare.ts";
import { stateError } from "../store-error.ts";
import type { ActionSummary, AuditEvent, DriftRow, RevisionInfo, SyncHealth, SyncRow, SyncTrigger } from "../store.ts";

/**
 * Reading rows back: every column is checked for the type the schema promises, so a file
 * edited by hand or by another program fails with the table, row and column named instead of
 * handing the agent a malformed value.
 */

/** A row as node:sqlite returns it. */
export type Row = Record<string, SQLOutputValue>;

/** Reads typed columns of one row, naming the row in errors. */
class Columns {
  readonly #row: Row;
  readonly #where: string;
  readonly #location: string;

  constructor(location: string, table: string, row: Row, key: string) {
    this.#row = row;
    this.#location = location;
    this.#where = `${table} ${key} ${String(row[key])}`;
  }

  str(col: string): string {
    const v = this.#row[col];
    if (typeof v !== "string") throw this.#bad(col, "text");
    return v;
  }

  optStr(col: string): string | undefined {
    const v = this.#row[col];
    if (v === null || v === undefined) return undefined;
    if (typeof v !== "string") throw this.#bad(col, "text or null");
    return v;
  }

  num(col: string): number {
    const v = this.#row[col];
    if (typeof v !== "number") throw this.#bad(col, "a number");
    return v;
  }

  optNum(col: string): number | undefined {
    const v = this.#row[col];
    if (v === null || v === undefined) return undefined;
    if (typeof v !== "number") throw this.#bad(col, "a number or null");
    return v;
  }

  /** Parses a JSON column and checks its shape with `valid`. */
  json<T>(col: string, what: string, valid: (v: unknown) => v is T): T {
    let v: unknown;
    try {
      v = JSON.parse(this.str(col));
    } catch (e: unknown) {
      if (e instanceof SyntaxError) throw this.#bad(col, "valid JSON");
      throw e;
    }
    if (!valid(v)) throw this.#bad(col, what);
    return v;
  }

  #bad(col: string, expected: string): Error {
    return stateError(this.#location, `${this.#where}: column ${col} is not ${expected}`, { hint: "the file was changed outside gitward" });
  }
}

/** Decodes a `syncs` row. */
export function syncFromRow(location: string, row: Row): SyncRow {
  const c = new Columns(location, "sync", row, "id");
  const outcome = c.str("outcome");
  const triggerKind = c.str("trigger_kind");
  if (!isSyncOutcome(outcome) || !isTriggerKind(triggerKind)) {
    throw stateError(location, `sync ${String(row["id"])}: unknown outcome ${outcome} or trigger ${triggerKind}`);
  }
  const revision = compact<RevisionInfo>({
    sha: c.str("revision_sha"),
    author: c.str("revision_author"),
    authorEmail: c.optStr("revision_author_email"),
    committer: c.optStr("revision_committer"),
    message: c.str("revision_message"),
    committedAt: c.optStr("revision_committed_at"),
  });
  const trigger = compact<SyncTrigger>({ kind: triggerKind, by: c.optStr("trigger_by"), detail: c.optStr("trigger_detail") });
  return compact<SyncRow>({
    id: String(c.num("id")),
    environment: c.str("environment"),
    stack: c.str("stack"),
    revision,
    trigger,
    startedAt: c.str("started_at"),
    finishedAt: c.optStr("finished_at"),
    durationMs: c.optNum("duration_ms"),
    outcome,
    error: c.optStr("error"),
    summary: c.json("summary", "an object of counts", isSummary),
    objects: c.json("objects", "a list of object results", isEntries),
    commands: row["commands"] === null ? undefined : c.json("commands", "a list of command outputs", isCommands),
    health: row["health"] === null || row["health"] === undefined ? undefined : c.json("health", "a health record", isHealth),
  });
}

/** Decodes a `drift_events` row. */
export function driftFromRow(location: string, row: Row): DriftRow {
  const c = new Columns(location, "drift event", row, "id");
  const syncId = c.optNum("sync_id");
  return compact<DriftRow>({
    id: String(c.num("id")),
    environment: c.str("environment"),
    stack: c.str("stack"),
    detectedAt: c.str("detected_at"),
    ref: compact<ObjRef>({ group: c.str("ref_group"), kind: c.str("ref_kind"), namespace: c.optStr("ref_namespace"), name: c.str("ref_name") }),
    apiVersion: c.str("api_version"),
    fields: c.json("fields", "a list of drifted fields", isDriftFields),
    corrected: c.num("corrected") === 1,
    syncId: syncId === undefined ? undefined : String(syncId),
  });
}

/** Decodes an `audit_events` row. */
export function auditFromRow(location: string, row: Row): AuditEvent {
  const c = new Columns(location, "audit event", row, "seq");
  return compact<AuditEvent>({
    seq: c.num("seq"),
    at: c.str("at"),
    kind: c.str("kind"),
    actor: c.str("actor"),
    environment: c.optStr("environment"),
    stack: c.optStr("stack"),
    revision: c.optStr("revision"),
    details: c.json("details", "a JSON object", isObject),
    prevHash: c.str("prev_hash"),
    hash: c.str("hash"),
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isSummary(v: unknown): v is ActionSummary {
  return isObject(v) && Object.values(v).every((n) => typeof n === "number");
}

function isRef(v: unknown): v is ObjRef {
  return isObject(v) && typeof v["group"] === "string" && typeof v["kind"] === "string" && typeof v["name"] === "string" &&
    (v["namespace"] === undefined || typeof v["namespace"] === "string");
}

function isEntries(v: unknown): v is ChangeSetEntry[] {
  return Array.isArray(v) && v.every((e) => isObject(e) && isRef(e["ref"]) && typeof e["apiVersion"] === "string" && typeof e["action"] === "string");
}

function isHealth(v: unknown): v is SyncHealth {
  if (typeof v !== "object" || v === null) return false;
  const h = v as Record<string, unknown>;
  return isHealthState(h["state"]) && typeof h["at"] === "string" && (h["message"] === undefined || typeof h["message"] === "string");
}

function isCommands(v: unknown): v is CommandOutput[] {
  return Array.isArray(v) && v.every((e) =>
    isObject(e) && typeof e["phase"] === "string" && Array.isArray(e["command"]) && typeof e["exitCode"] === "number" && typeof e["output"] === "string");
}

function isDriftFields(v: unknown): v is Drift[] {
  return Array.isArray(v) && v.every((e) => isObject(e) && typeof e["field"] === "string");
}
