/**
 * What the several-agents benchmark reads from the agents' state, straight from the database
 * (PostgreSQL through `pg`, SQLite read-only through `node:sqlite`), so that polling costs the
 * agents nothing: stacks synced at a revision, every sync row for the checks (one sync per stack
 * and revision, no two syncs of a stack overlapping), and on PostgreSQL the leases.
 */
import { DatabaseSync } from "node:sqlite";
import pg from "pg";

/** One row of the `syncs` table, as the checks need it. */
export interface SyncRecord {
  readonly id: number;
  readonly stack: string;
  readonly sha: string;
  readonly outcome: string;
  readonly trigger: string;
  readonly startedAt: string;
  readonly finishedAt: string | undefined;
  /** The agent that ran it (PostgreSQL only). */
  readonly agent: string | undefined;
}

/** A stack's lease (PostgreSQL only). */
export interface LeaseRow {
  readonly stack: string;
  readonly owner: string;
  /** Not expired, by the database's clock. */
  readonly valid: boolean;
}

/** Read access to one agent state. */
export interface StateProbe {
  /** The stacks with a succeeded sync at `sha`. */
  syncedAt(environment: string, sha: string): Promise<Set<string>>;
  /** Every sync row of the environment. */
  syncs(environment: string): Promise<SyncRecord[]>;
  /** Every lease; empty on SQLite. */
  leases(): Promise<LeaseRow[]>;
  close(): Promise<void>;
}

/** Opens a probe on a `postgres://…` URL or a `sqlite:PATH` state. */
export async function openProbe(state: string): Promise<StateProbe> {
  if (state.startsWith("sqlite:")) return sqliteProbe(state.slice("sqlite:".length));
  const client = new pg.Client({ connectionString: state });
  await client.connect();
  // Until the first agent has migrated the database, there are no tables and nothing synced.
  const query = async <R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> => {
    try {
      return (await client.query<R>(text, params)).rows;
    } catch (e: unknown) {
      if ((e as { code?: unknown }).code === "42P01") return [];
      throw e;
    }
  };
  return {
    async syncedAt(environment, sha) {
      const rows = await query<{ stack: string }>("SELECT DISTINCT stack FROM syncs WHERE environment = $1 AND revision_sha = $2 AND outcome = 'succeeded'", [environment, sha]);
      return new Set(rows.map((x) => x.stack));
    },
    async syncs(environment) {
      const rows = await query<{ id: string; stack: string; revision_sha: string; outcome: string; trigger_kind: string; started_at: string; finished_at: string | null; agent_id: string | null }>(
        "SELECT id, stack, revision_sha, outcome, trigger_kind, started_at, finished_at, agent_id FROM syncs WHERE environment = $1 ORDER BY id", [environment]);
      return rows.map((x) => ({ id: Number(x.id), stack: x.stack, sha: x.revision_sha, outcome: x.outcome, trigger: x.trigger_kind, startedAt: x.started_at, finishedAt: x.finished_at ?? undefined, agent: x.agent_id ?? undefined }));
    },
    async leases() {
      const rows = await query<{ stack: string; owner: string; valid: boolean }>("SELECT stack, owner, expires_at > now() AS valid FROM leases");
      return rows.map((x) => ({ stack: x.stack, owner: x.owner, valid: x.valid }));
    },
    async close() {
      await client.end();
    },
  };
}

function sqliteProbe(path: string): StateProbe {
  let db: DatabaseSync | undefined;
  // The agent creates the file; until it has, there is nothing synced.
  const open = (): DatabaseSync | undefined => {
    if (db !== undefined) return db;
    try {
      db = new DatabaseSync(path, { readOnly: true, timeout: 5000 });
      db.prepare("SELECT 1 FROM syncs LIMIT 1").get();
      return db;
    } catch {
      db?.close();
      db = undefined;
      return undefined;
    }
  };
  return {
    syncedAt(environment, sha) {
      const rows = open()?.prepare("SELECT DISTINCT stack FROM syncs WHERE environment = ? AND revision_sha = ? AND outcome = 'succeeded'").all(environment, sha) ?? [];
      return Promise.resolve(new Set(rows.map((x) => String(x["stack"]))));
    },
    syncs(environment) {
      const rows = open()?.prepare("SELECT id, stack, revision_sha, outcome, trigger_kind, started_at, finished_at FROM syncs WHERE environment = ? ORDER BY id").all(environment) ?? [];
      return Promise.resolve(rows.map((x) => ({
        id: Number(x["id"]), stack: String(x["stack"]), sha: String(x["revision_sha"]), outcome: String(x["outcome"]), trigger: String(x["trigger_kind"]),
        startedAt: String(x["started_at"]), finishedAt: x["finished_at"] === null ? undefined : String(x["finished_at"]), agent: undefined,
      })));
    },
    leases: () => Promise.resolve([]),
    close() {
      db?.close();
      return Promise.resolve();
    },
  };
}

/** What the checks found in the sync rows. */
export interface SyncCheck {
  /** Stacks with more than one sync at the revision, not counting interrupted ones and self-heals. */
  readonly duplicates: readonly string[];
  /** Stacks with two syncs overlapping in time (or one started while an earlier one never finished). */
  readonly overlaps: readonly string[];
  /** Rows by outcome. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Rows by trigger kind. */
  readonly triggers: Readonly<Record<string, number>>;
}

/** Checks once-per-revision and no overlap over the rows of one environment. */
export function checkSyncs(rows: readonly SyncRecord[], sha: string): SyncCheck {
  const byStack = new Map<string, SyncRecord[]>();
  const outcomes: Record<string, number> = {};
  const triggers: Record<string, number> = {};
  for (const r of rows) {
    const list = byStack.get(r.stack) ?? [];
    list.push(r);
    byStack.set(r.stack, list);
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    triggers[r.trigger] = (triggers[r.trigger] ?? 0) + 1;
  }
  const duplicates: string[] = [];
  const overlaps: string[] = [];
  for (const [stack, list] of byStack) {
    // A self-heal (trigger drift) is a second sync of the same revision by design.
    if (list.filter((r) => r.sha === sha && r.outcome !== "interrupted" && r.trigger !== "drift").length > 1) duplicates.push(stack);
    // ISO 8601 UTC strings of one width: string order is time order.
    const ordered = [...list].sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id - b.id));
    for (let i = 1; i < ordered.length; i++) {
      const prev = ordered[i - 1];
      const cur = ordered[i];
      if (prev !== undefined && cur !== undefined && (prev.finishedAt === undefined || prev.finishedAt > cur.startedAt)) {
        overlaps.push(stack);
        break;
      }
    }
  }
  return { duplicates, overlaps, outcomes, triggers };
}

/** The span from the first sync's start to the last one's end among rows, in ms, and their count. */
export function syncSpan(rows: readonly SyncRecord[]): { readonly rows: number; readonly ms: number } {
  let first = Infinity;
  let last = -Infinity;
  for (const r of rows) {
    first = Math.min(first, Date.parse(r.startedAt));
    if (r.finishedAt !== undefined) last = Math.max(last, Date.parse(r.finishedAt));
  }
  return { rows: rows.length, ms: Number.isFinite(first) && Number.isFinite(last) ? last - first : 0 };
}
