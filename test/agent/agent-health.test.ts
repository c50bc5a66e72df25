import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Agent } from "../../src/agent/agent.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { AgentMetrics } from "../../src/agent/metrics.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store, SyncRow } from "../../src/store/store.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { MemoryTarget } from "../support/memory-provider.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const second = 1000;

function files(): Record<string, string> {
  const cm = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name}, namespace: apps }\ndata: { a: "1" }\n`;
  return {
    "gitward.yaml": `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true, timeout: 60s }
stacks:
  a: { target: cluster, path: a }
  b: { target: cluster, path: b }
  c: { target: cluster, path: c }
  web: { target: cluster, path: web, dependsOn: [a] }
`,
    "a/cm.yaml": cm("a"), "b/cm.yaml": cm("b"), "c/cm.yaml": cm("c"), "web/cm.yaml": cm("web"),
  };
}

/**
 * Health is followed without holding a worker: with one worker, every stack whose objects never
 * become ready is still applied at once; health is recorded as progressing, then healthy or timed
 * out; a dependent waits for its dependency's health, not for a worker.
 */
describe("agent: health followed in the background", () => {
  let repo: TestRepo;
  let work: string;
  let store: Store;
  let clock: FakeClock;
  let target: MemoryTarget;
  let agent: Agent;
  const last = async (stack: string): Promise<SyncRow | undefined> => (await store.listSyncs({ environment: "dev", stack, limit: 1 }))[0];
  const advance = async (ms: number): Promise<void> => {
    await clock.advance(ms);
    await agent.idle(false);
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-agent-health-"));
    repo = makeRepo();
    repo.commit(files(), "v1");
    store = await openStore("sqlite::memory:");
    clock = new FakeClock();
    target = new MemoryTarget();
    target.health.set("_ConfigMap_apps_a", "progressing");
    target.health.set("_ConfigMap_apps_b", "progressing");
    agent = new Agent({
      repo: repo.dir, branch: "main", configPath: "gitward.yaml", store, cacheDir: join(work, "cache"),
      providers: { kubernetes: target.provider("kubernetes") }, targets: {},
      intervals: { pollMs: 600 * second, driftMs: 3600 * second, retryBaseMs: 1 * second, retryMaxMs: 8 * second, dependencyWaitMs: 30 * second, healthMs: 5 * second },
      concurrency: 1, graceMs: 1000, healthTimeoutMs: 300 * second,
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

  it("applies every stack with one worker although two never become ready; they are progressing", async () => {
    for (const s of ["a", "b", "c"]) assert.equal((await last(s))?.outcome, "succeeded", s);
    assert.equal((await last("a"))?.health?.state, "progressing");
    assert.equal((await last("b"))?.health?.state, "progressing");
    assert.equal((await last("c"))?.health?.state, "progressing", "recorded progressing until the first read");
    const web = await store.listSyncs({ environment: "dev", stack: "web", limit: 10 });
    assert.ok(web.every((r) => r.outcome !== "succeeded"), "web waits for a's health");
  });

  it("one read per target and round follows every stack; healthy ones are recorded and let their dependents go", async () => {
    const reads = target.healthReads;
    await advance(5 * second);
    assert.equal(target.healthReads, reads + 1, "one health read for all followed stacks of the target");
    assert.equal((await last("c"))?.health?.state, "healthy");
    assert.equal((await last("a"))?.health?.state, "progressing");
    assert.equal((await last("web"))?.outcome, undefined);
    target.health.delete("_ConfigMap_apps_a");
    await advance(5 * second);
    assert.equal((await last("a"))?.health?.state, "healthy");
    assert.equal((await last("web"))?.outcome, "succeeded", "web synced once a was healthy, without waiting for its 30 s retry");
  });

  it("a stack not healthy within the environment's timeout is recorded timed out, with why; status shows it", async () => {
    await advance(40 * second);
    assert.equal((await last("b"))?.health?.state, "progressing");
    await advance(20 * second);
    const b = await last("b");
    assert.equal(b?.health?.state, "timed-out");
    assert.match(b?.health?.message ?? "", /ConfigMap\/apps\/b: progressing/);
    const status = await agent.status();
    const stacks = status.environments[0]?.stacks ?? [];
    assert.equal(stacks.find((s) => s.stack === "b")?.health?.state, "timed-out");
    assert.equal(stacks.find((s) => s.stack === "a")?.health?.state, "healthy");
    const reads = target.healthReads;
    await advance(30 * second);
    assert.equal(target.healthReads, reads, "nothing is followed any more");
  });
});
