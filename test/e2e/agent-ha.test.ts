import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openPostgresStore, type PostgresStore } from "../../src/store/postgres.ts";
import type { LeaseRecord } from "../../src/store/coordination.ts";
import type { SyncRow } from "../../src/store/store.ts";
import { runCli } from "../support/cli.ts";
import { testCluster, type TestCluster } from "../support/fake-apiserver.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { until } from "../support/until.ts";
import { startAgentProcess, type AgentProcess } from "../support/agent-process.ts";

const hostStacks = ["s0", "s1", "s2", "s3", "s4", "s5"];
const allStacks = [...hostStacks, "k"];
const secret = randomBytes(16).toString("hex");
const apiToken = randomBytes(16).toString("hex");

type Running = AgentProcess;

interface CommandLine {
  readonly tag: string;
  readonly phase: string;
  readonly root: string;
}

/**
 * Three agent processes on one PostgreSQL state, host targets (one root per stack) and a
 * fake-Kubernetes target: stacks spread and synced once per revision, pushes and manual syncs
 * reaching any agent, a dead agent's stacks taken over, an owner paused past its lease fenced
 * out of the target and the history, and a PostgreSQL restart during syncs.
 */
describe("several agents on one PostgreSQL state", () => {
  let work: string;
  let repo: TestRepo;
  let pg: TestPostgres;
  let url: string;
  let store: PostgresStore;
  let cluster: TestCluster;
  let v1: string;
  const agents = new Map<string, Running>();
  const root = (s: string): string => join(work, "roots", s);
  const slow = (): string => join(work, "slow-check");
  /** While it exists, the check of every agent but the one it names takes 3 s and fails. */
  const block = (): string => join(work, "block-check");
  const commandLog = (): string => join(work, "commands.log");

  const config = (tag: string): string => {
    const file = join(work, `agent-${tag}.yaml`);
    const log = JSON.stringify(commandLog());
    const script = (phase: string, wait: boolean): string => JSON.stringify([process.execPath, "-e",
      `const fs = require("fs"); fs.appendFileSync(${log}, JSON.stringify({ tag: process.env.AGENT_TAG, phase: "${phase}", root: process.cwd() }) + "\\n");`
      + (wait ? ` if (fs.existsSync(${JSON.stringify(slow())})) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500);`
        + ` if (fs.existsSync(${JSON.stringify(block())}) && fs.readFileSync(${JSON.stringify(block())}, "utf8") !== process.env.AGENT_TAG) {`
        + ` Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000); process.exit(1); }` : "")]);
    const targets = hostStacks.map((s) => `  web-${s}:\n    commands:\n      slow-check: ${script("check", true)}\n      mark-reload: ${script("reload", false)}\n`).join("");
    writeFileSync(file, `intervals: { poll: 3600, drift: 3600, retryBase: 0.5, retryMax: 2, health: 1 }
gracePeriodSeconds: 5
cacheDir: ${join(work, `cache-${tag}`)}
webhook: { generic: { env: GITWARD_WEBHOOK_SECRET } }
api: { token: { env: GITWARD_API_TOKEN }, anonymousRead: true }
targets:
${targets}  cluster: { kubeconfig: ${cluster.kubeconfigPath}, context: ${cluster.context} }
`);
    return file;
  };

  const start = async (tag: string, leaseSeconds?: number): Promise<Running> => {
    const args = ["--repo", repo.dir, "--state", url, "--config", config(tag), "--agent-id", tag, ...(leaseSeconds === undefined ? [] : ["--lease-seconds", String(leaseSeconds)])];
    const r = await startAgentProcess(tag, args, { AGENT_TAG: tag, GITWARD_WEBHOOK_SECRET: secret, GITWARD_API_TOKEN: apiToken }, work);
    agents.set(tag, r);
    return r;
  };
  const stopAll = async (): Promise<void> => {
    for (const a of agents.values()) {
      if (a.child.exitCode !== null || a.child.signalCode !== null) continue;
      const exited = new Promise((r) => a.child.once("exit", r));
      a.child.kill("SIGCONT");
      a.child.kill("SIGTERM");
      await exited;
    }
    agents.clear();
  };

  const rows = async (): Promise<SyncRow[]> => store.listSyncs({ environment: "dev", limit: 1000 });
  const leases = async (): Promise<LeaseRecord[]> => (await store.coordination().snapshot()).leases.filter((l) => l.valid);
  const owner = async (stack: string): Promise<string | undefined> => (await leases()).find((l) => l.stack === stack)?.owner;
  const spread = (n: number) => async (): Promise<boolean> => {
    const held = await leases();
    return held.length === allStacks.length && new Set(held.map((l) => l.owner)).size === n;
  };
  const syncedAt = (sha: string, stacks = allStacks) => async (): Promise<boolean> => {
    const all = await rows();
    return stacks.every((s) => all.some((r) => r.stack === s && r.revision.sha === sha && r.outcome === "succeeded"));
  };
  const commands = (): CommandLine[] => (existsSync(commandLog()) ? readFileSync(commandLog(), "utf8").trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as CommandLine) : []);
  const files = (version: string, stacks = allStacks): Record<string, string> => Object.fromEntries(stacks.map((s) => s === "k"
    ? ["k/cm.yaml", `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ha, namespace: gitward-ha }\ndata: { version: "${version}" }\n`]
    : [`site/${s}/f.yaml`, `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: f }\nspec: { path: "f.conf", content: "${version} of ${s}\\n" }\n`]));
  const push = async (tag: string, sha: string): Promise<Response> => {
    const body = JSON.stringify({ ref: "refs/heads/main", after: sha, pusher: "dev" });
    return fetch(`http://127.0.0.1:${agents.get(tag)?.port ?? 0}/hooks/git`, {
      method: "POST", body,
      headers: { "content-type": "application/json", "x-gitward-signature": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`, "x-gitward-delivery": randomBytes(8).toString("hex") },
    });
  };
  /** Per stack: one sync row per revision at most among those not interrupted, and no two syncs of a stack overlapping in time. */
  const assertOnceAndSerial = (all: readonly SyncRow[], sha: string): void => {
    for (const s of allStacks) {
      const mine = all.filter((r) => r.stack === s);
      assert.equal(mine.filter((r) => r.revision.sha === sha && r.outcome !== "interrupted").length, 1, `${s}: synced once at ${sha.slice(0, 8)}`);
      const ordered = [...mine].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
      for (let i = 1; i < ordered.length; i++) {
        const prev = ordered[i - 1]!;
        assert.ok(prev.finishedAt !== undefined && prev.finishedAt <= ordered[i]!.startedAt, `${s}: sync ${prev.id} overlaps ${ordered[i]!.id}`);
      }
    }
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-ha-"));
    for (const s of hostStacks) mkdirSync(root(s), { recursive: true });
    pg = await startPostgres();
    url = await pg.createDatabase();
    cluster = await testCluster();
    repo = makeRepo();
    v1 = repo.commit({
      "gitward.yaml": `version: 1
environments:
  dev:
    targets:
${hostStacks.map((s) => `      web-${s}: { provider: host, root: ${root(s)}, check: slow-check, reload: mark-reload }`).join("\n")}
      cluster: { provider: kubernetes }
    sync: { auto: true, prune: true }
stacks:
${hostStacks.map((s) => `  ${s}: { target: web-${s}, path: site/${s} }`).join("\n")}
  k: { target: cluster, path: k }
`,
      "k/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: gitward-ha }\n",
      ...files("v1"),
    }, "v1");
    store = await openPostgresStore(url, { retryForMs: 60_000 });
  });
  after(async () => {
    for (const a of agents.values()) a.child.kill("SIGKILL");
    await store?.close();
    await cluster?.close();
    await pg?.stop();
    repo?.remove();
    if (process.env["GITWARD_TEST_KEEP"] === undefined) rmSync(work, { recursive: true, force: true });
  });

  it("spreads the stacks over three agents and syncs each once", async () => {
    for (const tag of ["a1", "a2", "a3"]) await start(tag);
    await until("every stack synced at v1", syncedAt(v1), 60_000);
    await until("the stacks spread over the three agents", spread(3), 60_000);
    assertOnceAndSerial(await rows(), v1);
    for (const s of hostStacks) assert.equal(readFileSync(join(root(s), "f.conf"), "utf8"), `v1 of ${s}\n`);
  });

  it("syncs a push delivered to one agent on every owner, once per stack; status shows owners and agents; a manual sync is routed", async () => {
    const v2 = repo.commit(files("v2"), "v2");
    const ownerOfS0 = await owner("s0");
    const other = ["a1", "a2", "a3"].find((t) => t !== ownerOfS0) ?? "a1";
    assert.equal((await push(other, v2)).status, 202);
    await until("every stack synced at v2", syncedAt(v2), 60_000);
    assertOnceAndSerial(await rows(), v2);
    for (const s of hostStacks) assert.equal(readFileSync(join(root(s), "f.conf"), "utf8"), `v2 of ${s}\n`);

    const status = await (await fetch(`http://127.0.0.1:${agents.get(other)?.port ?? 0}/api/v1/status`)).json() as {
      agentId: string; agents: { id: string; live: boolean; self: boolean }[]; environments: { stacks: { stack: string; owner?: { agent: string; here: boolean } }[] }[];
    };
    assert.equal(status.agentId, other);
    assert.deepEqual(status.agents.map((a) => [a.id, a.live, a.self]), ["a1", "a2", "a3"].map((t) => [t, true, t === other]));
    const s0 = status.environments[0]?.stacks.find((s) => s.stack === "s0");
    assert.deepEqual(s0?.owner && { agent: s0.owner.agent, here: s0.owner.here }, { agent: ownerOfS0, here: false });

    const asked = await fetch(`http://127.0.0.1:${agents.get(other)?.port ?? 0}/api/v1/sync`, {
      method: "POST", headers: { authorization: `Bearer ${apiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ environment: "dev", stack: "s0", by: "alice" }),
    });
    assert.equal(asked.status, 202);
    assert.equal((await asked.json() as { queued: number }).queued, 1);
    const manual = await until("the manual sync run by the owner", async () => (await rows()).find((r) => r.stack === "s0" && r.trigger.kind === "manual" && r.finishedAt !== undefined));
    assert.equal(manual.outcome, "succeeded");
    const byAgent = await pg.sql(`SELECT agent_id FROM syncs WHERE id = ${manual.id}`, new URL(url).pathname.slice(1));
    assert.equal(byAgent.rows[0]?.agent_id, ownerOfS0, "run by the owner, not by the agent that received it");

    const cli = await runCli(["status", "--state", url, "-o", "json"]);
    const parsed = JSON.parse(cli.stdout) as { stacks: { stack: string; lease?: { owner: string } }[]; agents: { id: string; live: boolean }[] };
    assert.equal(parsed.stacks.find((s) => s.stack === "s0")?.lease?.owner, ownerOfS0);
    assert.deepEqual(parsed.agents.map((a) => a.live), [true, true, true]);
  });

  it("takes the stacks of an agent killed with SIGKILL over within 20 s (15 s lease) and syncs them", async () => {
    const victim = agents.get("a3")!;
    const itsStacks = (await leases()).filter((l) => l.owner === "a3").map((l) => l.stack);
    assert.ok(itsStacks.length > 0);
    victim.child.kill("SIGKILL");
    await new Promise((r) => victim.child.once("exit", r));
    const killedAt = performance.now();
    const v3 = repo.commit(files("v3"), "v3");
    assert.equal((await push("a1", v3)).status, 202);
    await until("a3's stacks owned by live agents", async () => {
      const held = await leases();
      return itsStacks.every((s) => held.some((l) => l.stack === s && l.owner !== "a3"));
    }, 30_000);
    const tookMs = performance.now() - killedAt;
    assert.ok(tookMs < 20_000, `taken over in ${Math.round(tookMs)} ms`);
    await until("every stack synced at v3", syncedAt(v3), 60_000);
    assertOnceAndSerial(await rows(), v3);
  });

  it("fences out an owner paused (SIGSTOP) past its lease in the middle of a slow check: it writes nothing to the target or the history", async () => {
    await stopAll();
    for (const tag of ["a1", "a2", "a3"]) await start(tag, 3);
    await until("the stacks spread over the three agents", spread(3), 60_000);
    const paused = agents.get("a1")!;
    const stack = (await leases()).find((l) => l.owner === "a1" && l.stack !== "k")?.stack;
    assert.ok(stack !== undefined, "a1 owns a host stack");
    const conf = join(root(stack), "f.conf");
    const previous = readFileSync(conf, "utf8");
    // a1's check sleeps 2.5 s. Any other agent's check takes 3 s and fails while the block
    // stands: the new owner stays busy with the stack (so it keeps it), and changes nothing.
    writeFileSync(slow(), "");
    writeFileSync(block(), "a1");
    try {
      const before = commands().length;
      const v4 = repo.commit(files("v4", [stack]), "v4");
      assert.equal((await push("a1", v4)).status, 202);
      await until("a1 running the slow check of v4", () => commands().slice(before).some((c) => c.tag === "a1" && c.phase === "check" && c.root === root(stack)));
      paused.child.kill("SIGSTOP");
      const pausedAt = commands().length;
      const stale = await until("a1's sync of v4 recorded running", async () => (await rows()).find((r) => r.stack === stack && r.revision.sha === v4 && r.outcome === "running"));
      const taker = await until("another agent took the stack over", async () => {
        const o = await owner(stack);
        return o !== undefined && o !== "a1" ? o : undefined;
      }, 30_000);
      // a1's check ended while it was stopped; it held the root's lock meanwhile, so the new
      // owner's check starts only once a1's sync has given up: whatever a1 wrote, it wrote before that.
      paused.child.kill("SIGCONT");
      await until("the new owner's check of the stack started", () => commands().slice(pausedAt).some((c) => c.tag === taker && c.phase === "check" && c.root === root(stack)), 60_000);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(readFileSync(conf, "utf8"), previous, "the paused agent swapped nothing in after it woke");
      assert.deepEqual(commands().slice(pausedAt).filter((c) => c.tag === "a1"), [], "the paused agent ran no command (no reload) after it woke");
      const closed = await store.getSync(stale.id);
      assert.equal(closed?.outcome, "interrupted", "the paused agent's sync was closed by the takeover, not finished by it");
      assert.match(closed?.error ?? "", /took the stack over/);
      assert.equal((await store.listAudit({ limit: 1000 })).filter((e) => e.kind === "sync" && (e.details as { syncId?: string }).syncId === stale.id).length, 0, "nor audited");
      rmSync(block());
      await until("the stack synced at v4", syncedAt(v4, [stack]), 60_000);
      assert.equal(readFileSync(conf, "utf8"), `v4 of ${stack}\n`);
      assert.equal((await rows()).filter((r) => r.stack === stack && r.revision.sha === v4 && r.outcome === "succeeded").length, 1);
      const ordered = (await rows()).filter((r) => r.stack === stack).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
      for (let i = 1; i < ordered.length; i++) assert.ok((ordered[i - 1]!.finishedAt ?? "") <= ordered[i]!.startedAt, "no overlapping syncs");
    } finally {
      rmSync(slow(), { force: true });
      rmSync(block(), { force: true });
    }
  });

  it("converges after PostgreSQL restarts during syncs; the audit chain verifies", async () => {
    const v5 = repo.commit(files("v5"), "v5");
    assert.equal((await push("a2", v5)).status, 202);
    await until("a sync of v5 started", async () => (await rows()).some((r) => r.revision.sha === v5));
    await pg.restart({ downMs: 2000 });
    await until("every stack synced at v5", syncedAt(v5), 90_000);
    await until("no sync left running", async () => !(await rows()).some((r) => r.outcome === "running"), 30_000);
    for (const s of hostStacks) assert.equal(readFileSync(join(root(s), "f.conf"), "utf8"), `v5 of ${s}\n`);
    const verified = await runCli(["audit", "verify", "--state", url]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /audit log intact/);
    for (const a of agents.values()) assert.equal(a.child.exitCode, null, `agent ${a.tag} survived the restart`);
    const codes = [...agents.values()].map((a) => new Promise((r) => a.child.once("exit", (code) => r(code))));
    await stopAll();
    assert.deepEqual(await Promise.all(codes), [0, 0, 0], "every agent stops cleanly on SIGTERM");
  });
});
