/**
 * The render memory benchmark: peak resident memory per rendered object when one revision
 * renders 100,000 objects, as `gitward validate` does (Source, Render, Check, cold render cache
 * on disk). Each sample is its own child process; its peak RSS (`process.resourceUsage().maxRSS`)
 * is compared with its RSS after the engine's modules are loaded and the workspace is open, so
 * the figure per object is what rendering adds, not Node's own start-up. The issue's target:
 * under 2 KiB per object.
 *
 *   node bench/render-memory.bench.ts [--reps 3] [--objects 100000] [--src DIR] [--shape configmaps|mixed|all] [--semi-space-mib N]
 *   node bench/render-memory.bench.ts --phase measure --repo DIR --src DIR --expect-objects N
 *   node bench/render-memory.bench.ts --cli [--reps 3] [--objects 100000] [--shape configmaps|mixed|all]
 *
 * Shapes: `configmaps` is the issue's (one-line ConfigMaps, `{apiVersion: v1, kind: ConfigMap,
 * metadata: {name: …}}`, 10,000 to a stack in two files of 5,000); `mixed` is the render +
 * check benchmark's repository (`generate-repo.ts`: Deployments with probes and resources,
 * Services, ConfigMaps, RBAC, HPAs, `${var}`s; 20 objects to a stack). `--src` measures another
 * version of the engine (e.g. `git archive` of an older commit), for before/after figures.
 * `--semi-space-mib N` runs the children with `--max-semi-space-size=N`: V8 grows its young
 * generation to 2 x 64 MiB under this load on a machine with this much memory, which is most of
 * the peak (see bench/RESULTS.md).
 * `--cli` measures the command a user runs instead: `gitward validate` (bin/gitward.js, the built
 * dist/, with whatever flags the CLI gives itself, a cold render cache), its whole peak RSS from GNU time (`/usr/bin/time`
 * must exist), minus the peak of the same command on a one-stack repository of one ConfigMap.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type * as EvaluateModule from "../src/engine/evaluate-revision.ts";
import type * as WorkspaceModule from "../src/engine/workspace.ts";
import { benchGitEnv, generateRepo } from "./generate-repo.ts";
import { summarize } from "./stats.ts";

const benchDir = import.meta.dirname;
const reportPrefix = "MEMORY_REPORT ";
/** The issue's target, bytes of peak RSS per rendered object. */
const targetBytesPerObject = 2048;

/** What one measured child reports. */
interface MemoryReport {
  readonly objects: number;
  readonly ms: number;
  /** KiB: RSS once the engine is loaded and the workspace open, before rendering. */
  readonly baseRssKiB: number;
  /** KiB: peak RSS of the process. */
  readonly peakRssKiB: number;
  /** KiB: heap in use after rendering and a full GC, minus before: what the results hold. */
  readonly retainedHeapKiB: number;
}

type Shape = "configmaps" | "mixed";

/** The issue's shape: `stacks` stacks of two files of 5,000 one-line ConfigMaps. */
function configMapRepo(dir: string, objects: number): { dir: string; objects: number } {
  const perFile = 5_000;
  const stacks = Math.ceil(objects / (2 * perFile));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const config = ["version: 1", "environments:", "  bench:", "    targets: { cluster: { provider: kubernetes } }", "stacks:"];
  for (let s = 0; s < stacks; s++) {
    config.push(`  s${s}: { target: cluster, path: s${s}, namespace: bench }`);
    mkdirSync(join(dir, `s${s}`));
    for (let f = 0; f < 2; f++) {
      let text = "";
      for (let i = 0; i < perFile; i++) text += `{apiVersion: v1, kind: ConfigMap, metadata: {name: c${s}-${f}-${i}}}\n---\n`;
      writeFileSync(join(dir, `s${s}`, `f${f}.yaml`), text);
    }
  }
  writeFileSync(join(dir, "gitward.yaml"), `${config.join("\n")}\n`);
  const git = (...args: string[]): string => execFileSync("git", args, { cwd: dir, env: { ...process.env, ...benchGitEnv }, encoding: "utf8" });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", "one-line ConfigMaps");
  git("repack", "-a", "-d", "-q");
  return { dir, objects: stacks * 2 * perFile };
}

/** The measured side: one evaluation of HEAD in this process, reported on stdout. */
async function measure(repo: string, srcDir: string, expectObjects: number): Promise<void> {
  const [{ openWorkspace }, { evaluateRevision }] = await Promise.all([
    import(pathToFileURL(join(srcDir, "engine/workspace.ts")).href) as Promise<typeof WorkspaceModule>,
    import(pathToFileURL(join(srcDir, "engine/evaluate-revision.ts")).href) as Promise<typeof EvaluateModule>,
  ]);
  const cacheDir = join(repo, "..", `${repo.split("/").at(-1) ?? "repo"}-cache-${process.pid}`);
  const ws = await openWorkspace({ repo, cacheDir, noCache: false, allowRemoteBases: false });
  try {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const baseRssKiB = process.memoryUsage().rss / 1024;
    const baseHeap = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const result = await evaluateRevision({
      source: ws.source, rev: "HEAD", configPath: "gitward.yaml", filter: {}, renderer: ws.renderer, check: ws.check, configCache: ws.configCache,
    });
    const ms = performance.now() - t0;
    const objects = result.renders.reduce((n, r) => n + (r.ok ? r.objects.length : 0), 0);
    const failed = result.renders.find((r) => !r.ok);
    if (failed !== undefined && !failed.ok) throw new Error(`broken run: ${failed.error.message}`);
    if (objects !== expectObjects) throw new Error(`broken run: ${objects} objects, expected ${expectObjects}`);
    gc?.();
    const retainedHeapKiB = (process.memoryUsage().heapUsed - baseHeap) / 1024;
    const report: MemoryReport = { objects, ms, baseRssKiB, peakRssKiB: process.resourceUsage().maxRSS, retainedHeapKiB };
    process.stdout.write(`${reportPrefix}${JSON.stringify(report)}\n`);
    // Kept alive until measured.
    if (result.renders.length < 0) process.stdout.write("");
  } finally {
    await ws.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

function runChild(srcDir: string, repo: { dir: string; objects: number }, nodeFlags: readonly string[]): MemoryReport {
  const args = ["--expose-gc", ...nodeFlags, import.meta.filename, "--phase", "measure", "--repo", repo.dir, "--src", srcDir, "--expect-objects", String(repo.objects)];
  const child = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  const line = child.stdout.split("\n").find((l) => l.startsWith(reportPrefix));
  if (child.status !== 0 || line === undefined) throw new Error(`child failed (exit ${String(child.status)}):\n${child.stderr.slice(0, 4000)}`);
  return JSON.parse(line.slice(reportPrefix.length)) as MemoryReport;
}

/** Peak RSS (KiB) and wall time of `gitward validate` in `dir`, from GNU time. */
function runCli(dir: string): { peakRssKiB: number; ms: number } {
  const cacheDir = `${dir}-cli-cache`;
  rmSync(cacheDir, { recursive: true, force: true });
  const t0 = performance.now();
  const child = spawnSync("/usr/bin/time", ["-f", "MAXRSS %M", process.execPath, join(benchDir, "../bin/gitward.js"), "validate", "--output", "json", "--cache-dir", cacheDir], { cwd: dir, encoding: "utf8", maxBuffer: 256 << 20 });
  const ms = performance.now() - t0;
  rmSync(cacheDir, { recursive: true, force: true });
  const line = child.stderr.split("\n").find((l) => l.startsWith("MAXRSS "));
  if (child.status !== 0 || line === undefined) throw new Error(`gitward validate failed (exit ${String(child.status)}):\n${child.stderr.slice(0, 4000)}`);
  return { peakRssKiB: Number(line.slice("MAXRSS ".length)), ms };
}

/** `--cli`: the per-object figure of the command itself, net of its cost on a tiny repository. */
function cliRows(shapes: readonly Shape[], objects: number, reps: number, work: string): string {
  const tiny = configMapRepo(join(work, "repo-memory-tiny"), 1);
  const out = [
    "| Shape | objects | n | wall ms (median) | peak RSS, tiny repository | peak RSS (median) | peak − tiny, per object (min / median / max) | target < 2 KiB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  ];
  const mib = (kib: number): string => `${Math.round(kib / 1024)} MiB`;
  for (const shape of shapes) {
    process.stderr.write(`generating ${shape} (${objects} objects)\n`);
    const repo = shape === "configmaps"
      ? configMapRepo(join(work, "repo-memory-configmaps"), objects)
      : generateRepo({ dir: join(work, "repo-memory-mixed"), stacks: Math.ceil(objects / 20), variant: "plain" });
    const base: number[] = [];
    const peaks: { peakRssKiB: number; ms: number }[] = [];
    for (let i = 0; i < reps; i++) {
      process.stderr.write(`${shape} (cli) ${i + 1}/${reps}\n`);
      base.push(runCli(tiny.dir).peakRssKiB);
      peaks.push(runCli(repo.dir));
    }
    const baseKiB = summarize(base).median;
    const added = summarize(peaks.map((p) => ((p.peakRssKiB - baseKiB) * 1024) / repo.objects));
    out.push(`| ${shape} | ${repo.objects} | ${reps} | ${Math.round(summarize(peaks.map((p) => p.ms)).median)} | ${mib(baseKiB)} | ${mib(summarize(peaks.map((p) => p.peakRssKiB)).median)} | `
      + `${Math.round(added.min)} / ${Math.round(added.median)} / ${Math.round(added.max)} B | ${added.median < targetBytesPerObject ? "✅" : "❌"} |`);
  }
  return `${out.join("\n")}\n`;
}

function table(rows: readonly { shape: string; reports: readonly MemoryReport[] }[]): string {
  const out = [
    "| Shape | objects | n | wall ms (median) | RSS before render | peak RSS (median) | peak − before, per object (min / median / max) | peak per object, whole process | heap kept per object | target < 2 KiB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |",
  ];
  for (const { shape, reports } of rows) {
    const objects = reports[0]?.objects ?? 0;
    const added = summarize(reports.map((r) => ((r.peakRssKiB - r.baseRssKiB) * 1024) / objects));
    const whole = summarize(reports.map((r) => (r.peakRssKiB * 1024) / objects));
    const kept = summarize(reports.map((r) => (r.retainedHeapKiB * 1024) / objects));
    const mib = (kib: number): string => `${Math.round(kib / 1024)} MiB`;
    out.push(`| ${shape} | ${objects} | ${reports.length} | ${Math.round(summarize(reports.map((r) => r.ms)).median)} | ${mib(summarize(reports.map((r) => r.baseRssKiB)).median)} | `
      + `${mib(summarize(reports.map((r) => r.peakRssKiB)).median)} | ${Math.round(added.min)} / ${Math.round(added.median)} / ${Math.round(added.max)} B | `
      + `${Math.round(whole.median)} B | ${Math.round(kept.median)} B | ${added.median < targetBytesPerObject ? "✅" : "❌"} (whole process ${whole.median < targetBytesPerObject ? "✅" : "❌"}) |`);
  }
  return `${out.join("\n")}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      phase: { type: "string" }, repo: { type: "string" }, src: { type: "string", default: join(benchDir, "../src") },
      "expect-objects": { type: "string" }, reps: { type: "string", default: "3" }, objects: { type: "string", default: "100000" },
      shape: { type: "string", default: "all" }, "semi-space-mib": { type: "string" }, cli: { type: "boolean", default: false },
    },
  });
  const srcDir = resolve(values.src);
  if (values.phase === "measure") {
    await measure(resolve(values.repo ?? ""), srcDir, Number(values["expect-objects"]));
    return;
  }
  const objects = Number(values.objects);
  const reps = Number(values.reps);
  const shapes: Shape[] = values.shape === "all" ? ["configmaps", "mixed"] : [values.shape as Shape];
  const nodeFlags = values["semi-space-mib"] === undefined ? [] : [`--max-semi-space-size=${values["semi-space-mib"]}`];
  const work = join(benchDir, ".work");
  mkdirSync(work, { recursive: true });
  const load = loadavg()[0] ?? 0;
  if (values.cli) {
    const text = cliRows(shapes, objects, reps, work);
    process.stdout.write(`Render memory of \`gitward validate\` (bin/gitward.js), node ${process.version}, ${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB, load average (1 min) ${load.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after\n\n${text}`);
    return;
  }
  const rows: { shape: string; reports: MemoryReport[] }[] = [];
  for (const shape of shapes) {
    process.stderr.write(`generating ${shape} (${objects} objects)\n`);
    const repo = shape === "configmaps"
      ? configMapRepo(join(work, "repo-memory-configmaps"), objects)
      : generateRepo({ dir: join(work, "repo-memory-mixed"), stacks: Math.ceil(objects / 20), variant: "plain" });
    const reports: MemoryReport[] = [];
    for (let i = 0; i < reps; i++) {
      process.stderr.write(`${shape} ${i + 1}/${reps}\n`);
      reports.push(runChild(srcDir, repo, nodeFlags));
    }
    rows.push({ shape, reports });
  }
  process.stdout.write(`Render memory of ${srcDir}${nodeFlags.length > 0 ? ` (children: node ${nodeFlags.join(" ")})` : ""}, node ${process.version}, ${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB, load average (1 min) ${load.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after\n\n`);
  process.stdout.write(table(rows));
}

await main();
