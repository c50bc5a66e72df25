import { resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { parseStateUrl } from "./open.ts";
import { openPostgresStore } from "./postgres.ts";
import type { StateDump } from "./postgres/import.ts";
import { dumpColumns } from "./postgres/import.ts";
import { openSqliteStore } from "./sqlite.ts";
import { stateError } from "./store-error.ts";

/** What {@link copySqliteToPostgres} copied, and the audit chain's head on both sides. */
export interface StateCopyReport {
  readonly from: string;
  readonly to: string;
  readonly syncs: number;
  readonly drift: number;
  readonly audit: number;
  readonly tokens: number;
  /** The audit chain's head hash, the same in the source and the copy. */
  readonly auditHead: string;
}

/**
 * Copies an SQLite state (`sqlite:PATH`) into an empty PostgreSQL database (`postgres://…`):
 * history, drift, the audit chain and API tokens, keeping ids, sequence numbers and hashes. The
 * source must verify first; the copy is one transaction, refused when the target holds any row,
 * and its chain is verified after, with the same head as the source's.
 */
export async function copySqliteToPostgres(fromUrl: string, toUrl: string): Promise<StateCopyReport> {
  const from = parseStateUrl(fromUrl);
  const to = parseStateUrl(toUrl);
  if (from.kind !== "sqlite" || from.path === ":memory:") throw new GitwardError(ErrorCode.Config, "--from must name an SQLite state file: sqlite:PATH");
  if (to.kind !== "postgres") throw new GitwardError(ErrorCode.Config, "--to must be a PostgreSQL state URL: postgres://USER@HOST:PORT/DATABASE");
  const source = await openSqliteStore(from.path, { readOnly: true });
  const sourceCheck = await source.verifyAudit().finally(() => source.close());
  if (!sourceCheck.ok) {
    throw stateError(source.location, `its audit chain is broken at seq ${sourceCheck.seq} (${sourceCheck.reason}): it is not copied`, { hint: "gitward audit verify shows the break" });
  }
  const dump = readDump(resolve(from.path));
  const target = await openPostgresStore(to.url);
  try {
    await target.importState(dump);
    const check = await target.verifyAudit();
    if (!check.ok || check.head !== sourceCheck.head || check.count !== sourceCheck.count) {
      throw stateError(target.location, `the copied audit chain does not verify as the source's (${check.ok ? `head ${check.head.slice(0, 12)}` : check.reason})`);
    }
    return {
      from: source.location, to: target.location, syncs: dump.syncs.length, drift: dump.drift_events.length,
      audit: dump.audit_events.length, tokens: dump.tokens.length, auditHead: check.head,
    };
  } finally {
    await target.close();
  }
}

/** Every row of the state's tables, in key order, read in one transaction. */
function readDump(path: string): StateDump {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec("BEGIN");
    const rows = (table: keyof StateDump, key: string): Record<string, unknown>[] =>
      db.prepare(`SELECT ${dumpColumns[table].join(", ")} FROM ${table} ORDER BY ${key}`).all();
    const dump = { syncs: rows("syncs", "id"), drift_events: rows("drift_events", "id"), audit_events: rows("audit_events", "seq"), tokens: rows("tokens", "created_at, id") };
    db.exec("COMMIT");
    return dump;
  } finally {
    db.close();
  }
}
