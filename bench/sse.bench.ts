/**
 * The event stream benchmark (issue 14): the agent of bench/api-agent.ts (1,000 stack instances,
 * a new commit every `--commit-every` ms, so every commit makes 1,000 syncs and 2,000 `sync`
 * events) in its own process, and `--clients` clients of `GET /api/v1/events` in this one. For
 * each finished sync, the latency is from the sync's finish (the event's `at`, the store row's
 * finishedAt, set just before the event is published) to each client's receipt of the event.
 *
 *   node bench/sse.bench.ts [--clients 200] [--duration 30] [--commit-every 5000] [--src DIR]
 *
 * Target: < 1 s from a sync to every client receiving it.
 */
import { randomBytes } from "node:crypto";
import { get, type IncomingMessage } from "node:http";
import { mkdirSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startAgentChild } from "./api-load.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "200" },
    duration: { type: "string", default: "30" },
    environments: { type: "string", default: "4" },
    stacks: { type: "string", default: "250" },
    "commit-every": { type: "string", default: "5000" },
    work: { type: "string", default: resolve(import.meta.dirname, ".work/sse") },
    src: { type: "string" },
  },
});
const clients = Number(values.clients);
mkdirSync(values.work, { recursive: true });
const token = randomBytes(24).toString("base64url");
const loadBefore = loadavg()[0] ?? 0;

const agent = await startAgentChild({
  work: values.work, environments: Number(values.environments), stacks: Number(values.stacks),
  commitEveryMs: Number(values["commit-every"]), token, ...(values.src === undefined ? {} : { src: resolve(values.src) }),
});
process.stderr.write(`agent ready at ${agent.ready.url}; connecting ${String(clients)} clients\n`);

/** Per finished sync event id: when it finished, and each client's latency. */
const finished = new Map<string, { at: number; latencies: number[] }>();
let recording = false;
let ended = 0;
const streams: IncomingMessage[] = [];

function onFrame(frame: string, receivedAt: number): void {
  if (!recording) return;
  let id: string | undefined;
  let type: string | undefined;
  let data: string | undefined;
  for (const line of frame.split("\n")) {
    if (line.startsWith("id: ")) id = line.slice(4);
    else if (line.startsWith("event: ")) type = line.slice(7);
    else if (line.startsWith("data: ")) data = line.slice(6);
  }
  if (type !== "sync" || id === undefined || data === undefined) return;
  const event = JSON.parse(data) as { outcome: string; at: string };
  if (event.outcome === "running") return;
  let entry = finished.get(id);
  if (entry === undefined) {
    entry = { at: Date.parse(event.at), latencies: [] };
    finished.set(id, entry);
  }
  entry.latencies.push(receivedAt - entry.at);
}

function connect(): Promise<void> {
  return new Promise((resolveConnected, reject) => {
    const req = get(`${agent.ready.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, agent: false }, (res) => {
      if (res.statusCode !== 200) { reject(new Error(`events answered ${String(res.statusCode)}`)); return; }
      streams.push(res);
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk: string) => {
        const now = Date.now();
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          onFrame(buffer.slice(0, end), now);
          buffer = buffer.slice(end + 2);
        }
      });
      res.on("close", () => { if (recording) ended++; });
      resolveConnected();
    });
    req.on("error", reject);
  });
}

for (let i = 0; i < clients; i += 20) await Promise.all(Array.from({ length: Math.min(20, clients - i) }, () => connect()));
recording = true;
await new Promise((r) => setTimeout(r, Number(values.duration) * 1000));
recording = false;
for (const s of streams) s.destroy();
const stopped = await agent.stop();

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}
function line(name: string, xs: number[]): string {
  const s = xs.sort((a, b) => a - b);
  return `| ${name} | ${String(s.length)} | ${String(quantile(s, 0))} | ${String(quantile(s, 0.5))} | ${String(quantile(s, 0.99))} | ${String(s[s.length - 1] ?? Number.NaN)} | ${(s[s.length - 1] ?? Infinity) < 1000 ? "✅" : "❌"} |`;
}
// Events seen by only some clients at the end of the window are left out of "every client".
const complete = [...finished.values()].filter((e) => e.latencies.length === clients);
const partial = finished.size - complete.length;
const cpu = cpus();
process.stdout.write(`Machine: ${String(cpu.length)} × ${cpu[0]?.model ?? "?"}, ${String(Math.round(totalmem() / 2 ** 30))} GiB, Node ${process.version}, load (1 min) ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after\n`);
process.stdout.write(`${String(clients)} clients, ${values.duration} s, ${String(stopped.commits)} commits, ${String(finished.size)} finished syncs seen (${String(partial)} not by every client, e.g. at the window's end), ${String(ended)} streams ended by the agent\n\n`);
process.stdout.write("| Latency from a sync's finish (ms) | n | min | median | p99 | max | target < 1 s |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
process.stdout.write(`${line("to every client (per event, the slowest client)", complete.map((e) => Math.max(...e.latencies)))}\n`);
process.stdout.write(`${line("to one client (every delivery)", [...finished.values()].flatMap((e) => e.latencies))}\n`);
