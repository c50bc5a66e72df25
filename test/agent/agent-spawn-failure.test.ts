import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Agent } from "../../src/agent/agent.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { AgentMetrics } from "../../src/agent/metrics.ts";
import { CommandStartError, ProcessRunner, type CommandResult, type CommandRunner, type CommandSpec } from "../../src/core/command-runner.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { MemoryTarget } from "../support/memory-provider.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

/** A runner whose spawns fail, as they do when the process has no file descriptor left (EMFILE). */
class ExhaustedRunner implements CommandRunner {
  exhausted = false;
  readonly #real = new ProcessRunner();
  run(spec: CommandSpec): Promise<CommandResult> {
    if (!this.exhausted) return this.#real.run(spec);
    return Promise.reject(new CommandStartError(spec.command, Object.assign(new Error(`spawn ${spec.command} EMFILE`), { code: "EMFILE" })));
  }
}

const second = 1000;

describe("agent whose git cannot be started", () => {
  let repo: TestRepo;
  let work: string;
  let store: Store;
  let clock: FakeClock;
  let runner: ExhaustedRunner;
  let agent: Agent;
  const advance = async (ms: number): Promise<void> => {
    await clock.advance(ms);
    await agent.idle(false);
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-agent-spawn-"));
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": "version: 1\nenvironments:\n  dev:\n    targets: { cluster: { provider: kubernetes } }\n    sync: { auto: true }\nstacks:\n  db: { target: cluster, path: db, namespace: dev }\n",
      "db/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: db }\ndata: { v: \"1\" }\n",
    }, "v1");
    store = await openStore("sqlite::memory:");
    clock = new FakeClock();
    runner = new ExhaustedRunner();
    agent = new Agent({
      repo: repo.dir, branch: "main", configPath: "gitward.yaml", store, cacheDir: join(work, "cache"),
      providers: { kubernetes: new MemoryTarget().provider("kubernetes") }, targets: {},
      intervals: { pollMs: 10 * second, driftMs: 3600 * second, retryBaseMs: 1 * second, retryMaxMs: 8 * second, dependencyWaitMs: 1 * second, healthMs: 1 * second },
      concurrency: 1, graceMs: 1000, healthTimeoutMs: 5000, runner,
      logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }),
      metrics: new AgentMetrics({ defaults: false }), clock, random: () => 0.5,
    });
    await agent.start();
    await agent.idle(false);
  });
  after(async () => {
    await agent.stop();
    await store.close();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("a failed spawn is a failed poll: recorded, shown as stale and, repeated, in /readyz; the agent goes on and recovers", async () => {
    assert.equal((await store.listSyncs({}))[0]?.outcome, "succeeded");
    runner.exhausted = true;
    repo.commit({ "db/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: db }\ndata: { v: \"2\" }\n" }, "v2");
    await advance(10 * second);
    const poll = agent.readiness();
    assert.equal(poll.ready, true, "one failure is not unready");
    const s = await agent.status();
    assert.match(s.stale?.error ?? "", /EMFILE/);
    assert.equal(s.loops["poll"]?.failures, 1);
    await advance(10 * second);
    await advance(10 * second);
    const r = agent.readiness();
    assert.equal(r.ready, false);
    assert.match(r.reasons.join("\n"), /poll loop failing: .*EMFILE/);
    runner.exhausted = false;
    await advance(10 * second);
    assert.equal(agent.readiness().ready, true);
    assert.equal((await agent.status()).stale, undefined);
    assert.equal((await store.listSyncs({}))[0]?.revision.sha, repo.git("rev-parse", "HEAD"), "v2 synced once git starts again");
  });
});
