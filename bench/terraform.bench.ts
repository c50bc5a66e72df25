/**
 * The Terraform runner benchmark (issue 15): a root module of 300 `terraform_data` resources,
 * planned and applied through gitward's TerraformWorkspace (plan -out + show -json; apply of the
 * saved plan + output -json) and by bare `terraform plan -out` / `terraform apply` of the same
 * module, on the same machine with a warm plugin cache. Each repetition starts from an empty
 * state, so both create all 300; the two are interleaved so the machine's load hits both alike.
 *
 *   node bench/terraform.bench.ts [--reps 3] [--resources 300] [--work bench/.work/terraform]
 *
 * Target: gitward's median under bare terraform's median × 1.10 + 150 ms, for plan and apply.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { ProcessRunner } from "../src/core/command-runner.ts";
import { TerraformWorkspace } from "../src/providers/terraform/workspace.ts";
import { summarize, type Summary } from "./stats.ts";
import { terraformBenchModule } from "./terraform-module.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    resources: { type: "string", default: "300" },
    work: { type: "string", default: resolve(import.meta.dirname, ".work/terraform") },
  },
});
const reps = Number(values.reps);
const resources = Number(values.resources);
const work = values.work;
const binary = process.env["GITWARD_TEST_TERRAFORM"] ?? "terraform";

function setUp(): { moduleDir: string; bareDir: string; cliConfig: string; state: (who: string) => string } {
  rmSync(work, { recursive: true, force: true });
  const moduleDir = join(work, "module");
  const bareDir = join(work, "bare");
  mkdirSync(moduleDir, { recursive: true });
  mkdirSync(join(work, "state"), { recursive: true });
  writeFileSync(join(moduleDir, "main.tf"), terraformBenchModule(resources));
  cpSync(moduleDir, bareDir, { recursive: true });
  writeFileSync(join(bareDir, "bench.auto.tfvars.json"), JSON.stringify({ prefix: "bench", generation: 1 }));
  const cliConfig = join(work, "terraform.rc");
  writeFileSync(cliConfig, "");
  return { moduleDir, bareDir, cliConfig, state: (who) => join(work, "state", `${who}.tfstate`) };
}

function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function timedAsync<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await fn();
  return [performance.now() - t, v];
}

async function main(): Promise<void> {
  const { moduleDir, bareDir, cliConfig, state } = setUp();
  const env = { ...process.env, TF_CLI_CONFIG_FILE: cliConfig, TF_IN_AUTOMATION: "1", TF_PLUGIN_CACHE_DIR: join(work, "cache", "plugin-cache") };
  mkdirSync(env.TF_PLUGIN_CACHE_DIR, { recursive: true });
  const tf = (args: readonly string[]): void => {
    execFileSync(binary, [...args], { cwd: bareDir, env, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  };
  tf(["init", "-input=false", "-no-color", `-backend-config=path=${state("bare")}`]);
  const ws = new TerraformWorkspace(
    { binary, backendConfig: { path: state("gitward") }, env: { TF_CLI_CONFIG_FILE: cliConfig } },
    { environment: "bench", stack: "tf300", moduleDir, vars: { prefix: "bench", generation: 1 }, cacheDir: join(work, "cache") },
    { runner: new ProcessRunner() },
  );
  await ws.init(); // warm: init is not part of either measurement
  const samples = { barePlan: [] as number[], bareApply: [] as number[], gwPlan: [] as number[], gwApply: [] as number[] };
  for (let r = 0; r < reps; r++) {
    rmSync(state("bare"), { force: true });
    rmSync(state("gitward"), { force: true });
    samples.barePlan.push(timed(() => tf(["plan", "-input=false", "-no-color", "-out=bare.tfplan"])));
    samples.bareApply.push(timed(() => tf(["apply", "-input=false", "-no-color", "bare.tfplan"])));
    const [planMs, plan] = await timedAsync(() => ws.plan({}));
    if (plan.changes.filter((c) => c.action === "create").length !== resources) throw new Error(`gitward planned ${plan.changes.length} changes, not ${resources} creates`);
    const [applyMs, applied] = await timedAsync(() => ws.apply(plan));
    if (!applied.ok || applied.summary.created !== resources) throw new Error(`gitward apply failed: ${applied.error ?? JSON.stringify(applied.summary)}`);
    samples.gwPlan.push(planMs);
    samples.gwApply.push(applyMs);
    console.error(`rep ${r + 1}/${reps} done`);
  }
  const rows = [
    verdict("plan (300 creates)", summarize(samples.barePlan), summarize(samples.gwPlan)),
    verdict("apply of the saved plan", summarize(samples.bareApply), summarize(samples.gwApply)),
  ];
  const version = execFileSync(binary, ["version"], { env, encoding: "utf8" }).split("\n")[0] ?? "";
  console.log(`${version}, ${resources} terraform_data resources, ${reps} repetitions, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, load average (1 min) ${loadavg()[0]?.toFixed(2)} at the end\n`);
  console.log("| Operation | bare terraform median ms (min–max) | gitward median ms (min–max) | overhead | target (bare × 1.10 + 150) |");
  console.log("| --- | ---: | ---: | ---: | --- |");
  for (const r of rows) console.log(r);
}

function verdict(what: string, bare: Summary, gw: Summary): string {
  const target = bare.median * 1.1 + 150;
  const over = gw.median - bare.median;
  const fmt = (s: Summary): string => `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  return `| ${what} | ${fmt(bare)} | ${fmt(gw)} | ${over >= 0 ? "+" : ""}${over.toFixed(0)} ms (${((over / bare.median) * 100).toFixed(1)}%) | < ${target.toFixed(0)} ${gw.median < target ? "✅" : "❌"} |`;
}

await main();
