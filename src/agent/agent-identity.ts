import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Provider } from "../providers/provider.ts";
import { ProcessRunner } from "../core/command-runner.ts";
import { hostProvider } from "../providers/host/provider.ts";
import { lockAgentState, type AgentStateLock } from "../store/sqlite/agent-lock.ts";
import { parseStateUrl } from "../store/open.ts";
import type { Store } from "../store/store.ts";
import type { AgentCoordination } from "./agent-coordination.ts";
import { defaultLeaseMs } from "./coordination.ts";
import { FenceContext, fencedRunner } from "./fenced-runner.ts";

/** An agent's id when none is given: `<hostname>-<pid>-<4 random hex>`, unique among agents sharing a state. */
export function defaultAgentId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(2).toString("hex")}`;
}

/**
 * Before the store is opened: an SQLite state is locked for this agent (a second agent on the
 * same file refuses to start); a PostgreSQL state needs no lock, agents share it. Undefined for
 * PostgreSQL and in-memory SQLite.
 */
export function lockStateForAgent(state: string): AgentStateLock | undefined {
  const where = parseStateUrl(state);
  if (where.kind !== "sqlite" || where.path === ":memory:") return undefined;
  return lockAgentState(where.path);
}

/** What joining other agents needs, when the store is shared (PostgreSQL); undefined for a single-agent store. */
export function coordinationFor(store: Store, agent: { id: string; url?: string; leaseSeconds?: number | undefined }): AgentCoordination | undefined {
  const coordination = store.coordination?.();
  if (coordination === undefined) return undefined;
  return {
    store: coordination, leaseMs: agent.leaseSeconds === undefined ? defaultLeaseMs : agent.leaseSeconds * 1000, fences: new FenceContext(),
    agent: { id: agent.id, hostname: hostname(), pid: process.pid, ...(agent.url === undefined ? {} : { url: agent.url }) },
  };
}

/** The providers with the host provider's commands fenced: a command that ends after the lease was lost is refused before anything is swapped in. */
export function fencedProviders(providers: Readonly<Record<string, Provider>>, fences: FenceContext | undefined): Readonly<Record<string, Provider>> {
  return fences === undefined ? providers : { ...providers, host: hostProvider({ runner: fencedRunner(new ProcessRunner(), fences) }) };
}
