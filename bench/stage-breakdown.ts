/**
 * A diagnostic, not the benchmark: times the stages of one evaluation separately, to show
 * where wall time goes. It repeats the sequence of `evaluateRevision` step by step (source,
 * config, render, check), so keep it in step with src/engine/evaluate-revision.ts; the
 * totals it prints should match the benchmark's engine figure.
 *
 * CLI: node bench/stage-breakdown.ts --repo DIR --cache-dir DIR [--src DIR]
 * (an empty cache directory gives the cold breakdown, a filled one the warm one)
 */
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import type * as LocateFindings from "../src/engine/locate-findings.ts";
import type * as LoadConfig from "../src/config/load-config.ts";
import type * as MapLimit from "../src/core/map-limit.ts";
import type * as PolicyStage from "../src/engine/policy-stage.ts";
import type * as RunChecks from "../src/check/run-checks.ts";
import type * as StackInstances from "../src/config/stack-instances.ts";
import type * as Workspace from "../src/engine/workspace.ts";

/** One stage's wall time. */
export interface StageTime {
  readonly stage: string;
  readonly ms: number;
}

/** Runs the stages of one evaluation of HEAD in this process and returns their wall times; `srcDir` is the engine's src/. */
export async function stageBreakdown(srcDir: string, repo: string, cacheDir: string): Promise<StageTime[]> {
  const times: StageTime[] = [];
  let last = performance.now();
  const lap = (stage: string): void => {
    const now = performance.now();
    times.push({ stage, ms: now - last });
    last = now;
  };
  const load = <T>(path: string): Promise<T> => import(pathToFileURL(join(srcDir, path)).href) as Promise<T>;
  const [{ openWorkspace }, { parseConfig }, { stackInstances }, { mapLimit }, { runChecks }, { refineFindingLocations }, { runPolicies }] = await Promise.all([
    load<typeof Workspace>("engine/workspace.ts"),
    load<typeof LoadConfig>("config/load-config.ts"),
    load<typeof StackInstances>("config/stack-instances.ts"),
    load<typeof MapLimit>("core/map-limit.ts"),
    load<typeof RunChecks>("check/run-checks.ts"),
    load<typeof LocateFindings>("engine/locate-findings.ts"),
    load<typeof PolicyStage>("engine/policy-stage.ts"),
  ]);
  lap("import engine modules");
  const ws = await openWorkspace({ repo, cacheDir, noCache: false, allowRemoteBases: false });
  lap("openWorkspace (git rev-parse --absolute-git-dir)");
  try {
    const commit = await ws.source.resolve("HEAD");
    lap("resolve HEAD (git rev-parse, git log)");
    const snapshot = await ws.source.snapshot(commit);
    lap("snapshot (git ls-tree -r, index)");
    const config = parseConfig((await snapshot.readFile("gitward.yaml")).toString("utf8"), "gitward.yaml");
    lap("read + parse + validate gitward.yaml");
    const instances = stackInstances(config, {});
    const renders = await mapLimit(instances, 4, (inst) => ws.renderer.render(snapshot, inst));
    lap(`render ${renders.length} stacks (${renders.filter((r) => r.ok && r.cached).length} cached)`);
    // Concurrent async validators cannot be timed one by one, so the check runs twice:
    // without schemas, then in full. The second pass has structure and secrets JIT-warm.
    await runChecks(renders, { ...ws.check, schemas: [] });
    lap("check: structure, secrets, duplicates (no schemas)");
    const findings = await runChecks(renders, ws.check);
    lap("check: full, second pass (≈ schema validation + loading kubernetes-models)");
    const policy = await runPolicies(snapshot, config, renders);
    lap(`policies (${policy.policies})`);
    await refineFindingLocations([...findings, ...policy.findings], snapshot);
    lap(`refine ${findings.length + policy.findings.length} finding locations`);
  } finally {
    await ws.close();
  }
  return times;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { repo: { type: "string" }, "cache-dir": { type: "string" }, src: { type: "string", default: resolve(import.meta.dirname, "../src") } },
  });
  if (values.repo === undefined || values["cache-dir"] === undefined) {
    process.stderr.write("usage: node bench/stage-breakdown.ts --repo DIR --cache-dir DIR\n");
    process.exitCode = 2;
    return;
  }
  const startedMs = performance.now();
  const times = await stageBreakdown(resolve(values.src), values.repo, values["cache-dir"]);
  const total = times.reduce((n, t) => n + t.ms, 0);
  process.stdout.write(`| Stage | ms |\n| --- | ---: |\n| node start → main | ${startedMs.toFixed(0)} |\n`);
  for (const t of times) process.stdout.write(`| ${t.stage} | ${t.ms.toFixed(0)} |\n`);
  process.stdout.write(`| **total from main** | **${total.toFixed(0)}** |\n| peak RSS | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB |\n`);
}

if (import.meta.main) await main();
