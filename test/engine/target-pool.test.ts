import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TargetPool, type TargetRef } from "../../src/engine/target-pool.ts";
import { MemoryTarget } from "../support/memory-provider.ts";

const ref = (environment: string, target: Record<string, unknown> = {}): TargetRef => ({
  environment, targetName: "cluster", target: { provider: "memory", ...target },
});

describe("TargetPool", () => {
  it("opens one session per environment and target, and closes them all", async () => {
    const t = new MemoryTarget();
    const pool = new TargetPool({ providers: { memory: t.provider() }, context: () => ({}) });
    const a = await pool.session(ref("dev"));
    assert.equal(await pool.session(ref("dev")), a);
    await pool.use(ref("prod"), () => Promise.resolve());
    assert.equal(t.opens, 2);
    await pool.close();
    assert.equal(t.closes, 2);
  });

  it("opens a new session when the target's definition changes, and closes the old one once nothing uses it", async () => {
    const t = new MemoryTarget();
    let context = "a";
    const pool = new TargetPool({ providers: { memory: t.provider() }, context: () => ({ context }) });
    let release!: () => void;
    const inUse = pool.use(ref("dev", { root: "/srv/one" }), () => new Promise<void>((r) => { release = r; }));
    await new Promise((r) => setImmediate(r));
    await pool.use(ref("dev", { root: "/srv/two" }), () => Promise.resolve());
    assert.equal(t.opens, 2, "a new definition opens a new session");
    assert.equal(t.closes, 0, "the old one is still in use");
    release();
    await inUse;
    assert.equal(t.closes, 1, "closed once its last user is done");
    context = "b";
    await pool.use(ref("dev", { root: "/srv/two" }), () => Promise.resolve());
    assert.equal(t.opens, 3, "new credentials from the runner open a new session too");
    await pool.close();
    assert.equal(t.closes, 3);
  });

  it("keeps a failed open for the run, or opens again when told to (the agent)", async () => {
    for (const reopenFailed of [false, true]) {
      const t = new MemoryTarget();
      t.failOpen = 1;
      const pool = new TargetPool({ providers: { memory: t.provider() }, context: () => ({}), reopenFailed });
      await assert.rejects(pool.session(ref("dev")), /unreachable/);
      await new Promise((r) => setImmediate(r));
      const again = pool.session(ref("dev"));
      if (reopenFailed) await again;
      else await assert.rejects(again, /unreachable/);
      assert.equal(t.opens, reopenFailed ? 2 : 1);
      await pool.close();
    }
  });

  it("names the target when its provider is not in this build", async () => {
    const pool = new TargetPool({ providers: {}, context: () => ({}) });
    await assert.rejects(pool.session(ref("dev")), /target cluster: provider "memory" is not available in this build/);
  });
});
