import type pg from "pg";
import { z } from "zod";
import type {
  AgentInfo, AgentRecord, CoordinationSnapshot, CoordinationStore, HeldLease, LeaseRecord, LiveAgents, Notice, RoutedWork, StackKey,
} from "../coordination.ts";
import { redact } from "../redact.ts";
import { pgFailure } from "./pg-errors.ts";
import { isTriggerKind } from "../prepare.ts";
import { backoffDelay } from "../../core/backoff.ts";

/** The channels agents notify each other on. */
const channels = { repo: "gitward_repo", work: "gitward_work" } as const;

const liveRow = z.object({ id: z.string(), left_ms: z.number() });
const heldRow = z.object({ environment: z.string(), stack: z.string(), epoch: z.number().int() });
const workRow = z.object({
  environment: z.string(), stack: z.string(), trigger_kind: z.string(), trigger_by: z.string().nullable(),
  trigger_detail: z.string().nullable(), from_agent: z.string(),
});
const agentRow = z.object({
  id: z.string(), hostname: z.string(), pid: z.number().int(), url: z.string().nullable(), lease_seconds: z.number(),
  started_at: z.date(), heartbeat_at: z.date(), live: z.boolean(),
});
const leaseRow = z.object({ environment: z.string(), stack: z.string(), owner: z.string(), epoch: z.number().int(), expires_at: z.date(), valid: z.boolean() });

/** How {@link PgCoordination} reaches the database: the store's pool, and new clients for LISTEN. */
export interface PgCoordinationOptions {
  readonly pool: pg.Pool;
  readonly newClient: () => pg.Client;
  readonly location: string;
  /** Time for the error and finished_at of the syncs a takeover interrupts. */
  readonly now: () => Date;
}

/**
 * {@link CoordinationStore} on PostgreSQL. Calls are made once, not retried: the agent's renewal
 * round runs again a third of a lease later, and a lease it could not renew lapses safely.
 */
export class PgCoordination implements CoordinationStore {
  readonly #o: PgCoordinationOptions;

  constructor(o: PgCoordinationOptions) {
    this.#o = o;
  }

  async heartbeat(agent: AgentInfo, leaseMs: number): Promise<HeldLease[]> {
    // One statement: the heartbeat and the renewal of every lease held, at one database time.
    const r = await this.#query("renew leases", `WITH hb AS (
        INSERT INTO agents (id, hostname, pid, url, lease_seconds) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), url = EXCLUDED.url, lease_seconds = EXCLUDED.lease_seconds
      )
      UPDATE leases SET expires_at = now() + make_interval(secs => $5) WHERE owner = $1 AND expires_at > now()
      RETURNING environment, stack, epoch`, [agent.id, agent.hostname, agent.pid, agent.url ?? null, leaseMs / 1000]);
    return r.rows.map((row) => heldRow.parse(row));
  }

  async liveAgents(self: string): Promise<LiveAgents> {
    const r = await this.#query("list live agents", `SELECT id, (EXTRACT(EPOCH FROM heartbeat_at + make_interval(secs => lease_seconds) - now()) * 1000)::float8 AS left_ms
      FROM agents WHERE heartbeat_at > now() - make_interval(secs => lease_seconds) ORDER BY id`, []);
    const rows = r.rows.map((row) => liveRow.parse(row));
    const others = rows.filter((a) => a.id !== self).map((a) => a.left_ms);
    return { ids: rows.map((a) => a.id), nextExpiryMs: others.length === 0 ? undefined : Math.max(0, Math.min(...others)) };
  }

  async acquire(agentId: string, leaseMs: number, stacks: readonly StackKey[]): Promise<HeldLease[]> {
    if (stacks.length === 0) return [];
    // Always in the same order, so two agents taking overlapping sets lock rows in one order.
    const sorted = [...stacks].sort((a, b) => (a.environment === b.environment ? cmp(a.stack, b.stack) : cmp(a.environment, b.environment)));
    const r = await this.#query("acquire leases", `WITH taken AS (
        INSERT INTO leases (environment, stack, owner, epoch, expires_at)
        SELECT e, s, $1, 1, now() + make_interval(secs => $2) FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS t(e, s, n) ORDER BY n
        ON CONFLICT (environment, stack) DO UPDATE SET owner = EXCLUDED.owner, epoch = leases.epoch + 1, expires_at = EXCLUDED.expires_at
        WHERE leases.expires_at < now()
        RETURNING environment, stack, epoch
      ), stale AS (
        UPDATE syncs SET outcome = 'interrupted', error = $5, finished_at = $6
        FROM taken WHERE syncs.environment = taken.environment AND syncs.stack = taken.stack AND syncs.outcome = 'running' AND syncs.agent_id IS NOT NULL
      )
      SELECT * FROM taken`, [
      agentId, leaseMs / 1000, sorted.map((s) => s.environment), sorted.map((s) => s.stack),
      redact(`the agent running the sync lost the stack's lease; agent ${agentId} took the stack over`), this.#o.now().toISOString(),
    ]);
    return r.rows.map((row) => heldRow.parse(row));
  }

  async release(agentId: string, stacks: readonly StackKey[]): Promise<void> {
    if (stacks.length === 0) return;
    // Expired, not deleted: the row keeps its epoch, so the next owner's is higher than any before it.
    await this.#query("release leases", `UPDATE leases l SET expires_at = now() - interval '1 second' FROM unnest($2::text[], $3::text[]) AS t(e, s)
      WHERE l.owner = $1 AND l.environment = t.e AND l.stack = t.s`, [agentId, stacks.map((s) => s.environment), stacks.map((s) => s.stack)]);
  }

  async leave(agentId: string): Promise<void> {
    await this.#query("leave", "WITH gone AS (UPDATE leases SET expires_at = now() - interval '1 second' WHERE owner = $1) DELETE FROM agents WHERE id = $1", [agentId]);
  }

  async enqueueWork(work: RoutedWork): Promise<void> {
    await this.#query("route a sync to the stack's owner", `WITH q AS (
        INSERT INTO work_queue (environment, stack, trigger_kind, trigger_by, trigger_detail, from_agent) VALUES ($1, $2, $3, $4, $5, $6)
      ) SELECT pg_notify('${channels.work}', '')`, [
      work.environment, work.stack, work.trigger.kind, work.trigger.by ?? null, work.trigger.detail === undefined ? null : redact(work.trigger.detail), work.from,
    ]);
  }

  async takeWork(agentId: string): Promise<RoutedWork[]> {
    const r = await this.#query("take routed work", `DELETE FROM work_queue w USING leases l
      WHERE l.owner = $1 AND l.expires_at > now() AND l.environment = w.environment AND l.stack = w.stack
      RETURNING w.environment, w.stack, w.trigger_kind, w.trigger_by, w.trigger_detail, w.from_agent`, [agentId]);
    return r.rows.map((row) => {
      const w = workRow.parse(row);
      const kind = isTriggerKind(w.trigger_kind) ? w.trigger_kind : "manual";
      return {
        environment: w.environment, stack: w.stack, from: w.from_agent,
        trigger: { kind, ...(w.trigger_by === null ? {} : { by: w.trigger_by }), ...(w.trigger_detail === null ? {} : { detail: w.trigger_detail }) },
      };
    });
  }

  async announcePush(detail: string): Promise<void> {
    await this.#query("announce a push", "SELECT pg_notify($1, $2)", [channels.repo, redact(detail).slice(0, 200)]);
  }

  async listen(onNotice: (kind: Notice) => void, signal: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!signal.aborted) {
      const client = this.#o.newClient();
      const ended = new Promise<void>((resolve) => {
        client.on("error", () => resolve());
        client.on("end", () => resolve());
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
      try {
        await client.connect();
        client.on("notification", (n) => onNotice(n.channel === channels.repo ? "repo" : "work"));
        await client.query(`LISTEN ${channels.repo}; LISTEN ${channels.work}`);
        // What was announced while not listening is lost: the owner looks again.
        if (attempt > 0) onNotice("reconnected");
        attempt = 0;
        await ended;
      } catch {
        // Unreachable: tried again below.
      }
      await client.end().catch(() => undefined);
      if (signal.aborted) return;
      attempt++;
      await sleep(backoffDelay(attempt, { baseMs: 200, maxMs: 5000 }), signal);
    }
  }

  async snapshot(): Promise<CoordinationSnapshot> {
    const agents = await this.#query("list agents", `SELECT id, hostname, pid, url, lease_seconds, started_at, heartbeat_at,
      heartbeat_at > now() - make_interval(secs => lease_seconds) AS live FROM agents ORDER BY id`, []);
    const leases = await this.#query("list leases", "SELECT environment, stack, owner, epoch, expires_at, expires_at > now() AS valid FROM leases ORDER BY environment, stack", []);
    return {
      agents: agents.rows.map((row): AgentRecord => {
        const a = agentRow.parse(row);
        return {
          id: a.id, hostname: a.hostname, pid: a.pid, ...(a.url === null ? {} : { url: a.url }), leaseSeconds: a.lease_seconds,
          startedAt: a.started_at.toISOString(), heartbeatAt: a.heartbeat_at.toISOString(), live: a.live,
        };
      }),
      leases: leases.rows.map((row): LeaseRecord => {
        const l = leaseRow.parse(row);
        return { environment: l.environment, stack: l.stack, owner: l.owner, epoch: l.epoch, expiresAt: l.expires_at.toISOString(), valid: l.valid };
      }),
    };
  }

  async #query(operation: string, sql: string, params: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.#o.pool.query(sql, params);
    } catch (e: unknown) {
      throw pgFailure(this.#o.location, operation, e);
    }
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
