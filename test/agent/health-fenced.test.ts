import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { HealthWatch } from "../../src/agent/health-watch.ts";
import { LeaseBook } from "../../src/agent/leases.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import type { StackInstance } from "../../src/config/stack-instances.ts";
import { refKey, type ObjRef } from "../../src/core/objref.ts";
import { storeRecorder } from "../../src/engine/recorder.ts";
import { TargetPool } from "../../src/engine/target-pool.ts";
import type { Provider } from "../../src/providers/provider.ts";
import type { Fence } from "../../src/store/fence.ts";
import { openPostgresStore, type PostgresStore } from "../../src/store/postgres.ts";
import type { HealthState } from "../../src/store/store.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { MemoryTarget } from "../support/memory-provider.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

const logger = agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false });
const revision = { sha: "b".repeat(40), author: "dev", message: "change" };
const web = { environment: "dev", stack: "web" };
const ref: ObjRef = { group: "apps", kind: "Deployment", namespace: "apps", name: "web" };
const instance: StackInstance = {
  ...web, targetName: "cluster", target: { provider: "kubernetes" }, dir: "web", dirKeyPath: [], namespace: undefined,
  vars: {}, substitute: false, forceConflicts: false, allowRemoteBases: false, dependsOn: [],
};
const leaseMs = 15_000;

/**
 * Health followed after a sync is written under the lease the sync ran under: once another agent
 * takes the stack over, the old owner's health write is refused by the store (a real
 * PostgreSQL), even one already under way, and nothing is written.
 */
describe("health written under the sync's lease (real PostgreSQL)", () => {
  let server: TestPostgres;
  let store: PostgresStore;
  before(async () => {
    server = await startPostgres();
    store = await openPostgresStore(await server.createDatabase(), { retryForMs: 2000 });
  });
  after(async () => {
    await store?.close();
    await server?.stop();
  });

  /** One agent's view: its lease book, and a health watch over a memory target whose health read can run a step in its middle. */
  const agent = (id: string, target: MemoryTarget, duringRead: { step?: (() => Promise<void>) | undefined }): { book: LeaseBook; watch: HealthWatch; settled: HealthState[] } => {
    const inner = target.provider("kubernetes");
    const provider: Provider = {
      name: "kubernetes",
      open: async (...args) => {
        const session = await inner.open(...args);
        return {
          ...session,
          wait: async (refs, opts) => {
            const report = await session.wait(refs, opts);
            await duringRead.step?.();
            return report;
          },
        };
      },
    };
    const settled: HealthState[] = [];
    const watch = new HealthWatch({
      pool: new TargetPool({ providers: { kubernetes: provider }, context: () => ({}) }),
      recorder: storeRecorder(store, { shared: true }), clock: new FakeClock(), logger,
      settled: (_e, _s, state) => void settled.push(state),
    });
    return { book: new LeaseBook({ owner: id, leaseMs }), watch, settled };
  };
  const expireAll = async (): Promise<void> => {
    await server.sql("UPDATE leases SET expires_at = now() - interval '1 second'", store.location.split("/").pop() ?? "");
  };
  const take = async (book: LeaseBook, id: string): Promise<Fence> => {
    const t0 = book.now();
    book.acquired(t0, await store.coordination().acquire(id, leaseMs, [web]));
    const fence = book.fence(web);
    assert.ok(fence !== undefined, `${id} holds the lease`);
    return fence;
  };
  /** A succeeded sync recorded under the fence, as the engine records it. */
  const synced = async (fence: Fence): Promise<string> => {
    const recorder = storeRecorder(store, { shared: true }).fenced?.(fence);
    assert.ok(recorder !== undefined);
    const id = await recorder.begin({ ...web, revision, trigger: { kind: "poll" } });
    await recorder.finish(id, { outcome: "succeeded", summary: { created: 1 }, objects: [], durationMs: 1 });
    return id;
  };

  it("refuses the old owner's health write once the lease is taken over during its health read; nothing is written, following stops", async () => {
    const target = new MemoryTarget();
    target.health.set(refKey(ref), "progressing");
    const during: { step?: (() => Promise<void>) | undefined } = {};
    const a = agent("agent-a", target, during);
    const fenceA = await take(a.book, "agent-a");
    const syncA = await synced(fenceA);
    await a.watch.follow(instance, { id: syncA, refs: [ref], timeoutMs: 60_000, fence: fenceA });
    assert.equal((await store.getSync(syncA))?.health?.state, "progressing", "written while the lease is held");
    assert.equal(a.watch.size, 1);

    // The objects become healthy; while agent-a reads that, its lease runs out in the database and
    // agent-b takes the stack. agent-a's own book has not been told yet (its renewal round is later).
    target.health.delete(refKey(ref));
    const b = agent("agent-b", target, {});
    let fenceB: Fence | undefined;
    during.step = async (): Promise<void> => {
      during.step = undefined;
      await expireAll();
      fenceB = await take(b.book, "agent-b");
    };
    const before = await store.getSync(syncA);
    await a.watch.check();
    assert.ok(fenceB !== undefined, "the takeover ran during agent-a's health read");
    assert.equal(fenceB.epoch, fenceA.epoch + 1);
    fenceA.check(); // the local fence still trusts the lease: only the store's check stands in the way
    const after = await store.getSync(syncA);
    assert.deepEqual(after?.health, before?.health, "agent-a's health write was refused: nothing written");
    assert.equal(after?.outcome, "succeeded");
    assert.equal(a.watch.size, 0, "agent-a no longer follows the stack");
    assert.deepEqual(a.settled, [], "nor settles it: dependents are the new owner's");
    await a.watch.check();
    assert.deepEqual((await store.getSync(syncA))?.health, before?.health);

    // The new owner follows and records its own sync.
    const syncB = await synced(fenceB);
    await b.watch.follow(instance, { id: syncB, refs: [ref], timeoutMs: 60_000, fence: fenceB });
    await b.watch.check();
    assert.equal((await store.getSync(syncB))?.health?.state, "healthy");
    assert.deepEqual(b.settled, ["healthy"]);
  });

  it("refuses to start following under a lost lease: follow throws FencedError and records nothing", async () => {
    const target = new MemoryTarget();
    const a = agent("agent-c", target, {});
    const b = agent("agent-d", target, {});
    await expireAll();
    const fenceC = await take(a.book, "agent-c");
    const syncC = await synced(fenceC);
    await expireAll();
    await take(b.book, "agent-d");
    await assert.rejects(a.watch.follow(instance, { id: syncC, refs: [ref], timeoutMs: 60_000, fence: fenceC }),
      (e: unknown) => e instanceof Error && (e as { kind?: string; by?: string }).kind === "fenced" && (e as { by?: string }).by === "store");
    assert.equal((await store.getSync(syncC))?.health, undefined, "no health written");
    assert.equal(a.watch.size, 0);
  });
});
