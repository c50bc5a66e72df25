/**
 * Several agents on one PostgreSQL (issue 17): A agent processes (default 3) serve N stacks
 * (default 3,000: half host Files in roots every agent shares, half ConfigMaps in one fake
 * Kubernetes API server in its own process) with `--state postgres://…` on one local
 * PostgreSQL (fsync on). Measured, all from outside the agents (the database, read directly):
 *
 * - agents' start → every stack has a succeeded sync at HEAD; no stack synced twice at that
 *   revision, no two syncs of a stack overlapping; the history rows written per second;
 * - `kill -9` of one agent, its objects deleted at once → all its stacks leased by the others
 *   (takeover), and → each synced again (self-heal); then a commit changing those stacks → every
 *   stack synced at it by the agents left;
 * - for comparison, one agent on SQLite and one on PostgreSQL for 1,000 stacks of the same shape;
 * - the store's own capacity from bench/state-store.bench.ts.
 *
 *   node bench/agents-ha.bench.ts [--stacks 3000] [--agents 3] [--single-stacks 1000] [--lease 15]
 *     [--concurrency 8] [--poll 2] [--stacks-per-root 50] [--scenarios ha,sqlite,postgres,store]
 *     [--cpu-prof-dir DIR]   # CPU profile of agent a1 (written when it stops)
 *     [--statements]         # count the statements of the cold sync (PostgreSQL logs them all: slower)
 *     [--src DIR]            # run the agents from another version's src/ (an ancestor must hold package.json and node_modules, a symlink will do)
 *
 * Targets: all synced from cold < 60 s, takeover < 20 s, ≥ 1,000 history records/s.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { startPostgres, type TestPostgres } from "../test/support/postgres.ts";
import { commitVersion, generateHaRepo, haEnvironment, hasExited, hostFilePath, isHostStack, stackName, startAgent, stopAgent, type AgentProcess } from "./agents-ha-fixture.ts";
import { cpuSnapshot, describeCpu, pgCounters, postmasterPid } from "./agents-ha-cpu.ts";
import { countStatements, logStatements, type StatementLog } from "./agents-ha-statements.ts";
import { checkSyncs, openProbe, syncSpan, type StateProbe, type SyncCheck } from "./agents-ha-probe.ts";
import { createNamespace, deleteObject, RawApi, startFakeCluster, type BenchCluster } from "./apply-cluster.ts";

const { values } = parseArgs({
  options: {
    stacks: { type: "string", default: "3000" },
    agents: { type: "string", default: "3" },
    "single-stacks": { type: "string", default: "1000" },
    lease: { type: "string", default: "15" },
    concurrency: { type: "string", default: "8" },
    poll: { type: "string", default: "2" },
    "stacks-per-root": { type: "string", default: "50" },
    scenarios: { type: "string", default: "ha,sqlite,postgres,store" },
    "timeout-seconds": { type: "string", default: "300" },
    "cpu-prof-dir": { type: "string" },
    statements: { type: "boolean", default: false },
    src: { type: "string" },
    work: { type: "string", default: resolve(import.meta.dirname, ".work/agents-ha") },
  },
});
const opts = {
  stacks: Number(values.stacks), agents: Number(values.agents), singleStacks: Number(values["single-stacks"]),
  lease: Number(values.lease), concurrency: Number(values.concurrency), poll: Number(values.poll),
  stacksPerRoot: Number(values["stacks-per-root"]), timeoutMs: Number(values["timeout-seconds"]) * 1000,
  scenarios: new Set(values.scenarios.split(",")), work: values.work,
};

/** One line of the results table. */
interface Line {
  readonly scenario: string;
  readonly measured: string;
  readonly value: string;
  readonly target?: string;
}
const lines: Line[] = [];
const notes: string[] = [];

function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function load(): string {
  return (loadavg()[0] ?? 0).toFixed(2);
}

/** Polls `probe` every `everyMs` until it returns a value, or throws after `timeoutMs` with `what`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`${what}: not reached within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until no sync is running and the row count held still for two polls a second apart. */
async function settle(probe: StateProbe): Promise<void> {
  let last = -1;
  await until("the agents idle", async () => {
    const rows = await probe.syncs(haEnvironment);
    const quiet = rows.length === last && !rows.some((r) => r.outcome === "running");
    last = rows.length;
    return quiet ? true : undefined;
  }, 120_000, 1000);
}

function ms(v: number): string {
  return `${Math.round(v).toLocaleString("en-US")} ms`;
}

function verdict(value: number, limit: number, below: boolean): string {
  return `${below ? "<" : "≥"} ${limit.toLocaleString("en-US")} ${(below ? value < limit : value >= limit) ? "✅" : "❌"}`;
}

function describeCheck(c: SyncCheck): string {
  const fmt = (r: Readonly<Record<string, number>>): string => Object.entries(r).map(([k, n]) => `${k} ${n}`).join(", ");
  return `duplicates ${c.duplicates.length}, overlaps ${c.overlaps.length}; rows by outcome: ${fmt(c.outcomes)}; by trigger: ${fmt(c.triggers)}`;
}

/** What {@link prepare} made for a scenario. */
interface Prepared {
  readonly cluster: BenchCluster;
  readonly repo: string;
  readonly sha: string;
  readonly namespace: string;
  readonly rootsDir: string;
  readonly stacks: number;
}

/** A fresh fake API server, namespace and repository for one scenario. */
async function prepare(name: string, stacks: number): Promise<Prepared> {
  const dir = join(opts.work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const cluster = await startFakeCluster(dir);
  const api = await RawApi.connect(cluster, 4);
  const namespace = `ha-${name}`;
  await createNamespace(api, namespace);
  api.close();
  const repo = join(dir, "repo");
  const rootsDir = join(dir, "roots");
  const sha = generateHaRepo({ dir: repo, stacks, stacksPerRoot: opts.stacksPerRoot, rootsDir, namespace });
  return { cluster, repo, sha, namespace, rootsDir, stacks };
}

async function startAgents(name: string, count: number, repo: string, state: string, cluster: BenchCluster, leased: boolean): Promise<AgentProcess[]> {
  const started: AgentProcess[] = [];
  for (let a = 1; a <= count; a++) {
    const tag = `a${a}`;
    const prof = a === 1 && values["cpu-prof-dir"] !== undefined ? ["--cpu-prof", "--cpu-prof-dir", resolve(values["cpu-prof-dir"], name)] : [];
    started.push(await startAgent({
      tag, repo, state, work: join(opts.work, name), concurrency: opts.concurrency, pollSeconds: opts.poll,
      ...(leased ? { leaseSeconds: opts.lease } : {}), kubeconfig: cluster.kubeconfig, context: cluster.context, nodeArgs: prof,
      ...(values.src === undefined ? {} : { srcDir: resolve(values.src) }),
    }));
  }
  return started;
}

/** Agents' start → every stack synced at `sha`; fails loudly when an agent dies first. */
async function coldSync(probe: StateProbe, agents: readonly AgentProcess[], stacks: number, sha: string, t0: number): Promise<number> {
  let seen = 0;
  await until(`all ${stacks} stacks synced`, async () => {
    const dead = agents.find(hasExited);
    if (dead !== undefined) throw new Error(`agent ${dead.tag} exited (${String(dead.child.exitCode ?? dead.child.signalCode)}); its log: ${readFileSync(dead.log, "utf8").slice(-2000)}`);
    const n = (await probe.syncedAt(haEnvironment, sha)).size;
    if (n >= seen + stacks / 10) {
      seen = n;
      log(`${n}/${stacks} synced after ${ms(performance.now() - t0)}`);
    }
    return n === stacks ? true : undefined;
  }, opts.timeoutMs);
  return performance.now() - t0;
}

async function haScenario(pgServer: TestPostgres): Promise<void> {
  const name = "ha";
  const prepared = await prepare(name, opts.stacks);
  const { cluster, repo, sha } = prepared;
  const url = await pgServer.createDatabase(`gitward_bench_ha_${process.pid}`);
  const db = new URL(url).pathname.slice(1);
  const probe = await openProbe(url);
  const scenario = `${opts.agents} agents, ${opts.stacks.toLocaleString("en-US")} stacks, PostgreSQL`;
  let agents: AgentProcess[] = [];
  try {
    log(`${scenario}: starting (load ${load()})`);
    const statementLog: StatementLog | undefined = values.statements ? await logStatements(pgServer, db) : undefined;
    const before = await pgCounters(pgServer, db);
    const pgPid = await postmasterPid(pgServer);
    const cpu0 = cpuSnapshot([], pgPid);
    const t0 = performance.now();
    agents = await startAgents(name, opts.agents, repo, url, cluster, true);
    const cold = await coldSync(probe, agents, opts.stacks, sha, t0);
    const cpu1 = cpuSnapshot(agents, pgPid);
    const counters = await pgCounters(pgServer, db);
    lines.push({ scenario, measured: "CPU time from the start to all synced", value: describeCpu({ ...cpu0, agents: agents.map(() => 0) }, cpu1, cold) });
    if (statementLog !== undefined) {
      const counted = countStatements(statementLog);
      const total = counted.reduce((n, [, c]) => n + c, 0);
      notes.push(`Statements sent during the cold sync of ${opts.stacks} stacks (statement logging on, so the times above are slower): ${total}, ${(total / opts.stacks).toFixed(1)} per stack\n\n| statement (start) | count | per stack |\n| --- | ---: | ---: |\n${
        counted.slice(0, 20).map(([sql, n]) => `| \`${sql.replace(/\|/g, "\\|")}\` | ${n} | ${(n / opts.stacks).toFixed(2)} |`).join("\n")}`);
    }
    lines.push({ scenario, measured: "agents' start → every stack synced at HEAD", value: ms(cold), target: verdict(cold, 60_000, true) });
    const spread = await until("the stacks spread over every agent", async () => {
      const held = (await probe.leases()).filter((l) => l.valid);
      const owners = new Map<string, number>();
      for (const l of held) owners.set(l.owner, (owners.get(l.owner) ?? 0) + 1);
      return held.length === opts.stacks && owners.size === opts.agents ? owners : undefined;
    }, 60_000, 500);
    await settle(probe);
    const rows = await probe.syncs(haEnvironment);
    const check = checkSyncs(rows, sha);
    const span = syncSpan(rows);
    const byAgent = new Map<string, number>();
    for (const r of rows) byAgent.set(r.agent ?? "?", (byAgent.get(r.agent ?? "?") ?? 0) + 1);
    lines.push({ scenario, measured: "checks after the cold sync", value: describeCheck(check), target: check.duplicates.length + check.overlaps.length === 0 ? "none ✅" : "none ❌" });
    lines.push({ scenario, measured: "leases held / sync rows written, per agent", value: [...spread].sort().map(([a, n]) => `${a} ${n} / ${byAgent.get(a) ?? 0}`).join(", ") });
    const rate = span.rows / (span.ms / 1000);
    // What the syncs asked of the store, not what it can take: that is the store benchmark's row.
    lines.push({ scenario, measured: "history records/s written during the cold sync (rows / first start → last finish)", value: `${rate.toFixed(0)} (${span.rows} rows in ${ms(span.ms)})` });
    lines.push({ scenario, measured: "PostgreSQL during the cold sync (pg_stat_database)", value: `${counters.xacts - before.xacts} transactions (${((counters.xacts - before.xacts) / (cold / 1000)).toFixed(0)}/s), ${counters.inserted - before.inserted} rows inserted, ${counters.updated - before.updated} updated` });
    log(`${scenario}: cold ${ms(cold)}; ${describeCheck(check)}`);

    await takeover({ scenario, probe, agents, prepared, sha });
  } finally {
    for (const a of agents) await stopAgent(a, "SIGTERM");
    await probe.close();
    await cluster.close();
  }
}

/** What the takeover phase needs from the cold sync. */
interface TakeoverInput {
  readonly scenario: string;
  readonly probe: StateProbe;
  readonly agents: readonly AgentProcess[];
  readonly prepared: Prepared;
  readonly sha: string;
}

/** Deletes each stack's object out of band: host files from their roots, ConfigMaps from the API server. */
async function removeObjects(p: Prepared, indexes: readonly number[]): Promise<void> {
  const api = await RawApi.connect(p.cluster, 8);
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < indexes.length) {
        const i = indexes[next++] as number;
        if (isHostStack(i)) rmSync(hostFilePath({ stacks: p.stacks, stacksPerRoot: opts.stacksPerRoot, rootsDir: p.rootsDir }, i));
        else await deleteObject(api, `/api/v1/namespaces/${p.namespace}/configmaps/${stackName(i)}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    api.close();
  }
}

/**
 * `kill -9` of the last agent, and its objects deleted out of band at once, so that each of its
 * stacks needs a sync after the takeover (a self-heal) and nothing else does: the time until its
 * stacks are leased by the others, and until each was synced again. Then a commit changing those
 * stacks: the time until every stack is synced at it by the agents left.
 */
async function takeover(input: TakeoverInput): Promise<void> {
  const { scenario, probe, agents, prepared } = input;
  const victim = agents[agents.length - 1];
  if (victim === undefined || agents.length < 2) return;
  const itsStacks = (await probe.leases()).filter((l) => l.valid && l.owner === victim.tag).map((l) => l.stack);
  const indexes = itsStacks.map((s) => Number(s.slice(1)));
  const mine = new Set(itsStacks);
  await stopAgent(victim, "SIGKILL");
  const killedAt = performance.now();
  const killedIso = new Date().toISOString();
  await removeObjects(prepared, indexes);
  log(`killed ${victim.tag} (${itsStacks.length} stacks) and deleted its objects in ${ms(performance.now() - killedAt)}`);
  const taken = await until("the victim's stacks leased by live agents", async () => {
    const held = (await probe.leases()).filter((l) => l.valid && l.owner !== victim.tag && mine.has(l.stack));
    return held.length === mine.size ? performance.now() - killedAt : undefined;
  }, 120_000, 100);
  const healed = await until("the victim's stacks synced again", async () => {
    const again = new Set((await probe.syncs(haEnvironment)).filter((r) => r.outcome === "succeeded" && r.startedAt >= killedIso).map((r) => r.stack));
    return itsStacks.every((s) => again.has(s)) ? performance.now() - killedAt : undefined;
  }, opts.timeoutMs, 250);
  await settle(probe);
  const afterKill = (await probe.syncs(haEnvironment)).filter((r) => r.startedAt >= killedIso);
  const healCheck = checkSyncs(await probe.syncs(haEnvironment), input.sha);
  const others = afterKill.filter((r) => !mine.has(r.stack)).length;
  lines.push({ scenario, measured: `kill -9 of ${victim.tag} (${itsStacks.length} stacks, lease ${opts.lease} s) → all its stacks leased by the others`, value: ms(taken), target: verdict(taken, 20_000, true) });
  lines.push({ scenario, measured: "kill -9 → each of its stacks synced again (its objects were deleted: a self-heal after the takeover's check)", value: `${ms(healed)} (${afterKill.length} syncs after the kill, ${others} of other stacks)` });
  lines.push({ scenario, measured: "checks after the takeover", value: describeCheck(healCheck), target: healCheck.duplicates.length + healCheck.overlaps.length === 0 ? "none ✅" : "none ❌" });
  log(`${scenario}: takeover ${ms(taken)}, healed ${ms(healed)}; ${describeCheck(healCheck)}`);

  const t0 = performance.now();
  const v2 = commitVersion(prepared.repo, indexes, "v2");
  const live = agents.filter((a) => a !== victim);
  const all = await until(`all stacks synced at v2 by ${live.length} agents`, async () => ((await probe.syncedAt(haEnvironment, v2)).size === prepared.stacks ? performance.now() - t0 : undefined), opts.timeoutMs, 250);
  await settle(probe);
  const v2Check = checkSyncs(await probe.syncs(haEnvironment), v2);
  lines.push({ scenario, measured: `then a commit changing its ${itsStacks.length} stacks → every stack synced at it by the ${live.length} agents left (poll ${opts.poll} s)`, value: ms(all) });
  lines.push({ scenario, measured: "checks at that commit", value: describeCheck(v2Check), target: v2Check.duplicates.length + v2Check.overlaps.length === 0 ? "none ✅" : "none ❌" });
  log(`${scenario}: commit → all at v2 ${ms(all)}; ${describeCheck(v2Check)}`);
}

async function singleScenario(kind: "sqlite" | "postgres", pgServer: TestPostgres | undefined): Promise<void> {
  const name = `single-${kind}`;
  const { cluster, repo, sha } = await prepare(name, opts.singleStacks);
  const state = kind === "sqlite" ? `sqlite:${join(opts.work, name, "state.db")}` : await (pgServer as TestPostgres).createDatabase(`gitward_bench_single_${process.pid}`);
  const probe = await openProbe(state);
  const scenario = `1 agent, ${opts.singleStacks.toLocaleString("en-US")} stacks, ${kind === "sqlite" ? "SQLite" : "PostgreSQL"}`;
  let agents: AgentProcess[] = [];
  try {
    log(`${scenario}: starting (load ${load()})`);
    const pgPid = kind === "postgres" ? await postmasterPid(pgServer) : undefined;
    const cpu0 = cpuSnapshot([], pgPid);
    const t0 = performance.now();
    agents = await startAgents(name, 1, repo, state, cluster, kind === "postgres");
    const cold = await coldSync(probe, agents, opts.singleStacks, sha, t0);
    const cpu1 = cpuSnapshot(agents, pgPid);
    await settle(probe);
    const rows = await probe.syncs(haEnvironment);
    const check = checkSyncs(rows, sha);
    const span = syncSpan(rows);
    lines.push({ scenario, measured: "agent's start → every stack synced at HEAD", value: ms(cold), target: verdict(cold, 60_000, true) });
    lines.push({ scenario, measured: "CPU time from the start to all synced", value: describeCpu({ ...cpu0, agents: [0] }, cpu1, cold) });
    lines.push({ scenario, measured: "history records/s during the cold sync; checks", value: `${(span.rows / (span.ms / 1000)).toFixed(0)} (${span.rows} rows in ${ms(span.ms)}); ${describeCheck(check)}` });
    log(`${scenario}: cold ${ms(cold)}; ${describeCheck(check)}`);
  } finally {
    for (const a of agents) await stopAgent(a, "SIGTERM");
    await probe.close();
    await cluster.close();
  }
}

/** Runs bench/state-store.bench.ts in its own process and returns its table. */
function storeBench(): Promise<string> {
  return new Promise((resolveOut, reject) => {
    execFile(process.execPath, [join(import.meta.dirname, "state-store.bench.ts")], { encoding: "utf8", timeout: 900_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`bench/state-store.bench.ts failed: ${stderr.trim() || error.message}`));
      else resolveOut(stdout.trim());
    });
  });
}

async function main(): Promise<void> {
  mkdirSync(opts.work, { recursive: true });
  const machine = `${availableParallelism()} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const loadBefore = load();
  const needPg = opts.scenarios.has("ha") || opts.scenarios.has("postgres");
  const pgServer = needPg ? await startPostgres({ durable: true }) : undefined;
  try {
    if (opts.scenarios.has("sqlite")) await singleScenario("sqlite", undefined);
    if (opts.scenarios.has("postgres")) await singleScenario("postgres", pgServer);
    if (opts.scenarios.has("ha") && pgServer !== undefined) await haScenario(pgServer);
  } finally {
    await pgServer?.stop();
  }
  if (opts.scenarios.has("store")) {
    log("bench/state-store.bench.ts (load " + load() + ")");
    notes.push(`bench/state-store.bench.ts (load ${load()} at its start):\n\n${await storeBench()}`);
  }
  process.stdout.write(`Machine: ${machine}; load (1 min) ${loadBefore} before, ${load()} after. Agents: concurrency ${opts.concurrency}, poll ${opts.poll} s, ${opts.stacksPerRoot} host stacks per root; PostgreSQL 15 local, fsync on.\n\n`);
  process.stdout.write("| Run | Measured | Figure | Target |\n| --- | --- | --- | --- |\n");
  for (const l of lines) process.stdout.write(`| ${l.scenario} | ${l.measured} | ${l.value} | ${l.target ?? ""} |\n`);
  for (const n of notes) process.stdout.write(`\n${n}\n`);
}

await main();
