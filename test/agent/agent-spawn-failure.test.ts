import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Agent } from "../../src/agent/agent.ts";
import { CommandStartError, ProcessRunner, type CommandResult, type CommandRunner, type CommandSpec } from "../../src/core/command-runner.ts";
import type { Store } from "../../src/store/store.ts";
import { startAgentHarness, type AgentHarness } from "../support/agent-harness.ts";
import type { TestRepo } from "../support/repo.ts";

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
  let h: AgentHarness;
  let repo: TestRepo;
  let store: Store;
  let runner: ExhaustedRunner;
  let agent: Agent;
  const advance = (ms: number): Promise<void> => h.advance(ms);

  before(async () => {
    runner = new ExhaustedRunner();
    h = await startAgentHarness({
      "gitward.yaml": "version: 1\nenvironments:\n  dev:\n    targets: { cluster: { provider: kubernetes } }\n    sync: { auto: true }\nstacks:\n  db: { target: cluster, path: db, namespace: dev }\n",
      "db/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: db }\ndata: { v: \"1\" }\n",
    }, { runner, concurrency: 1, intervals: { pollMs: 10 * second, driftMs: 3600 * second, dependencyWaitMs: 1 * second } });
    ({ repo, store, agent } = h);
  });
  after(() => h.close());

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
