import type { AgentRecord, LeaseRecord } from "../store/coordination.ts";
import type { Store, SyncRow } from "../store/store.ts";

/** One stack as `gitward status --state URL` shows it: its last sync, and with several agents its lease. */
export interface StateStack extends SyncRow {
  /** The lease on the stack (several agents on PostgreSQL), when there is one. */
  readonly lease?: Pick<LeaseRecord, "owner" | "epoch" | "expiresAt" | "valid">;
}

/** What `gitward status --state URL` reads from a state store, without an agent. */
export interface StateStatus {
  /** The latest sync of each stack, by environment then stack. */
  readonly stacks: readonly StateStack[];
  /** With several agents (PostgreSQL): every agent with its last heartbeat and whether it is alive. */
  readonly agents?: readonly AgentRecord[];
}

/** Reads the latest sync of every stack (of the last 1000 syncs) and, from a shared store, the leases and agents. */
export async function stateStatus(store: Store): Promise<StateStatus> {
  const syncs = await store.listSyncs({ limit: 1000 });
  const snap = await store.coordination?.().snapshot();
  const leases = new Map((snap?.leases ?? []).map((l) => [`${l.environment}/${l.stack}`, l]));
  const latest = new Map<string, SyncRow>();
  for (const s of syncs) if (!latest.has(`${s.environment}/${s.stack}`)) latest.set(`${s.environment}/${s.stack}`, s);
  const stacks = [...latest.values()].sort((a, b) => `${a.environment}/${a.stack}`.localeCompare(`${b.environment}/${b.stack}`)).map((r): StateStack => {
    const l = leases.get(`${r.environment}/${r.stack}`);
    return l === undefined ? r : { ...r, lease: { owner: l.owner, epoch: l.epoch, expiresAt: l.expiresAt, valid: l.valid } };
  });
  return { stacks, ...(snap === undefined ? {} : { agents: snap.agents }) };
}

/** The text form: a table of stacks (with OWNER and LEASE columns when agents share the store), then the agents. */
export function stateStatusText(s: StateStatus, table: (header: readonly string[], rows: readonly (readonly string[])[]) => string): string {
  const shared = s.agents !== undefined;
  const head = ["ENVIRONMENT", "STACK", "LAST SYNC", "REVISION", "AT", ...(shared ? ["OWNER", "LEASE UNTIL"] : []), "ERROR"];
  let out = table(head, s.stacks.map((r) => [
    r.environment, r.stack, r.outcome, r.revision.sha.slice(0, 12), r.finishedAt ?? r.startedAt,
    ...(shared ? [r.lease?.owner ?? "-", r.lease === undefined ? "-" : `${r.lease.expiresAt}${r.lease.valid ? "" : " (expired)"}`] : []),
    firstLine(r.error),
  ]));
  if (s.agents !== undefined) {
    out += "\n" + table(["AGENT", "HOST", "PID", "STARTED", "LAST HEARTBEAT", "STATE"], s.agents.map((a) => [
      a.id, a.hostname, String(a.pid), a.startedAt, a.heartbeatAt, a.live ? "live" : "dead",
    ]));
  }
  return out;
}

function firstLine(text: string | undefined): string {
  const line = (text ?? "").split("\n")[0] ?? "";
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}
