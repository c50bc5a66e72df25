/**
 * The measured runs of the apply benchmark, one function per tool and verb: kubectl and the
 * gitward CLI as whole processes (spawn to exit), the provider session and the engine in this
 * process. Each checks that it did what it was asked (1,000 created, 1,000 unchanged, no
 * differences) and throws otherwise, so a broken run is never reported as a fast one.
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { countActions } from "../src/engine/change-set.ts";
import { diffEnvironment } from "../src/engine/diff-environment.ts";
import { defaultProviders, type KubernetesTuning } from "../src/engine/providers.ts";
import { syncEnvironment } from "../src/engine/sync-environment.ts";
import type { Workspace } from "../src/engine/workspace.ts";
import type { ClientSettings } from "../src/providers/kubernetes/client.ts";
import { kubernetesProvider } from "../src/providers/kubernetes/provider.ts";
import type { SessionSettings } from "../src/providers/kubernetes/session-context.ts";
import type { DesiredObject, StackRef } from "../src/providers/provider.ts";
import type { BenchCluster } from "./apply-cluster.ts";
import { benchStack } from "./apply-fixture.ts";

/** What a run should have found or done to every object. */
export type Expect = "created" | "unchanged";

/** A finished child process. */
interface ChildResult {
  readonly ms: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to exit (asynchronously, so this process keeps serving its sockets) and times it. */
export function timeProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.once("error", reject);
    child.once("close", (code) => {
      resolve({ ms: performance.now() - t0, code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}

/** How kubectl is run. */
export interface KubectlRun {
  readonly kubectl: string;
  readonly cluster: BenchCluster;
  /** kubectl's discovery cache, warmed before the first measured run. */
  readonly cacheDir: string;
}

/**
 * `kubectl apply --server-side --validate=false -f FILE`. `--validate=false` because the fake
 * answers /openapi/v2 in JSON whatever the Accept header, and kubectl asks for protobuf and
 * fails to parse it ("failed to download openapi: proto: cannot parse invalid wire-format data").
 */
export async function kubectlApply(run: KubectlRun, file: string, count: number): Promise<number> {
  const r = await timeProcess(run.kubectl, [
    "--kubeconfig", run.cluster.kubeconfig, "--context", run.cluster.context, "--cache-dir", run.cacheDir,
    "apply", "--server-side", "--validate=false", "-f", file,
  ]);
  const applied = r.stdout.split("\n").filter((l) => l.endsWith(" serverside-applied")).length;
  if (r.code !== 0 || applied !== count) throw new Error(`kubectl apply: exit ${String(r.code)}, ${applied} applied of ${count}\n${r.stderr.slice(0, 1000)}`);
  return r.ms;
}

/** How the gitward CLI is run: from source (type stripping) or a compiled entry point. */
export interface CliRun {
  /** The script node runs: src/cli/main.ts, or an entry that imports a compiled dist/. */
  readonly entry: string;
  readonly repo: string;
  readonly cacheDir: string;
  readonly cluster: BenchCluster;
}

/** `gitward apply --env ENV -o json` (plus `extra` flags), checked against `expect`. */
export async function cliApply(run: CliRun, environment: string, count: number, expect: Expect, extra: readonly string[] = []): Promise<number> {
  const r = await timeProcess(process.execPath, [run.entry, "apply", "--env", environment, ...commonCliArgs(run), ...extra], { ...process.env, NO_COLOR: "1" });
  const counts = r.code === 0 ? (JSON.parse(r.stdout) as { counts?: Record<string, number> }).counts : undefined;
  if (counts?.[expect] !== count) throw new Error(`gitward apply --env ${environment}: exit ${String(r.code)}, counts ${JSON.stringify(counts)}, expected ${count} ${expect}\n${r.stderr.slice(0, 1000)}${r.stdout.slice(0, 500)}`);
  return r.ms;
}

/** `gitward diff --env ENV -o json`, which must find every object unchanged. */
export async function cliDiff(run: CliRun, environment: string, count: number, extra: readonly string[] = []): Promise<number> {
  const r = await timeProcess(process.execPath, [run.entry, "diff", "--env", environment, "--detailed-exitcode", ...commonCliArgs(run), ...extra], { ...process.env, NO_COLOR: "1" });
  const counts = r.code === 0 ? (JSON.parse(r.stdout) as { counts?: Record<string, number> }).counts : undefined;
  if (counts?.["unchanged"] !== count) throw new Error(`gitward diff --env ${environment}: exit ${String(r.code)}, counts ${JSON.stringify(counts)}\n${r.stderr.slice(0, 1000)}`);
  return r.ms;
}

function commonCliArgs(run: CliRun): string[] {
  return ["--repo", run.repo, "--cache-dir", run.cacheDir, "--kubeconfig", run.cluster.kubeconfig, "--context", run.cluster.context, "-q", "-o", "json"];
}

/** Client and session tuning of an in-process session; empty is the shipped defaults. */
export interface SessionTuning {
  readonly settings?: Partial<ClientSettings>;
  readonly session?: Partial<Omit<SessionSettings, "fieldManager" | "inventoryNamespace">>;
}

/** The stack the benchmark's session runs apply as (the labels the fixture carries). */
export function benchStackRef(environment: string): StackRef {
  return { environment, stack: benchStack };
}

/** Opens a provider session, applies the batch, closes: timed as a whole. */
export async function sessionApply(cluster: BenchCluster, tuning: SessionTuning, desired: readonly DesiredObject[], environment: string, expect: Expect): Promise<number> {
  const t0 = performance.now();
  const session = await kubernetesProvider(tuning).open("cluster", { provider: "kubernetes" }, { kubeconfigPath: cluster.kubeconfig, context: cluster.context });
  const entries = await session.apply(desired, { stack: benchStackRef(environment), dryRun: false, force: false });
  await session.close();
  const ms = performance.now() - t0;
  const counts = countActions(entries);
  if (counts[expect] !== desired.length) throw new Error(`session apply: ${JSON.stringify(counts)}, expected ${desired.length} ${expect}; ${entries.find((e) => e.action === "failed")?.message ?? ""}`);
  return ms;
}

/** Opens a provider session, diffs the batch, closes; every object must be a no-op. */
export async function sessionDiff(cluster: BenchCluster, tuning: SessionTuning, desired: readonly DesiredObject[]): Promise<number> {
  const t0 = performance.now();
  const session = await kubernetesProvider(tuning).open("cluster", { provider: "kubernetes" }, { kubeconfigPath: cluster.kubeconfig, context: cluster.context });
  const set = await session.diff(desired, {});
  await session.close();
  const ms = performance.now() - t0;
  const noop = set.entries.filter((e) => e.action === "no-op").length;
  if (noop !== desired.length) throw new Error(`session diff: ${noop} no-op of ${desired.length}`);
  return ms;
}

/** What the engine runs on in this process: the workspace (opened once, as an agent keeps it) and the cluster. */
export interface EngineRun {
  readonly ws: Workspace;
  readonly cluster: BenchCluster;
  readonly tuning: KubernetesTuning;
}

/** `syncEnvironment` of one environment at HEAD, as `gitward apply` runs it, in this process. */
export async function engineSync(run: EngineRun, environment: string, count: number, expect: Expect): Promise<number> {
  const t0 = performance.now();
  const result = await syncEnvironment({
    source: run.ws.source, rev: "HEAD", configPath: "gitward.yaml", renderer: run.ws.renderer, check: run.ws.check, configCache: run.ws.configCache,
    environment, dryRun: false, force: false, providers: defaultProviders(run.tuning),
    providerContext: { kubeconfigPath: run.cluster.kubeconfig, context: run.cluster.context },
  });
  const ms = performance.now() - t0;
  const counts = countActions(result.stacks.flatMap((s) => s.entries));
  if (!result.ok || counts[expect] !== count) throw new Error(`syncEnvironment ${environment}: ok ${String(result.ok)}, ${JSON.stringify(counts)}; ${result.stacks.map((s) => s.error ?? "").join(" ")}`);
  return ms;
}

/** `diffEnvironment` of one environment at HEAD, as `gitward diff` runs it, in this process. */
export async function engineDiff(run: EngineRun, environment: string, count: number): Promise<number> {
  const t0 = performance.now();
  const outcome = await diffEnvironment({
    source: run.ws.source, rev: "HEAD", configPath: "gitward.yaml", renderer: run.ws.renderer, check: run.ws.check, configCache: run.ws.configCache,
    environment, providers: defaultProviders(run.tuning),
    providerContext: { kubeconfigPath: run.cluster.kubeconfig, context: run.cluster.context },
  });
  const ms = performance.now() - t0;
  const unchanged = outcome.plan?.counts.unchanged;
  if (outcome.errors.length > 0 || unchanged !== count) throw new Error(`diffEnvironment ${environment}: unchanged ${String(unchanged)}; ${outcome.errors.map((e) => e.message).join(" ")}`);
  return ms;
}
