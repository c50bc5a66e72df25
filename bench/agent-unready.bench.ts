/**
 * One unready workload must not stall the agent (issue #11, part 5): 1,000 stacks, each a
 * Deployment whose pods never become ready, a Service and a ConfigMap, in the fake Kubernetes
 * API server (its own process; Deployments stay unavailable, as on a cluster without kubelet or
 * with a bad image). Measured: agent start → every stack applied; then → every stack's health
 * recorded as timed out. Health is followed in the background, so workers are not held.
 *
 *   node --max-semi-space-size=2 bench/agent-unready.bench.ts [--stacks 1000] [--concurrency 4] [--timeout 30] [--reps 1]
 *
 * Target: all applied in under 60 s, health shown progressing and then timed out.
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
import type { AgentStatus } from "../src/agent/status.ts";
import { createNamespace, RawApi, startFakeCluster } from "./apply-cluster.ts";
import { markdownTable, summarize, type ResultRow } from "./stats.ts";

const { values } = parseArgs({
  options: {
    stacks: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "4" },
    timeout: { type: "string", default: "30" },
    reps: { type: "string", default: "1" },
    work: { type: "string", default: resolve(import.meta.dirname, ".work/agent-unready") },
  },
});
const stacks = Number(values.stacks);
const concurrency = Number(values.concurrency);
const timeoutSeconds = Number(values.timeout);
const reps = Number(values.reps);
const work = values.work;

function generateRepo(dir: string, namespace: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const lines = [`version: 1
environments:
  bench:
    targets:
      cluster: { provider: kubernetes }
    sync: { auto: true, prune: true }
stacks:`];
  for (let i = 0; i < stacks; i++) {
    const name = `s${String(i).padStart(4, "0")}`;
    lines.push(`  ${name}: { target: cluster, path: stacks/${name}, namespace: ${namespace} }`);
    mkdirSync(join(dir, "stacks", name), { recursive: true });
    writeFileSync(join(dir, "stacks", name, "objects.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: app
          image: registry.example/never-starts:1.0
          resources: { requests: { cpu: 100m, memory: 64Mi } }
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: ${name} }
data: { stack: "${i}" }
`);
  }
  writeFileSync(join(dir, "gitward.yaml"), lines.join("\n") + "\n");
  const env = { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };
  for (const args of [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "bench"]]) execFileSync("git", args, { cwd: dir, env, stdio: "ignore" });
}

function healthCounts(status: AgentStatus): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of status.environments.flatMap((e) => e.stacks)) {
    const k = s.health?.state ?? (s.lastSync?.outcome === "succeeded" ? "not followed" : s.lastSync?.outcome ?? "not synced");
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

async function oneRep(r: number): Promise<{ applied: number; settled: number; atApplied: Record<string, number>; atEnd: Record<string, number> }> {
  mkdirSync(join(work, `cluster-${r}`), { recursive: true });
  const cluster = await startFakeCluster(join(work, `cluster-${r}`));
  const api = await RawApi.connect(cluster, 8);
  try {
    const namespace = `unready-${r}-${process.pid}`;
    await createNamespace(api, namespace);
    const repo = join(work, `repo-${r}`);
    generateRepo(repo, namespace);
    rmSync(join(work, `state-${r}.db`), { force: true });
    const t0 = performance.now();
    const running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(work, `cache-${r}`), concurrency, healthTimeout: timeoutSeconds,
        intervals: { poll: 3600, drift: 3600, health: 5 },
        targets: { cluster: { kubeconfig: cluster.kubeconfig, context: cluster.context } },
      }),
      repo, state: `sqlite:${join(work, `state-${r}.db`)}`, listen: "127.0.0.1:0",
      logger: agentLogger({ level: "error", pretty: false }),
    });
    await running.agent.idle();
    const applied = performance.now() - t0;
    const atApplied = healthCounts(await running.agent.status());
    if ((atApplied["progressing"] ?? 0) + (atApplied["timed-out"] ?? 0) !== stacks) throw new Error(`not every stack applied and followed: ${JSON.stringify(atApplied)}`);
    let atEnd = atApplied;
    const deadline = performance.now() + (timeoutSeconds + 60) * 1000;
    while ((atEnd["timed-out"] ?? 0) < stacks && performance.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500));
      atEnd = healthCounts(await running.agent.status());
    }
    const settled = performance.now() - t0;
    await running.stop();
    return { applied, settled, atApplied, atEnd };
  } finally {
    await cluster.close();
  }
}

mkdirSync(work, { recursive: true });
const applied: number[] = [];
const settled: number[] = [];
for (let r = 0; r < reps; r++) {
  const rep = await oneRep(r);
  applied.push(rep.applied);
  settled.push(rep.settled);
  process.stderr.write(`rep ${r + 1}: all applied ${Math.round(rep.applied)} ms (health then: ${JSON.stringify(rep.atApplied)}), all settled ${Math.round(rep.settled)} ms (${JSON.stringify(rep.atEnd)})\n`);
}
const rows: ResultRow[] = [
  { run: `${stacks} stacks (Deployment that never becomes ready, Service, ConfigMap), concurrency ${concurrency}`, measured: "agent start → every stack applied", ms: summarize(applied), targetMs: 60_000, objects: stacks * 3 },
  { run: `same, health timeout ${timeoutSeconds} s`, measured: "agent start → every stack's health recorded timed out", ms: summarize(settled), objects: stacks * 3 },
];
process.stdout.write(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${loadavg()[0]?.toFixed(2) ?? "?"}\n\n`);
process.stdout.write(markdownTable(rows));
