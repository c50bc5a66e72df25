/**
 * State store write throughput (issue 17): history records per second, a record being one
 * beginSync + finishSync pair, on SQLite and on PostgreSQL (a local cluster with fsync on, as
 * test/support/postgres.ts starts it), from one process and from three writing at once. Each
 * process runs `--concurrency` writers, as an agent syncs several stacks at once.
 *
 *   node bench/state-store.bench.ts [--records 2000] [--concurrency 4]
 *
 * Target: ≥ 1,000 history records/s on PostgreSQL.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { openStore } from "../src/store/open.ts";
import { startPostgres } from "../test/support/postgres.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "4" },
    worker: { type: "string" },
  },
});
const records = Number(values.records);
const concurrency = Number(values.concurrency);

/** One process's share: opens the store, then writes `records` begin+finish pairs with `concurrency` writers. */
async function worker(url: string): Promise<void> {
  const store = await openStore(url);
  const started = Date.now();
  let next = 0;
  const loop = async (w: number): Promise<void> => {
    while (next < records) {
      next++;
      const row = await store.beginSync({
        environment: "bench", stack: `s${w}`, revision: { sha: "4f9c2e1d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d", author: "bench", message: "bench" },
        trigger: { kind: "poll" }, objects: [{ ref: { group: "apps", kind: "Deployment", namespace: "web", name: "api" }, apiVersion: "apps/v1", action: "configured" }],
      });
      await store.finishSync(row.id, { outcome: "succeeded", summary: { configured: 1 }, objects: [], durationMs: 1 });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => loop(w)));
  const finished = Date.now();
  await store.close();
  process.stdout.write(JSON.stringify({ started, finished, records }) + "\n");
}

function runWorker(url: string): Promise<{ started: number; finished: number; records: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [fileURLToPath(import.meta.url), "--worker", url, "--records", String(records), "--concurrency", String(concurrency)],
      { encoding: "utf8", timeout: 600_000 }, (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`worker failed: ${stderr.trim() || error.message}`));
        else resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { started: number; finished: number; records: number });
      });
  });
}

async function measure(url: string, processes: number): Promise<number> {
  const results = await Promise.all(Array.from({ length: processes }, () => runWorker(url)));
  const span = Math.max(...results.map((r) => r.finished)) - Math.min(...results.map((r) => r.started));
  return results.reduce((n, r) => n + r.records, 0) / (span / 1000);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "gitward-bench-state-"));
  const pg = await startPostgres({ durable: true });
  try {
    const rows: string[][] = [];
    for (const processes of [1, 3]) {
      const sqlite = await measure(`sqlite:${join(dir, `state-${processes}.db`)}`, processes);
      const postgres = await measure(await pg.createDatabase(), processes);
      rows.push([String(processes), String(records * processes), sqlite.toFixed(0), postgres.toFixed(0)]);
    }
    console.log(`history records/s (beginSync + finishSync), ${concurrency} writers per process, fsync on\n`);
    console.log("| processes | records | SQLite | PostgreSQL |\n|---|---|---|---|");
    for (const r of rows) console.log(`| ${r.join(" | ")} |`);
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.worker !== undefined) await worker(values.worker);
else await main();
