import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, type AgentOptions } from "../../src/agent/agent.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { AgentMetrics } from "../../src/agent/metrics.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";
import { FakeClock } from "./fake-clock.ts";
import { MemoryTarget } from "./memory-provider.ts";
import { makeRepo, type TestRepo } from "./repo.ts";

/** An agent for unit tests: a real repository, an in-memory SQLite store and target, and a fake clock. */
export interface AgentHarness {
  readonly repo: TestRepo;
  readonly store: Store;
  readonly clock: FakeClock;
  readonly target: MemoryTarget;
  readonly agent: Agent;
  /** Moves the fake time and lets the real work it started (git, SQLite) finish. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

const second = 1000;

/**
 * Starts an agent on a repository holding `files` (first commit), serving every environment
 * through one {@link MemoryTarget} registered as the `kubernetes` provider. Intervals default to
 * a 60 s poll, a 300 s drift pass, 1 s retries doubling to 8 s, 2 s dependency waits and 1 s
 * health reads; jitter is fixed at its middle so delays are exact.
 */
export async function startAgentHarness(
  files: Record<string, string>,
  over: Partial<Omit<AgentOptions, "intervals">> & { readonly intervals?: Partial<AgentOptions["intervals"]>; readonly target?: MemoryTarget } = {},
): Promise<AgentHarness> {
  const work = mkdtempSync(join(tmpdir(), "gitward-agent-unit-"));
  const repo = makeRepo();
  repo.commit(files, "v1");
  const store = await openStore("sqlite::memory:");
  const clock = new FakeClock();
  const { intervals, target: given, ...rest } = over;
  const target = given ?? new MemoryTarget();
  const agent = new Agent({
    repo: repo.dir, branch: "main", configPath: "gitward.yaml", store, cacheDir: join(work, "cache"),
    providers: { kubernetes: target.provider("kubernetes") }, targets: {},
    concurrency: 2, graceMs: 1000, healthTimeoutMs: 5000,
    logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }),
    metrics: new AgentMetrics({ defaults: false }), clock, random: () => 0.5,
    ...rest,
    intervals: { pollMs: 60 * second, driftMs: 300 * second, retryBaseMs: 1 * second, retryMaxMs: 8 * second, dependencyWaitMs: 2 * second, healthMs: 1 * second, ...intervals },
  });
  await agent.start();
  await agent.idle(false);
  return {
    repo, store, clock, target, agent,
    advance: async (ms) => {
      await clock.advance(ms);
      await agent.idle(false);
    },
    close: async () => {
      await agent.stop();
      await store.close();
      repo.remove();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
