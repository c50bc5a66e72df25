import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { Coordinator } from "../../src/agent/coordination.ts";
import { LeaseBook, rendezvousOwner, stackKey } from "../../src/agent/leases.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { isFenced } from "../../src/store/fence.ts";
import type { RoutedWork, StackKey } from "../../src/store/coordination.ts";
import { openPostgresStore, type PostgresStore } from "../../src/store/postgres.ts";
import { lockAgentState } from "../../src/store/sqlite/agent-lock.ts";
import { projectRoot } from "../support/cli.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { until } from "../support/until.ts";

const logger = agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false });
const revision = { sha: "a".repeat(40), author: "dev", message: "change" };
const stacks = (n: number): StackKey[] => Array.from({ length: n }, (_, i) => ({ environment: i % 2 === 0 ? "dev" : "prod", stack: `s${i}` }));

describe("LeaseBook and rendezvous hashing", () => {
  it("trusts a lease until t0 + lease - margin, t0 taken before the query: a paused process wakes refused", () => {
    let now = 1000;
    const book = new LeaseBook({ owner: "a", leaseMs: 3000, marginMs: 300, now: () => now });
    const s = { environment: "dev", stack: "web" };
    book.acquired(1000, [{ ...s, epoch: 4 }]);
    const fence = book.fence(s);
    assert.ok(fence !== undefined);
    assert.equal(fence.epoch, 4);
    now = 3699;
    fence.check();
    assert.equal(book.holds(s), true);
    now = 3700;
    assert.throws(() => fence.check(), (e: unknown) => isFenced(e) && /ran out/.test((e as Error).message));
    assert.equal(book.holds(s), false);
    assert.equal(book.fence(s), undefined);
    // Renewed at 3500 (the query sent then): trusted again, until 6200.
    assert.deepEqual(book.renewed(3500, [{ ...s, epoch: 4 }]), []);
    fence.check();
    // Not renewed (another agent took it): lost, and an older fence refuses even before its deadline.
    assert.deepEqual(book.renewed(3600, []), [s]);
    assert.throws(() => fence.check(), (e: unknown) => isFenced(e) && /was lost/.test((e as Error).message));
  });

  it("picks one owner per stack among the live agents, and moves only the stacks of an agent that leaves", () => {
    const all = stacks(60);
    const three = new Map(all.map((s) => [stackKey(s), rendezvousOwner(s, ["a", "b", "c"])]));
    const counts = ["a", "b", "c"].map((id) => [...three.values()].filter((o) => o === id).length);
    for (const n of counts) assert.ok(n >= 10, `each of three agents owns a fair share: ${counts.join(", ")}`);
    for (const s of all) {
      const two = rendezvousOwner(s, ["c", "a"]);
      if (three.get(stackKey(s)) !== "b") assert.equal(two, three.get(stackKey(s)), "a stack not owned by the agent that left stays put");
    }
    assert.equal(rendezvousOwner(all[0]!, []), undefined);
  });
});

describe("several agents on one PostgreSQL (real server)", () => {
  let server: TestPostgres;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server.stop();
  });

  const open = async (agentId?: string): Promise<PostgresStore> => openPostgresStore(await server.createDatabase(), { retryForMs: 2000, ...(agentId === undefined ? {} : { agentId }) });
  const expire = async (store: PostgresStore, s: StackKey): Promise<void> => {
    const db = (store.location.split("/").pop() ?? "");
    await server.sql(`UPDATE leases SET expires_at = now() - interval '1 second' WHERE environment = '${s.environment}' AND stack = '${s.stack}'`, db);
  };

  it("acquires a free lease, renews it, refuses a held one, and takes an expired one over with the epoch bumped", async () => {
    const store = await open();
    try {
      const c = store.coordination();
      const web = { environment: "dev", stack: "web" };
      const a = { id: "agent-a", hostname: "h", pid: 1 };
      const b = { id: "agent-b", hostname: "h", pid: 2 };
      assert.deepEqual(await c.acquire(a.id, 15_000, [web]), [{ ...web, epoch: 1 }]);
      assert.deepEqual(await c.acquire(b.id, 15_000, [web]), [], "held and unexpired: left alone");
      assert.deepEqual(await c.heartbeat(a, 15_000), [{ ...web, epoch: 1 }]);
      const live = await c.liveAgents("agent-b");
      assert.deepEqual(live.ids, ["agent-a"]);
      assert.ok(live.nextExpiryMs !== undefined && live.nextExpiryMs > 10_000 && live.nextExpiryMs <= 15_000, `agent-a's heartbeat runs out in ${String(live.nextExpiryMs)} ms`);
      assert.equal((await c.liveAgents("agent-a")).nextExpiryMs, undefined, "no other agent");
      await expire(store, web);
      assert.deepEqual(await c.heartbeat(a, 15_000), [], "an expired lease is not renewed");
      assert.deepEqual(await c.acquire(b.id, 15_000, [web]), [{ ...web, epoch: 2 }], "taken over, epoch bumped");
      const snap = await c.snapshot();
      assert.equal(snap.leases[0]?.owner, "agent-b");
      assert.equal(snap.leases[0]?.valid, true);
      assert.deepEqual(snap.agents.map((x) => [x.id, x.live]), [["agent-a", true]], "b never sent a heartbeat");
      await c.release(b.id, [web]);
      assert.deepEqual((await c.snapshot()).leases.map((l) => [l.owner, l.valid]), [["agent-b", false]], "released: expired, not deleted");
      assert.deepEqual(await c.acquire(a.id, 15_000, [web]), [{ ...web, epoch: 3 }], "the epoch goes on from the released lease's");
    } finally {
      await store.close();
    }
  });

  it("refuses history writes under a lost lease (old epoch after a takeover), writing nothing; the takeover marks the old sync interrupted", async () => {
    const store = await open("agent-a");
    try {
      const c = store.coordination();
      const web = { environment: "dev", stack: "web" };
      const [held] = await c.acquire("agent-a", 15_000, [web]);
      assert.ok(held !== undefined);
      const fenceA = { ...web, owner: "agent-a", epoch: held.epoch };
      const asA = store.fenced(fenceA);
      const running = await asA.beginSync({ ...web, revision, trigger: { kind: "poll" } });
      await asA.appendAudit({ kind: "sync", actor: "agent", environment: "dev", stack: "web", details: {} });
      await expire(store, web);
      const [taken] = await c.acquire("agent-b", 15_000, [web]);
      assert.equal(taken?.epoch, held.epoch + 1);
      const before = { syncs: (await store.listSyncs({ limit: 100 })).length, audit: (await store.listAudit({ limit: 100 })).length };
      const refused = (e: unknown): boolean => isFenced(e) && (e as { by?: string }).by === "store";
      await assert.rejects(asA.beginSync({ ...web, revision, trigger: { kind: "poll" } }), refused);
      await assert.rejects(asA.finishSync(running.id, { outcome: "succeeded", summary: {}, objects: [], durationMs: 1 }), refused);
      await assert.rejects(asA.recordHealth(running.id, { state: "healthy", at: new Date().toISOString() }), refused);
      await assert.rejects(asA.appendAudit({ kind: "sync", actor: "agent", details: {} }), refused);
      await assert.rejects(asA.recordDrift([{ ...web, ref: { group: "", kind: "ConfigMap", name: "x" }, apiVersion: "v1", fields: [], corrected: false }]), refused);
      assert.equal((await store.listSyncs({ limit: 100 })).length, before.syncs, "no sync row written");
      assert.equal((await store.listAudit({ limit: 100 })).length, before.audit, "no audit event written");
      const old = await store.getSync(running.id);
      assert.equal(old?.outcome, "interrupted", "the old owner's running sync was closed by the takeover");
      // The new owner writes under its own lease.
      const asB = store.fenced({ ...web, owner: "agent-b", epoch: taken?.epoch ?? 0 });
      const mine = await asB.beginSync({ ...web, revision, trigger: { kind: "startup" } });
      assert.equal((await asB.finishSync(mine.id, { outcome: "succeeded", summary: {}, objects: [], durationMs: 1 })).outcome, "succeeded");
      assert.equal((await store.verifyAudit()).ok, true);
    } finally {
      await store.close();
    }
  });

  it("interrupts at start only the running syncs of agents no longer alive", async () => {
    const url = await server.createDatabase();
    const live = await openPostgresStore(url, { agentId: "live" });
    const dead = await openPostgresStore(url, { agentId: "dead" });
    const starting = await openPostgresStore(url, { agentId: "starting" });
    try {
      await live.coordination().heartbeat({ id: "live", hostname: "h", pid: 1 }, 15_000);
      await dead.coordination().heartbeat({ id: "dead", hostname: "h", pid: 2 }, 15_000);
      await server.sql("UPDATE agents SET heartbeat_at = now() - interval '1 minute' WHERE id = 'dead'", new URL(url).pathname.slice(1));
      const l = await live.beginSync({ environment: "dev", stack: "a", revision, trigger: { kind: "poll" } });
      const d = await dead.beginSync({ environment: "dev", stack: "b", revision, trigger: { kind: "poll" } });
      const marked = await starting.interruptRunning("crashed");
      assert.deepEqual(marked.map((r) => r.id), [d.id]);
      assert.equal((await starting.getSync(l.id))?.outcome, "running");
    } finally {
      await Promise.all([live.close(), dead.close(), starting.close()]);
    }
  });

  /** Coordinators over one database, each serving `all`, rounds driven by the test. */
  const fleet = (store: PostgresStore, all: readonly StackKey[], leaseMs = 60_000) => {
    const routed = new Map<string, RoutedWork[]>();
    const make = (id: string): Coordinator => {
      routed.set(id, []);
      return new Coordinator({
        store: store.coordination(), agent: { id, hostname: "test", pid: 1 }, leaseMs, logger,
        served: () => Promise.resolve(all), busy: () => false, acquired: () => undefined, lost: () => undefined, pushed: () => undefined,
        routed: (w) => routed.get(id)?.push(w),
      });
    };
    return { make, routed };
  };
  const owners = (agents: readonly Coordinator[], all: readonly StackKey[]): Map<string, string[]> =>
    new Map(all.map((s) => [stackKey(s), agents.filter((a) => a.owns(s)).map((a) => a.id)]));
  const rounds = async (agents: readonly Coordinator[], n = 2): Promise<void> => {
    for (let i = 0; i < n; i++) for (const a of agents) await a.round();
  };

  it("spreads stacks over 1, 2 and 3 agents, each owned exactly once, and again when one leaves", async () => {
    const store = await open();
    const all = stacks(24);
    const { make } = fleet(store, all);
    const [a, b, c] = [make("agent-a"), make("agent-b"), make("agent-c")];
    try {
      await rounds([a]);
      assert.ok([...owners([a], all).values()].every((o) => o.length === 1 && o[0] === "agent-a"), "one agent owns everything");
      await rounds([a, b], 3);
      let seen = owners([a, b], all);
      assert.ok([...seen.values()].every((o) => o.length === 1), "every stack owned exactly once by two agents");
      for (const s of all) assert.deepEqual(seen.get(stackKey(s)), [rendezvousOwner(s, ["agent-a", "agent-b"])]);
      await rounds([a, b, c], 3);
      seen = owners([a, b, c], all);
      assert.ok([...seen.values()].every((o) => o.length === 1), "every stack owned exactly once by three agents");
      for (const x of [a, b, c]) assert.ok(all.some((s) => x.owns(s)), `${x.id} owns some stacks`);
      const leases = (await store.coordination().snapshot()).leases;
      assert.equal(leases.length, all.length);
      await b.stop();
      await rounds([a, c], 2);
      seen = owners([a, c], all);
      assert.ok([...seen.values()].every((o) => o.length === 1), "after b left, a and c own everything once");
      for (const s of all) assert.deepEqual(seen.get(stackKey(s)), [rendezvousOwner(s, ["agent-a", "agent-c"])]);
    } finally {
      await a.stop();
      await c.stop();
      await store.close();
    }
  });

  it("takes a dead agent's stacks over once its leases expire", async () => {
    const store = await open();
    const all = stacks(6);
    const { make } = fleet(store, all, 1500);
    const [a, b] = [make("agent-a"), make("agent-b")];
    try {
      await rounds([a, b], 3);
      const ofB = all.filter((s) => b.owns(s));
      assert.ok(ofB.length > 0);
      const epochOfB = new Map((await store.coordination().snapshot()).leases.map((l) => [stackKey(l), l.epoch]));
      // b dies: it neither renews nor leaves.
      await until("a owns every stack", async () => {
        await a.round();
        return all.every((s) => a.owns(s));
      }, 10_000);
      const epochs = (await store.coordination().snapshot()).leases.filter((l) => ofB.some((s) => stackKey(s) === stackKey(l)));
      assert.ok(epochs.every((l) => l.owner === "agent-a" && l.epoch === (epochOfB.get(stackKey(l)) ?? 0) + 1), "taken over with the epoch bumped");
    } finally {
      await a.stop();
      await store.close();
    }
  });

  it("routes a manual sync received by a non-owner to the owner", async () => {
    const store = await open();
    const all = stacks(4);
    const { make, routed } = fleet(store, all);
    const [a, b] = [make("agent-a"), make("agent-b")];
    try {
      await a.start();
      await b.start();
      await rounds([a, b], 3);
      const s = all.find((x) => a.owns(x));
      assert.ok(s !== undefined);
      await b.route({ ...s, trigger: { kind: "manual", by: "alice", detail: "please" } });
      // Delivered by NOTIFY (the rounds are a minute apart here).
      const got = await until("a receives the routed sync", () => routed.get("agent-a")?.[0]);
      assert.deepEqual(got, { ...s, from: "agent-b", trigger: { kind: "manual", by: "alice", detail: "please" } });
      assert.deepEqual(routed.get("agent-b"), []);
    } finally {
      await a.stop();
      await b.stop();
      await store.close();
    }
  });
});

describe("the SQLite agent lock", () => {
  it("refuses a second agent on the same state file, naming the first; kill -9 of the first frees it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gitward-agent-lock-"));
    const state = join(dir, "state.db");
    const script = `import { lockAgentState } from ${JSON.stringify(pathToFileURL(join(projectRoot, "src/store/sqlite/agent-lock.ts")).href)};
      lockAgentState(${JSON.stringify(state)}); console.log("locked"); setInterval(() => {}, 1000);`;
    const first = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve, reject) => {
        first.stdout.on("data", (d: Buffer) => (d.toString().includes("locked") ? resolve() : undefined));
        first.once("exit", (code) => reject(new Error(`the first holder exited with ${String(code)}`)));
      });
      assert.throws(() => lockAgentState(state), (e: unknown) => e instanceof Error
        && e.message.includes(`another gitward agent (pid ${String(first.pid)}, started `) && e.message.includes("uses this state file"));
      first.kill("SIGKILL");
      await new Promise((r) => first.once("exit", r));
      const lock = lockAgentState(state);
      assert.throws(() => lockAgentState(state), /another gitward agent \(pid \d+/);
      lock.release();
      lockAgentState(state).release();
    } finally {
      first.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
