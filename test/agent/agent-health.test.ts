import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Agent } from "../../src/agent/agent.ts";
import type { Store, SyncRow } from "../../src/store/store.ts";
import { startAgentHarness, type AgentHarness } from "../support/agent-harness.ts";
import { MemoryTarget } from "../support/memory-provider.ts";

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
  let h: AgentHarness;
  let store: Store;
  let target: MemoryTarget;
  let agent: Agent;
  const last = async (stack: string): Promise<SyncRow | undefined> => (await store.listSyncs({ environment: "dev", stack, limit: 1 }))[0];
  const advance = (ms: number): Promise<void> => h.advance(ms);

  before(async () => {
    const t = new MemoryTarget();
    t.health.set("_ConfigMap_apps_a", "progressing");
    t.health.set("_ConfigMap_apps_b", "progressing");
    h = await startAgentHarness(files(), {
      target: t, concurrency: 1, healthTimeoutMs: 300 * second,
      intervals: { pollMs: 600 * second, driftMs: 3600 * second, dependencyWaitMs: 30 * second, healthMs: 5 * second },
    });
    ({ store, target, agent } = h);
  });
  after(() => h.close());

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
