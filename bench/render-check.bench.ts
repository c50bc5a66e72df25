/**
 * The render + check benchmark: generates a repository of 500 stacks x 20 objects into
 * bench/.work/, then times `evaluateRevision` (Source, Render, Check of HEAD) cold, with a
 * warm disk cache, and warm in the same process, plus `gitward validate` end to end, and
 * prints a markdown table. Each cold or warm sample is its own child process.
 *
 *   node bench/render-check.bench.ts [--reps 5] [--stacks 500] [--kustomize-stacks 20] [--src DIR]
 *   node bench/render-check.bench.ts --phase cold|warm|inproc --repo DIR --cache-dir DIR --expect-objects N [--src DIR]
 *
 * The second form is one measured child; run it under `node --cpu-prof` to profile a phase.
 * `--src` points at another copy of the engine's src/ (e.g. `git archive` of a commit), to
 * compare versions; it defaults to this checkout's.
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { generateRepo, type GeneratedRepo, type RepoVariant } from "./generate-repo.ts";
import { measurePhase, reportPrefix, type Phase, type PhaseReport } from "./measure-phase.ts";
import { markdownTable, summarize, type ResultRow } from "./stats.ts";

const benchDir = import.meta.dirname;
const thisFile = import.meta.filename;

/** Milliseconds the issue sets: cold under 5 s, warm under 0.5 s. */
const targets = { coldMs: 5000, warmMs: 500 } as const;

/** What the parent run is asked to do. */
interface BenchOptions {
  readonly reps: number;
  readonly stacks: number;
  readonly kustomizeStacks: number;
  readonly workDir: string;
  /** The engine's src/ directory. */
  readonly srcDir: string;
}

/** A child's report and the parent's view of it: spawn to exit. */
interface ChildRun {
  readonly report: PhaseReport;
  readonly processMs: number;
}

function runChild(srcDir: string, phase: Phase, repo: GeneratedRepo, cacheDir: string, reps = 1): ChildRun {
  const args = [
    thisFile, "--phase", phase, "--src", srcDir, "--repo", repo.dir, "--cache-dir", cacheDir,
    "--expect-objects", String(repo.objects), "--reps", String(reps),
  ];
  const t0 = performance.now();
  const child = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  const processMs = performance.now() - t0;
  const line = child.stdout.split("\n").find((l) => l.startsWith(reportPrefix));
  if (child.status !== 0 || line === undefined) {
    throw new Error(`${phase} child failed (exit ${String(child.status)}):\n${child.stderr}`);
  }
  return { report: JSON.parse(line.slice(reportPrefix.length)) as PhaseReport, processMs };
}

/** Times `gitward validate` as a user runs it; asserts it found the repository valid and complete. */
function runCli(srcDir: string, repo: GeneratedRepo, cacheDir: string): number {
  const t0 = performance.now();
  const child = spawnSync(process.execPath, [join(srcDir, "cli/main.ts"), "validate", "--repo", repo.dir, "--cache-dir", cacheDir, "-q", "-o", "json"], {
    encoding: "utf8", maxBuffer: 64 << 20,
  });
  const ms = performance.now() - t0;
  const out = child.status === 0 ? (JSON.parse(child.stdout) as { valid?: boolean; objects?: number; errors?: number }) : undefined;
  if (out?.valid !== true || out.objects !== repo.objects || out.errors !== 0) {
    throw new Error(`gitward validate failed (exit ${String(child.status)}):\n${child.stderr}${child.stdout.slice(0, 2000)}`);
  }
  return ms;
}

function repeat<T>(n: number, label: string, fn: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => {
    progress(`${label} ${i + 1}/${n}`);
    return fn(i);
  });
}

/** Cold samples (a fresh cache each), then warm ones over the cache the last cold run filled. */
function coldAndWarm(srcDir: string, repo: GeneratedRepo, cacheDir: string, reps: number): { cold: ChildRun[]; warm: ChildRun[] } {
  const cold = repeat(reps, `${repo.variant}: cold`, () => {
    rmSync(cacheDir, { recursive: true, force: true });
    return runChild(srcDir, "cold", repo, cacheDir);
  });
  const warm = repeat(reps, `${repo.variant}: warm`, () => runChild(srcDir, "warm", repo, cacheDir));
  return { cold, warm };
}

function phaseRows(run: string, runs: readonly ChildRun[], targetMs: number | undefined): ResultRow[] {
  const samples = runs.flatMap((r) => r.report.samples);
  const first = samples[0];
  if (first === undefined) throw new Error(`${run}: no samples`);
  const facts = {
    objects: first.objects,
    findings: `${first.errors} / ${first.warnings}`,
    cached: `${first.cachedRenders} / ${first.stacks}`,
    peakRssMiB: Math.max(...runs.map((r) => r.report.maxRssKiB)) / 1024,
  };
  const withTarget = targetMs === undefined ? {} : { targetMs };
  return [
    { run, measured: "engine: openWorkspace → evaluateRevision", ms: summarize(samples.map((s) => s.engineMs)), ...withTarget, ...facts },
    { run, measured: "engine modules import", ms: summarize(runs.map((r) => r.report.importMs)) },
    { run, measured: "whole process (spawn → exit)", ms: summarize(runs.map((r) => r.processMs)), ...withTarget },
  ];
}

function runBench(opts: BenchOptions): ResultRow[] {
  const rows: ResultRow[] = [];
  const repo = generate(opts.workDir, "plain", opts.stacks);
  const cacheDir = join(opts.workDir, "cache-plain");
  const { cold, warm } = coldAndWarm(opts.srcDir, repo, cacheDir, opts.reps);
  progress("plain: warm, same process");
  const inproc = runChild(opts.srcDir, "inproc", repo, cacheDir, opts.reps);
  const label = `${repo.stacks} stacks`;
  rows.push(...phaseRows(`${label}, cold, new process`, cold, targets.coldMs));
  rows.push(...phaseRows(`${label}, warm disk cache, new process`, warm, targets.warmMs));
  rows.push(phaseRows(`${label}, warm, same process (memory cache)`, [inproc], targets.warmMs)[0] as ResultRow);

  const cliCache = join(opts.workDir, "cache-cli");
  const cliCold = repeat(opts.reps, "cli: cold", () => {
    rmSync(cliCache, { recursive: true, force: true });
    return runCli(opts.srcDir, repo, cliCache);
  });
  const cliWarm = repeat(opts.reps, "cli: warm", () => runCli(opts.srcDir, repo, cliCache));
  rows.push({ run: `${label}, CLI cold`, measured: "`gitward validate -q` whole process", ms: summarize(cliCold), targetMs: targets.coldMs, objects: repo.objects });
  rows.push({ run: `${label}, CLI warm`, measured: "`gitward validate -q` whole process", ms: summarize(cliWarm), targetMs: targets.warmMs, objects: repo.objects });

  if (opts.kustomizeStacks > 0) {
    const krepo = generate(opts.workDir, "kustomize", opts.kustomizeStacks);
    const k = coldAndWarm(opts.srcDir, krepo, join(opts.workDir, "cache-kustomize"), opts.reps);
    const klabel = `kustomize, ${krepo.stacks} stacks`;
    rows.push(...phaseRows(`${klabel}, cold, new process`, k.cold, undefined).filter((r) => r.measured !== "engine modules import"));
    rows.push(...phaseRows(`${klabel}, warm disk cache, new process`, k.warm, undefined).filter((r) => r.measured !== "engine modules import"));
  }
  return rows;
}

function generate(workDir: string, variant: RepoVariant, stacks: number): GeneratedRepo {
  progress(`generating ${stacks} ${variant} stacks`);
  const repo = generateRepo({ dir: join(workDir, `repo-${variant}`), stacks, variant });
  progress(`${repo.dir}: ${repo.objects} objects in ${repo.files} files, HEAD ${repo.sha.slice(0, 12)}`);
  return repo;
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      phase: { type: "string" },
      repo: { type: "string" },
      "cache-dir": { type: "string" },
      "expect-objects": { type: "string" },
      reps: { type: "string", default: "5" },
      stacks: { type: "string", default: "500" },
      "kustomize-stacks": { type: "string", default: "20" },
      work: { type: "string", default: join(benchDir, ".work") },
      src: { type: "string", default: resolve(benchDir, "../src") },
    },
  });
  const reps = positiveInt(values.reps, "--reps");
  const phase = values.phase;
  if (phase !== undefined) {
    if (phase !== "cold" && phase !== "warm" && phase !== "inproc") throw new Error(`--phase must be cold, warm or inproc, not ${phase}`);
    if (values.repo === undefined || values["cache-dir"] === undefined) throw new Error("--phase needs --repo and --cache-dir");
    const report = await measurePhase({
      phase, srcDir: resolve(values.src), repo: resolve(values.repo), cacheDir: resolve(values["cache-dir"]),
      expectObjects: positiveInt(values["expect-objects"], "--expect-objects"), reps,
    });
    process.stdout.write(`${reportPrefix}${JSON.stringify(report)}\n`);
    return;
  }
  const opts: BenchOptions = {
    reps, stacks: positiveInt(values.stacks, "--stacks"),
    kustomizeStacks: values["kustomize-stacks"] === "0" ? 0 : positiveInt(values["kustomize-stacks"], "--kustomize-stacks"),
    workDir: resolve(values.work), srcDir: resolve(values.src),
  };
  const loadBefore = loadAverage();
  const rows = runBench(opts);
  process.stdout.write(`\nRender + check of ${opts.srcDir}, ${opts.reps} repetitions, node ${process.version}, ${cpus().length} CPUs, `);
  process.stdout.write(`load average (1 min) ${loadBefore} before, ${loadAverage()} after\n\n${markdownTable(rows)}`);
  const missed = rows.filter((r) => r.targetMs !== undefined && r.ms.median >= r.targetMs && r.measured.startsWith("engine"));
  if (missed.length > 0) process.stdout.write(`\nTargets missed (engine median): ${missed.map((r) => r.run).join("; ")}\n`);
}

/** Other work on the machine skews every figure; the 1-minute load average shows it. */
function loadAverage(): string {
  return (loadavg()[0] ?? 0).toFixed(2);
}

function positiveInt(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, not ${String(value)}`);
  return n;
}

if (import.meta.main) await main();
