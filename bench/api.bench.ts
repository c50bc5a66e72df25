/**
 * The web API benchmark (issue 14): an agent with 1,000 stack instances (4 environments × 250
 * stacks of host files, SQLite state) runs in its own process and syncs a new commit every few
 * seconds, while autocannon, in this process, loads read endpoints on 127.0.0.1 for `--duration`
 * seconds each, at each of `--connections`.
 *
 *   node bench/api.bench.ts [--environments 4] [--stacks 250] [--duration 10] [--connections 10,50]
 *                           [--commit-every 3000] [--paths /api/v1/status,/api/v1/history?limit=50,/api/v1/stacks]
 *                           [--src DIR]        # another copy of src/, e.g. HEAD's: see bench/api-agent.ts
 *                           [--accept-encoding "gzip, deflate, br"]   # as browsers send; "" for none
 *                           [--cpu-prof DIR]   # profiles the agent child; summarize with bench/profile-summary.ts
 *
 * Target: ≥ 2,000 requests/s with p99 < 50 ms on the 2-core machine. A path answering 404 (not
 * built yet) is reported as skipped.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { load, startAgentChild, type LoadResult } from "./api-load.ts";

const { values } = parseArgs({
  options: {
    environments: { type: "string", default: "4" },
    stacks: { type: "string", default: "250" },
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "10,50" },
    "commit-every": { type: "string", default: "3000" },
    paths: { type: "string", default: "/api/v1/status,/api/v1/history?limit=50,/api/v1/stacks" },
    work: { type: "string", default: resolve(import.meta.dirname, ".work/api") },
    "cpu-prof": { type: "string" },
    // What browsers and Node's fetch send; a server that does not compress ignores it.
    "accept-encoding": { type: "string", default: "gzip, deflate, br" },
    src: { type: "string" },
  },
});
const duration = Number(values.duration);
const connections = values.connections.split(",").map(Number);
const paths = values.paths.split(",");
mkdirSync(values.work, { recursive: true });
const token = randomBytes(24).toString("base64url");
const headers = { authorization: `Bearer ${token}`, ...(values["accept-encoding"] === "" ? {} : { "accept-encoding": values["accept-encoding"] }) };
const loadBefore = loadavg()[0] ?? 0;

const agent = await startAgentChild({
  work: values.work, environments: Number(values.environments), stacks: Number(values.stacks),
  commitEveryMs: Number(values["commit-every"]), token,
  ...(values.src === undefined ? {} : { src: resolve(values.src) }),
  ...(values["cpu-prof"] === undefined ? {} : { execArgv: ["--cpu-prof", "--cpu-prof-dir", values["cpu-prof"]] }),
});
process.stderr.write(`agent ready at ${agent.ready.url}: ${String(agent.ready.instances)} stacks synced in ${String(Math.round(agent.ready.syncedMs))} ms\n`);

interface Row { readonly path: string; readonly connections: number; readonly result?: LoadResult; readonly bytes?: number; readonly wire?: number; readonly skipped?: string }
const rows: Row[] = [];
try {
  for (const path of paths) {
    const url = `${agent.ready.url}${path}`;
    const probe = await fetch(url, { headers });
    const body = await probe.arrayBuffer();
    if (probe.status !== 200) {
      rows.push({ path, connections: 0, skipped: `answers ${String(probe.status)}` });
      continue;
    }
    // A short warm-up, not recorded: JIT and the first store reads.
    await load({ url, connections: 10, duration: 1, headers });
    for (const c of connections) {
      const result = await load({ url, connections: c, duration, headers });
      rows.push({ path, connections: c, result, bytes: body.byteLength, wire: result.requests.total === 0 ? 0 : result.throughput.total / result.requests.total });
      process.stderr.write(`${path} × ${String(c)}: ${String(Math.round(result.requests.average))} req/s, p99 ${String(result.latency.p99)} ms\n`);
    }
  }
} finally {
  const stopped = await agent.stop();
  process.stderr.write(`agent stopped: ${String(stopped.commits)} commits made while measured, ${String(stopped.syncs - agent.ready.instances)} stack syncs after the initial ones\n`);
  rows.push({ path: `(agent: ${String(stopped.commits)} commits, ${String(stopped.syncs - agent.ready.instances)} syncs while measured)`, connections: 0, skipped: "" });
}

const cpu = cpus();
process.stdout.write(`Machine: ${String(cpu.length)} × ${cpu[0]?.model ?? "?"}, ${String(Math.round(totalmem() / 2 ** 30))} GiB, Node ${process.version}, load (1 min) ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after\n\n`);
process.stdout.write("| Endpoint | connections | requests/s (mean) | p50 ms | p99 ms | max ms | non-2xx | errors | body bytes | bytes on the wire | target ≥ 2,000/s, p99 < 50 ms |\n");
process.stdout.write("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
for (const r of rows) {
  if (r.result === undefined) {
    process.stdout.write(`| ${r.path} | | | | | | | | | | ${r.skipped ?? ""} |\n`);
    continue;
  }
  const x = r.result;
  const ok = x.requests.average >= 2000 && x.latency.p99 < 50 && x.non2xx === 0 && x.errors === 0;
  process.stdout.write(`| \`GET ${r.path}\` | ${String(r.connections)} | ${String(Math.round(x.requests.average))} | ${String(x.latency.p50)} | ${String(x.latency.p99)} | ${String(x.latency.max)} | ${String(x.non2xx)} | ${String(x.errors + x.timeouts)} | ${String(r.bytes ?? "")} | ${String(Math.round(r.wire ?? 0))} | ${ok ? "✅" : "❌"} |\n`);
}
