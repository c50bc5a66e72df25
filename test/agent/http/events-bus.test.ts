import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentEvents, type AgentEvent } from "../../../src/agent/events.ts";
import { startAgentHarness } from "../../support/agent-harness.ts";

const status = (environment: string, stack = "web") => ({ type: "status" as const, data: { environment, stack } });

describe("AgentEvents", () => {
  it("numbers events, keeps the last ones in a ring, and replays those after an id", () => {
    const bus = new AgentEvents({ capacity: 3 });
    for (let i = 0; i < 5; i++) bus.publish(status("dev", `s${i}`));
    assert.equal(bus.lastId, 5);
    assert.deepEqual(bus.since(0).map((e) => e.id), [3, 4, 5]);
    assert.deepEqual(bus.since(4).map((e) => e.id), [5]);
  });

  it("delivers to subscribers in order, replaying from `since` and applying the filter", async () => {
    const bus = new AgentEvents();
    bus.publish(status("dev"));
    bus.publish(status("prod"));
    const got: AgentEvent[] = [];
    const stop = bus.subscribe((e) => void got.push(e), { since: 0, filter: (e) => e.data.environment === "dev" });
    bus.publish(status("dev", "db"));
    bus.publish(status("prod", "db"));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got.map((e) => [e.id, e.data.environment]), [[1, "dev"], [3, "dev"]]);
    stop();
    bus.publish(status("dev"));
    await new Promise((r) => setImmediate(r));
    assert.equal(got.length, 2, "nothing after unsubscribing");
  });

  it("drops a subscriber that does not keep up, without slowing publish or the others", async () => {
    const bus = new AgentEvents({ queueLimit: 5 });
    const ends: string[] = [];
    // The slow one never finishes taking its first event.
    bus.subscribe(() => new Promise<void>(() => undefined), { onEnd: (why) => ends.push(`slow:${why}`), name: "slow" });
    const fast: number[] = [];
    bus.subscribe((e) => void fast.push(e.id), { onEnd: (why) => ends.push(`fast:${why}`) });
    for (let i = 0; i < 20; i++) bus.publish(status("dev"));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(ends, ["slow:dropped"]);
    assert.equal(fast.length, 20);
    assert.equal(bus.size, 1);
    bus.close();
    assert.deepEqual(ends, ["slow:dropped", "fast:closed"]);
  });
});

describe("the agent publishes what it records", () => {
  it("a sync's start and end, and drift when found", async () => {
    const h = await startAgentHarness({
      "gitward.yaml": "version: 1\nenvironments:\n  dev:\n    targets: { cluster: { provider: kubernetes } }\n    sync: { auto: true }\nstacks:\n  web: { target: cluster, path: web, environments: { dev: { namespace: dev } } }\n",
      "web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: web }\ndata: { a: \"1\" }\n",
    });
    try {
      const syncs = h.agent.events.since(0).filter((e) => e.type === "sync");
      assert.deepEqual(syncs.map((e) => e.type === "sync" && [e.data.environment, e.data.stack, e.data.outcome]), [["dev", "web", "running"], ["dev", "web", "succeeded"]]);
      const got: AgentEvent[] = [];
      h.agent.events.subscribe((e) => void got.push(e));
      for (const [k, o] of h.target.objects) h.target.objects.set(k, { ...o, data: { a: "changed" } });
      await h.agent.checkDrift();
      await h.agent.idle(false);
      const drift = got.find((e) => e.type === "drift");
      assert.ok(drift?.type === "drift");
      assert.deepEqual([drift.data.environment, drift.data.stack, drift.data.objects, drift.data.corrected], ["dev", "web", 1, false]);
    } finally {
      await h.close();
    }
  });
});
