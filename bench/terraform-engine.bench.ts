/**
 * gitward's whole plan and apply of a Terraform stack against bare terraform (issue 15): the
 * root module of bench/terraform-module.ts (300 `terraform_data` resources), committed in a Git
 * repository as the stack `tf300` of environment `bench` (a `provider: terraform` target, local
 * backend, state outside the repository), measured three ways, interleaved in each repetition:
 *
 * - bare `terraform plan` and `terraform apply -auto-approve` in an initialised copy of the module,
 *   and for reference bare `terraform plan -out` + `terraform apply <plan>` (the steps gitward takes);
 * - the engine in process, as the agent runs it: `planRevisions` (gitward plan) and
 *   `syncEnvironment` (gitward apply, which plans and applies) with the workspace opened once
 *   and Terraform initialised by a warm-up round, timed around the call;
 * - the CLI as a user runs it: `node bin/gitward.js plan` / `apply` (needs `make build`), and
 *   `node bin/gitward.js --version` for Node's and the CLI's start-up alone.
 *
 * Each repetition starts from an empty state for every side, so each creates all 300.
 *
 *   node bench/terraform-engine.bench.ts [--reps 3] [--resources 300] [--work bench/.work/terraform-engine]
 *
 * Target (judged on the in-process figures): gitward's median under bare terraform's median × 1.10 + 150 ms.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { ProcessRunner, type CommandResult, type CommandRunner, type CommandSpec } from "../src/core/command-runner.ts";
import { defaultProviders } from "../src/engine/providers.ts";
import { planRevisions } from "../src/engine/plan-revisions.ts";
import { syncEnvironment } from "../src/engine/sync-environment.ts";
import { openWorkspace } from "../src/engine/workspace.ts";
import { terraformProvider } from "../src/providers/terraform/provider.ts";
import { gitTestEnv } from "../test/support/repo.ts";
import { summarize, type Summary } from "./stats.ts";
import { terraformBenchModule } from "./terraform-module.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    resources: { type: "string", default: "300" },
    work: { type: "string", default: resolve(import.meta.dirname, ".work/terraform-engine") },
  },
});
const reps = Number(values.reps);
const resources = Number(values.resources);
const work = values.work;
const binary = process.env["GITWARD_TEST_TERRAFORM"] ?? "terraform";
const gitwardBin = resolve(import.meta.dirname, "../bin/gitward.js");

interface Layout {
  readonly repo: string;
  readonly bareDir: string;
  readonly cliConfig: string;
  /** gitward's cache of one side: the engine in process and the CLI each have their own. */
  readonly cache: (who: "engine" | "cli") => string;
  readonly state: (who: "bare" | "engine" | "cli") => string;
}

function gitwardYaml(statePath: string): string {
  return `version: 1
environments:
  bench:
    targets:
      tf:
        provider: terraform
        binary: ${binary}
        backendConfig: { path: ${statePath} }
        env: [TF_CLI_CONFIG_FILE]
stacks:
  tf300: { target: tf, path: tf/big, vars: { prefix: bench, generation: 1 } }
`;
}

/**
 * The work directory: a repository holding the module and gitward.yaml, a bare copy of the
 * module, an empty CLI configuration. The engine and the CLI each get their own state file,
 * named in gitward.yaml, so the repository is committed twice (one commit per side) and each
 * side plans and applies its own revision.
 */
function setUp(): Layout & { engineRev: string; cliRev: string } {
  rmSync(work, { recursive: true, force: true });
  const repo = join(work, "repo");
  const bareDir = join(work, "bare");
  mkdirSync(join(repo, "tf", "big"), { recursive: true });
  mkdirSync(join(work, "state"), { recursive: true });
  const main = terraformBenchModule(resources);
  writeFileSync(join(repo, "tf", "big", "main.tf"), main);
  mkdirSync(bareDir, { recursive: true });
  writeFileSync(join(bareDir, "main.tf"), main);
  writeFileSync(join(bareDir, "bench.auto.tfvars.json"), JSON.stringify({ prefix: "bench", generation: 1 }));
  const cliConfig = join(work, "terraform.rc");
  writeFileSync(cliConfig, "");
  const state = (who: string): string => join(work, "state", `${who}.tfstate`);
  const git = (...args: string[]): string => execFileSync("git", args, { cwd: repo, env: { ...process.env, ...gitTestEnv }, encoding: "utf8" }).trim();
  git("init", "-q", "-b", "main");
  const commit = (who: string): string => {
    writeFileSync(join(repo, "gitward.yaml"), gitwardYaml(state(who)));
    git("add", "gitward.yaml", "tf");
    git("commit", "-q", "-m", `bench: tf300, state of ${who}`);
    return git("rev-parse", "HEAD");
  };
  const engineRev = commit("engine");
  const cliRev = commit("cli");
  return { repo, bareDir, cliConfig, cache: (who) => join(work, `cache-${who}`), state, engineRev, cliRev };
}

/**
 * Runs commands as gitward's own runner does and adds up the time spent in each Terraform
 * subcommand, so the apply's figure splits into Terraform's processes and gitward's own work.
 */
class TimingRunner implements CommandRunner {
  spent = new Map<string, { ms: number; runs: number }>();
  readonly #inner = new ProcessRunner();

  async run(spec: CommandSpec): Promise<CommandResult> {
    const t = performance.now();
    try {
      return await this.#inner.run(spec);
    } finally {
      const sub = spec.args[0] ?? "";
      const was = this.spent.get(sub) ?? { ms: 0, runs: 0 };
      this.spent.set(sub, { ms: was.ms + performance.now() - t, runs: was.runs + 1 });
    }
  }
}

async function timed<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t = performance.now();
  const v = await fn();
  return [performance.now() - t, v];
}

async function main(): Promise<void> {
  const l = setUp();
  // The target passes TF_CLI_CONFIG_FILE from gitward's environment (an empty configuration).
  process.env["TF_CLI_CONFIG_FILE"] = l.cliConfig;
  const env = { ...process.env, TF_CLI_CONFIG_FILE: l.cliConfig, TF_IN_AUTOMATION: "1", TF_PLUGIN_CACHE_DIR: join(work, "plugin-cache") };
  mkdirSync(env.TF_PLUGIN_CACHE_DIR, { recursive: true });
  const run = (cmd: string, args: readonly string[], cwd: string, extra: Record<string, string> = {}): string =>
    execFileSync(cmd, [...args], { cwd, env: { ...env, ...extra }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  const tf = (args: readonly string[]): string => run(binary, args, l.bareDir);
  tf(["init", "-input=false", "-no-color", `-backend-config=path=${l.state("bare")}`]);

  const ws = await openWorkspace({ repo: l.repo, cacheDir: l.cache("engine"), noCache: false, allowRemoteBases: false, noSchema: false });
  const enginePlan = async (): Promise<void> => {
    const out = await planRevisions({
      source: ws.source, base: undefined, head: l.engineRev, configPath: "gitward.yaml", filter: { environments: ["bench"] },
      renderer: ws.renderer, check: ws.check, configCache: ws.configCache, cacheDir: l.cache("engine"),
    });
    const creates = out.plan?.counts.create ?? 0;
    if (creates !== resources) throw new Error(`gitward plan planned ${creates} creates, not ${resources}: ${JSON.stringify(out.findings)}`);
  };
  // The engine's apply runs Terraform through this runner (the provider is the one defaultProviders loads).
  const timing = new TimingRunner();
  const providers = { ...defaultProviders(), terraform: terraformProvider({ runner: timing }) };
  const engineApply = async (): Promise<void> => {
    const r = await syncEnvironment({
      source: ws.source, rev: l.engineRev, configPath: "gitward.yaml", renderer: ws.renderer, check: ws.check, configCache: ws.configCache,
      environment: "bench", dryRun: false, force: false, trigger: { kind: "push", by: "bench" },
      providers, providerContext: { cacheDir: l.cache("engine") },
    });
    const created = r.stacks.flatMap((s) => s.entries).filter((e) => e.action === "created").length;
    if (!r.ok || created !== resources) throw new Error(`gitward apply failed or created ${created}, not ${resources}: ${JSON.stringify(r.stacks.map((s) => s.error))}`);
  };
  const cli = (args: readonly string[]): string =>
    run(process.execPath, [gitwardBin, ...args, "--repo", l.repo, "--cache-dir", l.cache("cli"), "-q"], l.repo, { GITWARD_CACHE_DIR: l.cache("cli") });
  const cliPlan = (): void => {
    const out = cli(["plan", "--head", l.cliRev]);
    if (!out.includes(`Summary: ${resources} to create`)) throw new Error(`gitward plan (CLI) did not plan ${resources} creates:\n${out.slice(-2000)}`);
  };
  const cliApply = (): void => {
    const out = cli(["apply", "--env", "bench", "--rev", l.cliRev]);
    if (!out.includes(`Summary: ${resources} created`)) throw new Error(`gitward apply (CLI) did not create ${resources}:\n${out.slice(-2000)}`);
  };
  // A fresh start for each side: no state, and no inventory of the stack in gitward's cache.
  const reset = (who: "bare" | "engine" | "cli"): void => {
    rmSync(l.state(who), { force: true });
    if (who !== "bare") rmSync(join(l.cache(who), "terraform", "inventory"), { recursive: true, force: true });
  };

  // Warm-up, not timed: gitward's working directories are created and initialised (init runs
  // again only when the lock file or backend configuration changes), Node's caches are filled.
  await enginePlan();
  await engineApply();
  cliPlan();
  cliApply();
  const inTerraform: Map<string, { ms: number; runs: number }>[] = [];
  const s = { barePlan: [] as number[], bareApply: [] as number[], enginePlan: [] as number[], engineApply: [] as number[], bareTwoStep: [] as number[], cliPlan: [] as number[], cliApply: [] as number[], cliVersion: [] as number[] };
  for (let r = 0; r < reps; r++) {
    for (const who of ["bare", "engine", "cli"] as const) reset(who);
    s.barePlan.push((await timed(() => tf(["plan", "-input=false", "-no-color"])))[0]);
    s.bareApply.push((await timed(() => tf(["apply", "-input=false", "-no-color", "-auto-approve"])))[0]);
    // The two steps gitward takes to apply exactly the plan it reviewed, done by hand.
    reset("bare");
    s.bareTwoStep.push((await timed(() => {
      tf(["plan", "-input=false", "-no-color", "-out=bare.tfplan"]);
      tf(["apply", "-input=false", "-no-color", "bare.tfplan"]);
    }))[0]);
    s.enginePlan.push((await timed(enginePlan))[0]);
    timing.spent = new Map();
    s.engineApply.push((await timed(engineApply))[0]);
    inTerraform.push(timing.spent);
    s.cliPlan.push((await timed(cliPlan))[0]);
    s.cliApply.push((await timed(cliApply))[0]);
    s.cliVersion.push((await timed(() => run(process.execPath, [gitwardBin, "--version"], l.repo)))[0]);
    console.error(`rep ${r + 1}/${reps}: ${Object.entries(s).map(([k, v]) => `${k} ${(v[r] ?? 0).toFixed(0)}`).join(", ")} ms`);
  }
  await ws.close();

  const version = run(binary, ["version"], l.bareDir).split("\n")[0] ?? "";
  console.log(`${version}, ${resources} terraform_data resources, ${reps} repetitions, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, load average (1 min) ${loadavg()[0]?.toFixed(2)} at the end\n`);
  console.log("In process (the engine as the agent runs it; the target is judged on these):\n");
  console.log("| Operation | bare terraform median ms (min–max) | gitward median ms (min–max) | overhead | target (bare × 1.10 + 150) |");
  console.log("| --- | ---: | ---: | ---: | --- |");
  console.log(verdict(`plan (${resources} creates): \`planRevisions\` vs \`terraform plan\``, summarize(s.barePlan), summarize(s.enginePlan)));
  console.log(verdict(`apply (${resources} creates): \`syncEnvironment\` vs \`terraform apply -auto-approve\``, summarize(s.bareApply), summarize(s.engineApply)));
  console.log(`\nFor reference, bare \`terraform plan -out\` then \`terraform apply <plan>\` (the two steps gitward's apply takes, so that it applies exactly the plan its policies reviewed): ${fmt(summarize(s.bareTwoStep))} ms; gitward's apply over it: ${overhead(summarize(s.bareTwoStep), summarize(s.engineApply))}.`);
  console.log(`\nWhere the in-process apply's time goes (medians over the repetitions; Terraform's processes timed around each run):\n`);
  console.log("| Part | runs per apply | median ms |");
  console.log("| --- | ---: | ---: |");
  const subs = [...new Set(inTerraform.flatMap((m) => [...m.keys()]))];
  for (const sub of subs) console.log(`| \`terraform ${sub}\` | ${inTerraform[0]?.get(sub)?.runs ?? 0} | ${summarize(inTerraform.map((m) => m.get(sub)?.ms ?? 0)).median.toFixed(0)} |`);
  const own = s.engineApply.map((total, i) => total - [...(inTerraform[i]?.values() ?? [])].reduce((a, b) => a + b.ms, 0));
  console.log(`| gitward's own work (the rest: Git, render, checks, gate, parsing, inventory) | | ${fmt(summarize(own))} |`);
  console.log("\nThe CLI as a user runs it (a new Node process each time):\n");
  console.log("| Operation | bare terraform median ms (min–max) | gitward CLI median ms (min–max) | overhead | of which start-up (`gitward --version`) |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  const startup = summarize(s.cliVersion);
  console.log(cliRow("`gitward plan` vs `terraform plan`", summarize(s.barePlan), summarize(s.cliPlan), startup));
  console.log(cliRow("`gitward apply` vs `terraform apply -auto-approve`", summarize(s.bareApply), summarize(s.cliApply), startup));
}

const fmt = (s: Summary): string => `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
const overhead = (bare: Summary, gw: Summary): string => {
  const over = gw.median - bare.median;
  return `${over >= 0 ? "+" : ""}${over.toFixed(0)} ms (${((over / bare.median) * 100).toFixed(1)}%)`;
};

function verdict(what: string, bare: Summary, gw: Summary): string {
  const target = bare.median * 1.1 + 150;
  return `| ${what} | ${fmt(bare)} | ${fmt(gw)} | ${overhead(bare, gw)} | < ${target.toFixed(0)} ${gw.median < target ? "✅" : "❌"} |`;
}

function cliRow(what: string, bare: Summary, gw: Summary, startup: Summary): string {
  return `| ${what} | ${fmt(bare)} | ${fmt(gw)} | ${overhead(bare, gw)} | ${fmt(startup)} |`;
}

await main();
