import type { Logger } from "pino";
import type { Job } from "../engine/decide.ts";
import type { AgentInfo, CoordinationStore } from "../store/coordination.ts";
import type { SyncTrigger } from "../store/store.ts";
import { Coordinator } from "./coordination.ts";
export type { Coordinator } from "./coordination.ts";
import type { FenceContext } from "./fenced-runner.ts";
import type { HealthWatch } from "./health-watch.ts";
import type { RepoWatch } from "./repo-watch.ts";
import type { Scheduler } from "./scheduler.ts";

/** How an agent joins others on one PostgreSQL state: the store's coordination, its identity, its lease time. */
export interface AgentCoordination {
  readonly store: CoordinationStore;
  readonly agent: AgentInfo;
  readonly leaseMs: number;
  /** Shared with the fenced command runner of the host provider. */
  readonly fences?: FenceContext;
}

/** The agent's parts a {@link Coordinator} hands stacks and work to. */
export interface CoordinatedParts {
  readonly logger: Logger;
  readonly watch: RepoWatch;
  readonly scheduler: Scheduler;
  readonly health: HealthWatch;
  enqueue(environment: string, stack: string, job: Job, trigger: SyncTrigger, opts?: { explicit?: boolean }): boolean;
  poll(trigger: SyncTrigger): Promise<void>;
}

/**
 * The agent's {@link Coordinator}: it serves the stacks of the repository's configuration once
 * read; a stack taken over is checked at once (a drift check, which syncs it when it is behind
 * the revision); a stack lost has its queued work dropped and its health no longer followed; a
 * push another agent received makes this one read the remote; routed manual syncs are queued.
 */
export function agentCoordinator(c: AgentCoordination, p: CoordinatedParts): Coordinator {
  return new Coordinator({
    ...c, logger: p.logger,
    served: async () => (p.watch.head === undefined ? undefined : p.watch.instances()),
    busy: (s) => p.scheduler.has(`${s.environment}/${s.stack}`),
    acquired: (s) => void p.enqueue(s.environment, s.stack, "drift", { kind: "startup", detail: "lease acquired" }),
    lost: (s) => {
      p.scheduler.cancel(`${s.environment}/${s.stack}`);
      p.health.forget(s.environment, s.stack);
    },
    pushed: () => void p.poll({ kind: "webhook", detail: "push announced by another agent" })
      .catch((e: unknown) => p.logger.error({ err: e instanceof Error ? e.message : String(e) }, "reading the remote after a push failed")),
    routed: (w) => void p.enqueue(w.environment, w.stack, "sync", w.trigger, { explicit: true }),
  });
}
