/**
 * The apply benchmark: 1,000 objects (900 ConfigMaps, and 50 LimitRanges and 50 ResourceQuotas
 * whose quantities are not written in the server's canonical form; see apply-fixture.ts) created
 * in a fresh namespace, re-applied unchanged, and checked for drift, by gitward (CLI as a whole process, and the provider session and the engine
 * in this process) side by side with `kubectl apply --server-side` and a raw loop of concurrent
 * server-side-apply PATCH requests (the floor). Against the fake API server, run in its own
 * process, and, when `GITWARD_BENCH_KUBECONFIG` is set (`GITWARD_BENCH_CONTEXT` optional), a
 * real cluster too. Prints markdown tables and the verdicts against the targets.
 *
 *   node bench/apply.bench.ts [--reps 5] [--objects 1000] [--concurrency 32] [--kubectl kubectl]
 *                             [--no-compiled] [--cli-only] [--work bench/.work/apply]
 *
 * Each repetition gives every tool its own fresh namespace (created before the clock starts,
 * deleted and awaited after the tool's runs, so the server's store is the same size for every
 * tool). gitward's render cache is warm (one `gitward validate` first), so the CLI figures are
 * the apply, not the render. The compiled runs start as the installed `bin/gitward.js` does.
 * Every unchanged re-apply by gitward is checked to have written nothing: the resourceVersion of
 * every object is the same before and after it (read outside the timed part).
 * `--cli-only` skips the in-process session and engine runs (kubectl, the raw loop and the CLI
 * only), for quick comparisons of start-up changes.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { openWorkspace } from "../src/engine/workspace.ts";
import { inventoryName } from "../src/providers/kubernetes/inventory-name.ts";
import {
  createNamespace, deleteNamespace, deleteObject, objectVersions, rawApply, RawApi, rawList, realCluster, startFakeCluster, type BenchCluster,
} from "./apply-cluster.ts";
import { benchObjects, benchStack, desiredObjects, generateApplyRepo, multiDocument } from "./apply-fixture.ts";
import {
  cliApply, cliDiff, engineDiff, engineSync, kubectlApply, sessionApply, sessionDiff, timeProcess,
  type CliRun, type EngineRun, type KubectlRun, type SessionTuning,
} from "./apply-tools.ts";
import { summarize, type Summary } from "./stats.ts";

const benchDir = import.meta.dirname;
const srcCli = resolve(benchDir, "../src/cli/main.ts");

/** The targets, as ratios. */
const targets = { createVsKubectl: 2.5, createVsRaw: 1.3, noopVsKubectl: 3 } as const;

/** What the parent run is asked to do. */
interface BenchOptions {
  readonly reps: number;
  readonly objects: number;
  readonly concurrency: number;
  readonly kubectl: string;
  readonly compiled: boolean;
  readonly cliOnly: boolean;
  readonly workDir: string;
}

type Step = "create" | "unchanged" | "drift";
type Mode = "whole process" | "in-process";

/** The samples of one tool doing one step against one cluster. */
interface Measurement {
  readonly cluster: string;
  readonly step: Step;
  readonly tool: string;
  readonly mode: Mode;
  readonly samples: number[];
}

/** Where samples are collected, in the order rows are printed. */
class Results {
  readonly rows: Measurement[] = [];

  add(cluster: string, step: Step, tool: string, mode: Mode, ms: number): void {
    let row = this.rows.find((r) => r.cluster === cluster && r.step === step && r.tool === tool);
    if (row === undefined) {
      row = { cluster, step, tool, mode, samples: [] };
      this.rows.push(row);
    }
    row.samples.push(ms);
  }

  summary(cluster: string, step: Step, tool: string): Summary | undefined {
    const row = this.rows.find((r) => r.cluster === cluster && r.step === step && r.tool === tool);
    return row === undefined || row.samples.length === 0 ? undefined : summarize(row.samples);
  }
}

/** Tool names, as the tables print them. */
const T = {
  kubectl: "`kubectl apply --server-side`",
  raw: "raw SSA PATCH loop",
  rawList: "raw LISTs of the namespace (one per kind: 3 requests, parsed)",
  session: "gitward session.apply (defaults: 16 parallel, no client QPS limit)",
  session32: "gitward session.apply, 32 parallel",
  sessionDiff: "gitward session.diff (defaults)",
  sync: "gitward syncEnvironment, engine in-process",
  syncDiff: "gitward diffEnvironment, engine in-process",
  cli: "`gitward apply` (src, type stripping)",
  cliCompiled: "`gitward apply` (bin/gitward.js, compiled dist/)",
  cliDiff: "`gitward diff` (src, type stripping)",
  cliDiffCompiled: "`gitward diff` (bin/gitward.js, compiled dist/)",
} as const;


async function runCluster(cluster: BenchCluster, opts: BenchOptions, results: Results): Promise<void> {
  const runId = randomBytes(3).toString("hex");
  const ns = (name: string): string => `gwb-${runId}-${name}`;
  const work = join(opts.workDir, cluster.label);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const n = opts.objects;
  const reps = Array.from({ length: opts.reps }, (_, i) => i + 1);
  const environments = ["warm", ...reps.flatMap((r) => [`sync${r}`, `cli${r}`, `bin${r}`])];
  progress(`${cluster.label}: generating the repository (${n} objects, ${environments.length} environments)`);
  const repo = generateApplyRepo(join(work, "repo"), n, environments, ns);
  const cacheDir = join(work, "cache");
  const api = await RawApi.connect(cluster, 4);
  const kubectl: KubectlRun = { kubectl: opts.kubectl, cluster, cacheDir: join(work, "kubectl-cache") };
  const cli: CliRun = { entry: srcCli, repo: repo.dir, cacheDir, cluster };
  const compiled = opts.compiled ? { ...cli, entry: compiledEntry() } : undefined;
  const L = cluster.label;
  // An unchanged re-apply, timed; the resourceVersions of the namespace's objects, read before and after, must not move.
  const unchanged = async (namespace: string, run: () => Promise<number>): Promise<number> => {
    const before = await objectVersions(api, namespace);
    const ms = await run();
    const after = await objectVersions(api, namespace);
    const moved = [...before].filter(([k, rv]) => after.get(k) !== rv).map(([k]) => k);
    if (moved.length > 0 || before.size < n) throw new Error(`the unchanged re-apply wrote ${moved.length} of ${before.size} objects in ${namespace}: ${moved.slice(0, 5).join(", ")}`);
    return ms;
  };
  const fresh = async (name: string): Promise<string> => {
    await createNamespace(api, ns(name));
    return ns(name);
  };
  const kubectlFile = (name: string): string => {
    const file = join(work, `${name}.yaml`);
    writeFileSync(file, multiDocument(benchObjects(n, "kubectl", ns(name))));
    return file;
  };

  progress(`${L}: warming the render cache (gitward validate)`);
  const validate = await timeProcess(process.execPath, [srcCli, "validate", "--repo", repo.dir, "--cache-dir", cacheDir, "-q"]);
  if (validate.code !== 0) throw new Error(`gitward validate failed:\n${validate.stderr}`);
  const ws = await openWorkspace({ repo: repo.dir, cacheDir, noCache: false, allowRemoteBases: false });
  const engine: EngineRun = { ws, cluster, tuning: {} };
  const session32: SessionTuning = { settings: { parallelism: 32 }, session: { concurrency: 32 } };
  try {
    progress(`${L}: warm-up (not measured): raw loop, kubectl (fills its discovery cache), session, engine, CLI`);
    {
      const objs = benchObjects(n, "raw", await fresh("warm-raw"));
      await rawApply(api, objs, 4, "bench-raw");
      await rawApply(api, objs, 4, "bench-raw");
      await deleteNamespace(api, ns("warm-raw"));
      await fresh("warm-kubectl");
      await kubectlApply(kubectl, kubectlFile("warm-kubectl"), n);
      await deleteNamespace(api, ns("warm-kubectl"));
      await sessionApply(cluster, {}, desiredObjects(benchObjects(n, "warm", await fresh("warm-session"))), "warm", "created");
      await deleteNamespace(api, ns("warm-session"));
      await fresh("warm");
      await engineSync(engine, "warm", n, "created");
      await engineDiff(engine, "warm", n);
      await cliApply(cli, "warm", n, "unchanged");
      if (compiled !== undefined) await cliApply(compiled, "warm", n, "unchanged");
      await deleteNamespace(api, ns("warm"));
    }

    for (const r of reps) {
      const step = (what: string): void => progress(`${L}: repetition ${r}/${opts.reps}: ${what}`);
      step("kubectl");
      {
        await fresh(`k${r}`);
        const file = kubectlFile(`k${r}`);
        results.add(L, "create", T.kubectl, "whole process", await kubectlApply(kubectl, file, n));
        results.add(L, "unchanged", T.kubectl, "whole process", await kubectlApply(kubectl, file, n));
        await deleteNamespace(api, ns(`k${r}`));
      }
      step(`raw loop, ${opts.concurrency} concurrent`);
      {
        const objs = benchObjects(n, "raw", await fresh(`r${r}`));
        const rawTool = `${T.raw}, ${opts.concurrency} concurrent, keep-alive`;
        for (const s of ["create", "unchanged"] as const) {
          const t0 = performance.now();
          const raw = await RawApi.connect(cluster, opts.concurrency);
          const out = await rawApply(raw, objs, opts.concurrency, "bench-raw");
          raw.close();
          const ms = performance.now() - t0;
          if ((s === "create" ? out.created : out.updated) !== n) throw new Error(`raw loop ${s}: ${JSON.stringify(out)}`);
          results.add(L, s, rawTool, "in-process", ms);
        }
        const t0 = performance.now();
        const items = await rawList(api, ns(`r${r}`));
        results.add(L, "drift", T.rawList, "in-process", performance.now() - t0);
        if (items < n) throw new Error(`raw LIST: ${items} items`);
        await deleteNamespace(api, ns(`r${r}`));
      }
      if (!opts.cliOnly) {
        step("session apply (shipped defaults: no client QPS limit, 16 parallel; and 32 parallel)");
        const desired = desiredObjects(benchObjects(n, "bench", await fresh(`s${r}`)));
        results.add(L, "create", T.session, "in-process", await sessionApply(cluster, {}, desired, "bench", "created"));
        results.add(L, "unchanged", T.session, "in-process", await unchanged(ns(`s${r}`), () => sessionApply(cluster, {}, desired, "bench", "unchanged")));
        results.add(L, "drift", T.sessionDiff, "in-process", await sessionDiff(cluster, {}, desired));
        await deleteNamespace(api, ns(`s${r}`));
        const desired32 = desiredObjects(benchObjects(n, "bench", await fresh(`t${r}`)));
        results.add(L, "create", T.session32, "in-process", await sessionApply(cluster, session32, desired32, "bench", "created"));
        await deleteNamespace(api, ns(`t${r}`));
        step("engine in-process (syncEnvironment, diffEnvironment)");
        await fresh(`sync${r}`);
        results.add(L, "create", T.sync, "in-process", await engineSync(engine, `sync${r}`, n, "created"));
        results.add(L, "unchanged", T.sync, "in-process", await unchanged(ns(`sync${r}`), () => engineSync(engine, `sync${r}`, n, "unchanged")));
        results.add(L, "drift", T.syncDiff, "in-process", await engineDiff(engine, `sync${r}`, n));
        await deleteNamespace(api, ns(`sync${r}`));
      }
      step("gitward apply/diff CLI (src), then the compiled bin/gitward.js");
      {
        await fresh(`cli${r}`);
        results.add(L, "create", T.cli, "whole process", await cliApply(cli, `cli${r}`, n, "created"));
        results.add(L, "unchanged", T.cli, "whole process", await unchanged(ns(`cli${r}`), () => cliApply(cli, `cli${r}`, n, "unchanged")));
        results.add(L, "drift", T.cliDiff, "whole process", await cliDiff(cli, `cli${r}`, n));
        await deleteNamespace(api, ns(`cli${r}`));
      }
      if (compiled !== undefined) {
        await fresh(`bin${r}`);
        results.add(L, "create", T.cliCompiled, "whole process", await cliApply(compiled, `bin${r}`, n, "created"));
        results.add(L, "unchanged", T.cliCompiled, "whole process", await unchanged(ns(`bin${r}`), () => cliApply(compiled, `bin${r}`, n, "unchanged")));
        results.add(L, "drift", T.cliDiffCompiled, "whole process", await cliDiff(compiled, `bin${r}`, n));
        await deleteNamespace(api, ns(`bin${r}`));
      }
    }
  } finally {
    await ws.close();
    // The inventories the engine wrote; on the fake they vanish with it, on a real cluster they must not stay.
    for (const env of environments) await deleteObject(api, `/api/v1/namespaces/gitward-system/configmaps/${inventoryName({ environment: env, stack: benchStack })}`).catch(() => undefined);
    api.close();
  }
}

/**
 * Compiles src/ with the build's tsconfig into bench/.work/apply-dist (inside the checkout, so
 * packages resolve from its node_modules) and copies bin/gitward.js beside it, so the compiled
 * runs start exactly as the installed command does. Type errors elsewhere in the tree (work in
 * progress) do not stop the bench when tsc still emitted the CLI; they are reported.
 */
function compiledEntry(): string {
  const root = join(benchDir, ".work", "apply-dist");
  const dist = join(root, "dist");
  const entry = join(root, "bin", "gitward.js");
  if (!compiledReady) {
    progress("compiling src/ to bench/.work/apply-dist (tsc -p tsconfig.build.json)");
    mkdirSync(join(root, "bin"), { recursive: true });
    rmSync(dist, { recursive: true, force: true });
    const tsc = resolve(benchDir, "../node_modules/typescript/bin/tsc");
    try {
      execFileSync(process.execPath, [tsc, "-p", resolve(benchDir, "../tsconfig.build.json"), "--outDir", dist, "--declaration", "false", "--sourceMap", "false"], { stdio: "inherit" });
    } catch (err: unknown) {
      if (!existsSync(join(dist, "cli", "main.js"))) throw err;
      progress("tsc reported type errors (above) but emitted the CLI; measuring it");
    }
    copyFileSync(resolve(benchDir, "../bin/gitward.js"), entry);
    compiledReady = true;
  }
  return entry;
}
let compiledReady = false;

function ms(value: number): string {
  return value >= 100 ? String(Math.round(value)) : value.toFixed(1);
}

/** The figures, one row per cluster, step and tool. */
function figuresTable(results: Results): string {
  const lines = ["| Cluster | Step | Tool | Measured | n | min ms | median ms | max ms |", "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |"];
  const order: Step[] = ["create", "unchanged", "drift"];
  const rows = [...results.rows].sort((a, b) => a.cluster.localeCompare(b.cluster) || order.indexOf(a.step) - order.indexOf(b.step));
  for (const r of rows) {
    const s = summarize(r.samples);
    lines.push(`| ${r.cluster} | ${r.step} | ${r.tool} | ${r.mode} | ${s.n} | ${ms(s.min)} | ${ms(s.median)} | ${ms(s.max)} |`);
  }
  return `${lines.join("\n")}\n`;
}

/** One target check: `better` is how many times faster (or slower) than the reference, on medians. */
function verdictRow(label: string, reference: Summary | undefined, measured: Summary | undefined, target: string, pass: (ratio: number) => boolean, ratioOf: (ref: number, m: number) => number): string {
  if (reference === undefined || measured === undefined) return `| ${label} | — | — | ${target} | not measured |`;
  const ratio = ratioOf(reference.median, measured.median);
  return `| ${label} | ${ms(measured.median)} vs ${ms(reference.median)} | ${ratio.toFixed(2)}x | ${target} | ${pass(ratio) ? "✅ met" : "❌ missed"} |`;
}

function verdicts(results: Results, cluster: string, concurrency: number): string {
  const get = (step: Step, tool: string): Summary | undefined => results.summary(cluster, step, tool);
  const faster = (ref: number, m: number): number => ref / m;
  const slower = (ref: number, m: number): number => m / ref;
  const kCreate = get("create", T.kubectl);
  const kNoop = get("unchanged", T.kubectl);
  const raw = get("create", `${T.raw}, ${concurrency} concurrent, keep-alive`);
  const lines = [
    `| Target (${cluster}) | gitward vs reference, median ms | ratio | target | verdict |`,
    "| --- | --- | ---: | --- | --- |",
    verdictRow("create, CLI (src) vs kubectl (whole process)", kCreate, get("create", T.cli), `≥ ${targets.createVsKubectl}x faster`, (x) => x >= targets.createVsKubectl, faster),
    verdictRow("create, bin/gitward.js (compiled) vs kubectl (whole process)", kCreate, get("create", T.cliCompiled), `≥ ${targets.createVsKubectl}x faster`, (x) => x >= targets.createVsKubectl, faster),
    verdictRow("create, session defaults vs raw loop (in-process)", raw, get("create", T.session), `≤ ${targets.createVsRaw}x the raw loop`, (x) => x <= targets.createVsRaw, slower),
    verdictRow("create, session 32 parallel vs raw loop", raw, get("create", T.session32), `≤ ${targets.createVsRaw}x the raw loop`, (x) => x <= targets.createVsRaw, slower),
    verdictRow("create, syncEnvironment vs raw loop", raw, get("create", T.sync), `≤ ${targets.createVsRaw}x the raw loop`, (x) => x <= targets.createVsRaw, slower),
    verdictRow("unchanged re-apply, CLI (src) vs kubectl re-apply (whole process)", kNoop, get("unchanged", T.cli), `≥ ${targets.noopVsKubectl}x faster`, (x) => x >= targets.noopVsKubectl, faster),
    verdictRow("unchanged re-apply, bin/gitward.js (compiled) vs kubectl re-apply", kNoop, get("unchanged", T.cliCompiled), `≥ ${targets.noopVsKubectl}x faster`, (x) => x >= targets.noopVsKubectl, faster),
    verdictRow("unchanged re-apply, syncEnvironment in-process vs kubectl re-apply", kNoop, get("unchanged", T.sync), `≥ ${targets.noopVsKubectl}x faster`, (x) => x >= targets.noopVsKubectl, faster),
    verdictRow("drift check, `gitward diff` (src) vs kubectl re-apply (whole process)", kNoop, get("drift", T.cliDiff), `≥ ${targets.noopVsKubectl}x faster`, (x) => x >= targets.noopVsKubectl, faster),
    verdictRow("drift check, bin/gitward.js diff (compiled) vs kubectl re-apply", kNoop, get("drift", T.cliDiffCompiled), `≥ ${targets.noopVsKubectl}x faster`, (x) => x >= targets.noopVsKubectl, faster),
    verdictRow("drift check, diffEnvironment in-process vs kubectl re-apply", kNoop, get("drift", T.syncDiff), `≥ ${targets.noopVsKubectl}x faster`, (x) => x >= targets.noopVsKubectl, faster),
  ];
  return `${lines.join("\n")}\n`;
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function loadAverage(): string {
  return (loadavg()[0] ?? 0).toFixed(2);
}

function kubectlVersion(kubectl: string): string {
  try {
    return execFileSync(kubectl, ["version", "--client"], { encoding: "utf8", timeout: 10_000 }).split("\n")[0] ?? "?";
  } catch {
    return "unknown";
  }
}

function positiveInt(value: string | undefined, flag: string): number {
  const v = Number(value);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer, not ${String(value)}`);
  return v;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reps: { type: "string", default: "5" },
      objects: { type: "string", default: "1000" },
      concurrency: { type: "string", default: "32" },
      kubectl: { type: "string", default: "kubectl" },
      "no-compiled": { type: "boolean", default: false },
      "cli-only": { type: "boolean", default: false },
      work: { type: "string", default: join(benchDir, ".work", "apply") },
    },
  });
  const opts: BenchOptions = {
    reps: positiveInt(values.reps, "--reps"),
    objects: positiveInt(values.objects, "--objects"),
    concurrency: positiveInt(values.concurrency, "--concurrency"),
    kubectl: values.kubectl,
    compiled: !values["no-compiled"],
    cliOnly: values["cli-only"],
    workDir: resolve(values.work),
  };
  mkdirSync(opts.workDir, { recursive: true });
  const loadBefore = loadAverage();
  const started = performance.now();
  const results = new Results();
  const clusters: BenchCluster[] = [];
  const fake = await startFakeCluster(opts.workDir);
  clusters.push(fake);
  const realPath = process.env["GITWARD_BENCH_KUBECONFIG"];
  if (realPath !== undefined && realPath !== "") clusters.push(await realCluster(realPath, process.env["GITWARD_BENCH_CONTEXT"]));
  else progress("GITWARD_BENCH_KUBECONFIG is not set: the fake only");
  try {
    for (const cluster of clusters) await runCluster(cluster, opts, results);
  } finally {
    for (const c of clusters) await c.close();
  }
  const out = process.stdout;
  out.write(`\nApply benchmark: ${opts.objects} objects (9 in 10 ConfigMaps, the rest LimitRanges and ResourceQuotas with non-canonical quantities), ${opts.reps} repetitions, raw loop ${opts.concurrency} concurrent; `);
  out.write(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB; ${kubectlVersion(opts.kubectl)}; `);
  out.write(`load average (1 min) ${loadBefore} before, ${loadAverage()} after; ${Math.round((performance.now() - started) / 1000)} s in all.\n\n`);
  out.write(figuresTable(results));
  for (const c of clusters) out.write(`\n${verdicts(results, c.label, opts.concurrency)}`);
  writeFileSync(join(opts.workDir, "results.json"), `${JSON.stringify(results.rows, null, 2)}\n`);
}

if (import.meta.main) await main();
