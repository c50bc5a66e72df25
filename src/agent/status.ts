import type { OrphanedStack } from "../engine/orphans.ts";
import type { Recorder } from "../engine/recorder.ts";
import type { CoordinationSnapshot, LeaseRecord } from "../store/coordination.ts";
import type { SyncHealth, SyncRow } from "../store/store.ts";
import type { ApprovalState } from "./approvals.ts";
import type { PreviewStatus } from "./previews.ts";
import type { RepoWatch } from "./repo-watch.ts";
import type { LoopHealth, Scheduler } from "./scheduler.ts";

/** One stack's state as the agent knows it. */
export interface StackStatus {
  readonly environment: string;
  readonly stack: string;
  readonly target: string;
  /** The revision Git wants (the branch head). */
  readonly desired?: string;
  /** The revision last synced successfully. */
  readonly current?: string;
  readonly inSync: boolean;
  /** The health of the current revision's objects, as followed after its sync. */
  readonly health?: SyncHealth;
  readonly lastSync?: { readonly id: string; readonly outcome: SyncRow["outcome"]; readonly at: string; readonly error?: string; readonly revision: string };
  /** Objects differing from Git at the last drift check. */
  readonly drift: number;
  readonly driftCheckedAt?: string;
  readonly queued: boolean;
  /** With several agents: the agent holding the stack's lease (none while it is free or expired), and until when. */
  readonly owner?: { readonly agent: string; readonly expiresAt: string; readonly valid: boolean; readonly here: boolean };
}

/** An agent sharing the state, as `/api/v1/status` lists it with several agents. */
export interface AgentPeer {
  readonly id: string;
  readonly hostname: string;
  readonly pid: number;
  readonly url?: string;
  readonly startedAt: string;
  /** The last heartbeat, by the database's clock. */
  readonly heartbeatAt: string;
  /** Heartbeat within its lease time. */
  readonly live: boolean;
  /** The agent answering. */
  readonly self: boolean;
  /** Stacks whose lease it holds. */
  readonly stacks: number;
}

/** The agent's status: what `gitward status` and `/api/v1/status` show. */
export interface AgentStatus {
  readonly repo: string;
  readonly branch: string;
  readonly head?: { readonly sha: string; readonly subject: string; readonly author: string; readonly seenAt: string };
  /** Set while the repository cannot be reached: the environments keep their last revision. */
  readonly stale?: { readonly since: string; readonly error: string };
  /** Why the head revision is not applied, when it is refused. */
  readonly refused?: { readonly revision: string; readonly reasons: readonly string[] };
  readonly environments: readonly {
    readonly name: string;
    readonly auto: boolean;
    readonly prune: boolean;
    readonly selfHeal: boolean;
    readonly stacks: readonly StackStatus[];
    /** Where the environment stands at the approval gate, when it requires approvals. */
    readonly approval?: ApprovalState;
    /** Why the head revision is refused for this environment (its own refusals and those of every environment). */
    readonly refused?: readonly string[];
  }[];
  readonly queue: { readonly depth: number; readonly inFlight: number };
  readonly loops: Readonly<Record<string, LoopHealth>>;
  /** Stacks no longer in gitward.yaml whose objects a target still holds, as the last drift pass found. */
  readonly orphaned?: readonly OrphanedStack[];
  /** The preview environments of open pull requests. */
  readonly previews?: readonly PreviewStatus[];
  /** With several agents on one PostgreSQL state: every agent, and this one's id (each stack names its owner). */
  readonly agents?: readonly AgentPeer[];
  readonly agentId?: string;
}

/** What the last drift check of a stack found. */
export interface DriftMemory {
  readonly drift: number;
  readonly checkedAt?: string;
}

/** What the status is made from. */
export interface StatusSources {
  readonly branch: string;
  readonly watch: RepoWatch;
  readonly recorder: Recorder;
  readonly scheduler: Scheduler;
  readonly drift: (environment: string, stack: string) => DriftMemory | undefined;
  readonly orphaned: readonly OrphanedStack[];
  readonly approval?: (environment: string) => ApprovalState | undefined;
  readonly previews?: readonly PreviewStatus[];
  /** Several agents: the leases and agents, read from the store. */
  readonly coordination?: { readonly id: string; snapshot(): Promise<CoordinationSnapshot> };
}

/** The agent's status from its parts: the watched branch, the recorded syncs, drift checks and the queue. */
export async function agentStatus(s: StatusSources): Promise<AgentStatus> {
  const envs = (await s.watch.config())?.config.environments ?? {};
  const head = s.watch.head;
  const environments = [];
  // The whole picture with several agents: last syncs come from the store, owners from the leases.
  const snap = await s.coordination?.snapshot().catch(() => undefined);
  const leases = new Map((snap?.leases ?? []).map((l) => [`${l.environment}/${l.stack}`, l]));
  for (const env of s.watch.served(Object.keys(envs))) {
    const spec = envs[env];
    const stacks: StackStatus[] = [];
    for (const instance of await s.watch.instances(env)) {
      const { last, good } = await s.recorder.recorded(env, instance.stack);
      const drift = s.drift(env, instance.stack);
      stacks.push({
        environment: env, stack: instance.stack, target: instance.targetName,
        ...(head === undefined ? {} : { desired: head.commit.sha }),
        ...(good === undefined ? {} : { current: good.revision.sha }),
        ...(good?.health === undefined ? {} : { health: good.health }),
        inSync: good !== undefined && good.revision.sha === head?.commit.sha && (drift?.drift ?? 0) === 0,
        ...(last === undefined ? {} : { lastSync: lastSync(last) }),
        drift: drift?.drift ?? 0,
        ...(drift?.checkedAt === undefined ? {} : { driftCheckedAt: drift.checkedAt }),
        queued: s.scheduler.has(`${env}/${instance.stack}`),
        ...ownerOf(leases.get(`${env}/${instance.stack}`), s.coordination?.id),
      });
    }
    const approval = s.approval?.(env);
    const refused = s.watch.refusedFor(env);
    environments.push({
      name: env, auto: spec?.sync.auto ?? false, prune: spec?.sync.prune ?? true, selfHeal: spec?.sync.selfHeal ?? false, stacks,
      ...(approval === undefined ? {} : { approval }), ...(refused === undefined ? {} : { refused }),
    });
  }
  return {
    repo: s.watch.location, branch: s.branch,
    ...(head === undefined ? {} : {
      head: { sha: head.commit.sha, subject: head.commit.subject, author: head.commit.author.name, seenAt: head.seenAt },
    }),
    ...(s.watch.stale === undefined ? {} : { stale: s.watch.stale }),
    ...(s.watch.refused === undefined ? {} : { refused: s.watch.refused }),
    environments,
    queue: { depth: s.scheduler.depth, inFlight: s.scheduler.inFlight },
    loops: s.scheduler.loops(),
    ...(s.orphaned.length === 0 ? {} : { orphaned: s.orphaned }),
    ...(s.previews === undefined || s.previews.length === 0 ? {} : { previews: s.previews }),
    ...(snap === undefined || s.coordination === undefined ? {} : { agentId: s.coordination.id, agents: peers(snap, s.coordination.id) }),
  };
}

function ownerOf(lease: LeaseRecord | undefined, self: string | undefined): Pick<StackStatus, "owner"> {
  if (lease === undefined) return {};
  return { owner: { agent: lease.owner, expiresAt: lease.expiresAt, valid: lease.valid, here: lease.owner === self } };
}

function peers(snap: CoordinationSnapshot, self: string): AgentPeer[] {
  return snap.agents.map((a) => ({
    id: a.id, hostname: a.hostname, pid: a.pid, ...(a.url === undefined ? {} : { url: a.url }), startedAt: a.startedAt, heartbeatAt: a.heartbeatAt,
    live: a.live, self: a.id === self, stacks: snap.leases.filter((l) => l.owner === a.id && l.valid).length,
  }));
}

function lastSync(last: SyncRow): NonNullable<StackStatus["lastSync"]> {
  return {
    id: last.id, outcome: last.outcome, at: last.finishedAt ?? last.startedAt, revision: last.revision.sha,
    ...(last.error === undefined ? {} : { error: last.error }),
  };
}
