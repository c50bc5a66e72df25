/**
 * The agent benchmark: one agent serving 1,000 stacks of one small object each (half host
 * files, half ConfigMaps in the fake Kubernetes API server, run in its own process): time
 * from start to every stack synced, then a full no-op reconcile cycle (a drift check of every
 * stack, finding nothing), and the agent's peak resident memory.
 *
 *   node bench/agent.bench.ts [--stacks 1000] [--concurrency 8] [--reps 3] [--work bench/.work/agent]
 *   node --max-semi-space-size=2 bench/agent.bench.ts ...   # the memory setting docs/agent.md recommends
 *
 * GITWARD_BENCH_HEAP=1 with --expose-gc prints the heap after the no-op cycle, before and after a full GC.
 *
 * Targets (issue #6): all synced in under 60 s, a no-op cycle under 2 s, memory under 300 MB.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { agentConfigSchema } from "../src/agent/config.ts";
import { agentLogger } from "../src/agent/logger.ts";
import { runAgent } from "../src/agent/run.ts";
import { createNamespace, RawApi, startFakeCluster } from "./apply-cluster.ts";
import { markdownTable, summarize, type ResultRow } from "./stats.ts";

const { values } = parseArgs({
  options: {
    stacks: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "8" },
    reps: { type: "string", default: "3" },
    work: { type: "string", default: resolve(import.meta.dirname, ".work/agent") },
    rep: { type: "string" },
  },
});
const stacks = Number(values.stacks);
const concurrency = Number(values.concurrency);
const reps = Number(values.reps);
const work = values.work;
const resultPrefix = "GITWARD_AGENT_BENCH_RESULT ";

function generateRepo(dir: string, root: string, namespace: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const lines = [`version: 1
environments:
  bench:
    targets:
      host: { provider: host, root: ${root} }
      cluster: { provider: kubernetes }
    sync: { auto: true, prune: true, selfHeal: true }
stacks:`];
  for (let i = 0; i < stacks; i++) {
    const host = i % 2 === 0;
    const name = `s${String(i).padStart(4, "0")}`;
    lines.push(`  ${name}: { target: ${host ? "host" : "cluster"}, path: stacks/${name}${host ? "" : `, namespace: ${namespace}`} }`);
    mkdirSync(join(dir, "stacks", name), { recursive: true });
    writeFileSync(join(dir, "stacks", name, "object.yaml"), host
      ? `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: ${name} }\nspec: { path: "${name}.conf", content: "stack ${i}\\n" }\n`
      : `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name} }\ndata: { stack: "${i}" }\n`);
  }
  writeFileSync(join(dir, "gitward.yaml"), lines.join("\n") + "\n");
  const env = { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };
  for (const args of [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "bench"]]) execFileSync("git", args, { cwd: dir, env, stdio: "ignore" });
}

mkdirSync(work, { recursive: true });
const samples = { synced: [] as number[], cycle: [] as number[], rss: [] as number[] };
if (values.rep !== undefined) {
  process.stdout.write(`${resultPrefix}${JSON.stringify(await oneRep(Number(values.rep)))}\n`);
  process.exit(0);
}
// Each repetition is a fresh process, so its peak memory is one agent's.
for (let r = 0; r < reps; r++) {
  const out = execFileSync(process.execPath, [...process.execArgv, import.meta.filename, "--rep", String(r), "--stacks", String(stacks), "--concurrency", String(concurrency), "--work", work], {
    encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 1024 * 1024,
  });
  const line = out.split("\n").find((l) => l.startsWith(resultPrefix));
  if (line === undefined) throw new Error(`repetition ${r} printed no result`);
  const rep = JSON.parse(line.slice(resultPrefix.length)) as { synced: number; cycle: number; rss: number };
  samples.synced.push(rep.synced);
  samples.cycle.push(rep.cycle);
  samples.rss.push(rep.rss);
  process.stderr.write(`rep ${r + 1}: synced ${Math.round(rep.synced)} ms, no-op cycle ${Math.round(rep.cycle)} ms, peak RSS ${Math.round(rep.rss)} MiB\n`);
}

async function oneRep(r: number): Promise<{ synced: number; cycle: number; rss: number }> {
  mkdirSync(join(work, `cluster-${r}`), { recursive: true });
  const cluster = await startFakeCluster(join(work, `cluster-${r}`));
  const api = await RawApi.connect(cluster, 8);
  try {
    const namespace = `agent-bench-${r}-${process.pid}`;
    await createNamespace(api, namespace);
    const root = join(work, `root-${r}`);
    const repo = join(work, `repo-${r}`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    generateRepo(repo, root, namespace);
    rmSync(join(work, `state-${r}.db`), { force: true });
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    const t0 = performance.now();
    const running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(work, `cache-${r}`), concurrency,
        intervals: { poll: 3600, drift: 3600 },
        targets: { cluster: { kubeconfig: cluster.kubeconfig, context: cluster.context } },
      }),
      repo, state: `sqlite:${join(work, `state-${r}.db`)}`, listen: "127.0.0.1:0", healthTimeoutSeconds: 60,
      logger: agentLogger({ level: "warn", pretty: false }),
    });
    await running.agent.idle();
    const synced = performance.now() - t0;
    const status = await running.agent.status();
    const ok = status.environments.flatMap((e) => e.stacks).filter((s) => s.lastSync?.outcome === "succeeded").length;
    if (ok !== stacks) throw new Error(`only ${ok} of ${stacks} stacks synced`);
    const t1 = performance.now();
    await running.agent.checkDrift();
    await running.agent.idle();
    const cycle = performance.now() - t1;
    if (process.env["GITWARD_BENCH_HEAP"] !== undefined) {
      const before = process.memoryUsage();
      (globalThis as { gc?: () => void }).gc?.();
      const afterGc = process.memoryUsage();
      process.stderr.write(`heap used ${Math.round(before.heapUsed / 2 ** 20)} MiB (after GC ${Math.round(afterGc.heapUsed / 2 ** 20)}), heap total ${Math.round(before.heapTotal / 2 ** 20)}, external ${Math.round(before.external / 2 ** 20)}, array buffers ${Math.round(before.arrayBuffers / 2 ** 20)}, rss ${Math.round(afterGc.rss / 2 ** 20)} MiB\n`);
    }
    const after = await running.agent.status();
    const drifted = after.environments.flatMap((e) => e.stacks).filter((s) => s.drift > 0).length;
    if (drifted !== 0) throw new Error(`${drifted} stacks drifted in a no-op cycle`);
    clearInterval(sampler);
    await running.stop();
    return { synced, cycle, rss: peak / 2 ** 20 };
  } finally {
    await cluster.close();
  }
}

const rss = summarize(samples.rss);
const rows: ResultRow[] = [
  { run: `${stacks} stacks (½ host, ½ fake Kubernetes), concurrency ${concurrency}`, measured: "agent start → all synced", ms: summarize(samples.synced), targetMs: 60_000, objects: stacks, peakRssMiB: rss.max },
  { run: `${stacks} stacks, in sync`, measured: "full no-op reconcile cycle (drift check of every stack)", ms: summarize(samples.cycle), targetMs: 2000, objects: stacks },
];
process.stdout.write(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${loadavg()[0]?.toFixed(2) ?? "?"}\n\n`);
process.stdout.write(markdownTable(rows));
process.stdout.write(`\nPeak resident memory of the agent process (the fake API server runs in its own): median ${Math.round(rss.median)} MiB, max ${Math.round(rss.max)} MiB (target < 300 MB).\n`);
