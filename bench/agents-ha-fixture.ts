/**
 * The fixture of the several-agents benchmark (bench/agents-ha.bench.ts): a repository of N
 * stacks of one small object each (even stacks a host File, odd ones a ConfigMap), its next
 * revision for some of the stacks, and agent processes started through the CLI as
 * `gitward agent` runs, killed or stopped by the benchmark.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, closeSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort } from "../test/support/git-server.ts";

/** The shape of the generated repository. */
export interface HaRepoSpec {
  readonly dir: string;
  readonly stacks: number;
  /** Host stacks per host target; each target is its own root, shared by every agent. */
  readonly stacksPerRoot: number;
  /** Where the host roots are made (`<rootsDir>/r<k>`). */
  readonly rootsDir: string;
  /** The namespace of the ConfigMaps (it must exist in the fake API server). */
  readonly namespace: string;
}

const environment = "bench";
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };

/** The environment every generated stack is in. */
export const haEnvironment = environment;

/** The name of stack `i`: `s0000`, `s0001`, … */
export function stackName(i: number): string {
  return `s${String(i).padStart(4, "0")}`;
}

/** Whether stack `i` is a host stack (the even ones) rather than a ConfigMap. */
export function isHostStack(i: number): boolean {
  return i % 2 === 0;
}

function objectYaml(i: number, version: string): string {
  const name = stackName(i);
  return isHostStack(i)
    ? `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: ${name} }\nspec: { path: "${name}.conf", content: "stack ${i} ${version}\\n" }\n`
    : `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name} }\ndata: { stack: "${i}", version: "${version}" }\n`;
}

function git(dir: string, args: readonly string[]): string {
  return execFileSync("git", args, { cwd: dir, env: gitEnv, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
}

/**
 * Writes the repository and commits it; returns the commit. Host stacks are spread over
 * `ceil(hostStacks / stacksPerRoot)` targets (syncs of one root run one at a time, and agents
 * in other processes wait on its file lock), all in one environment with auto sync and self-heal.
 */
export function generateHaRepo(spec: HaRepoSpec): string {
  rmSync(spec.dir, { recursive: true, force: true });
  mkdirSync(spec.dir, { recursive: true });
  const hostStacks = Math.ceil(spec.stacks / 2);
  const roots = Math.max(1, Math.ceil(hostStacks / spec.stacksPerRoot));
  const targets: string[] = [];
  for (let k = 0; k < roots; k++) {
    const root = join(spec.rootsDir, `r${k}`); // as hostFilePath
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    targets.push(`      host-${k}: { provider: host, root: ${resolve(root)} }`);
  }
  const lines = [`version: 1\nenvironments:\n  ${environment}:\n    targets:\n${targets.join("\n")}\n      cluster: { provider: kubernetes }\n    sync: { auto: true, prune: true, selfHeal: true }\nstacks:`];
  for (let i = 0; i < spec.stacks; i++) {
    const name = stackName(i);
    const target = isHostStack(i) ? `host-${Math.floor(i / 2) % roots}` : "cluster";
    lines.push(`  ${name}: { target: ${target}, path: stacks/${name}${isHostStack(i) ? "" : `, namespace: ${spec.namespace}`} }`);
    mkdirSync(join(spec.dir, "stacks", name), { recursive: true });
    writeFileSync(join(spec.dir, "stacks", name, "object.yaml"), objectYaml(i, "v1"));
  }
  writeFileSync(join(spec.dir, "gitward.yaml"), `${lines.join("\n")}\n`);
  git(spec.dir, ["init", "-q", "-b", "main"]);
  git(spec.dir, ["add", "-A"]);
  git(spec.dir, ["commit", "-q", "-m", "v1"]);
  return git(spec.dir, ["rev-parse", "HEAD"]);
}

/** The file host stack `i` writes, under its root. */
export function hostFilePath(spec: Omit<HaRepoSpec, "dir" | "namespace">, i: number): string {
  const roots = Math.max(1, Math.ceil(Math.ceil(spec.stacks / 2) / spec.stacksPerRoot));
  return join(spec.rootsDir, `r${Math.floor(i / 2) % roots}`, `${stackName(i)}.conf`);
}

/** Changes the object of each named stack (by index) to `version` and commits; returns the commit. */
export function commitVersion(dir: string, indexes: readonly number[], version: string): string {
  for (const i of indexes) writeFileSync(join(dir, "stacks", stackName(i), "object.yaml"), objectYaml(i, version));
  git(dir, ["add", "-A"]);
  git(dir, ["commit", "-q", "-m", version]);
  return git(dir, ["rev-parse", "HEAD"]);
}

/** How to start one agent. */
export interface AgentSpec {
  readonly tag: string;
  readonly repo: string;
  readonly state: string;
  readonly work: string;
  readonly concurrency: number;
  readonly pollSeconds: number;
  /** Only for PostgreSQL state; omitted for SQLite. */
  readonly leaseSeconds?: number;
  readonly kubeconfig: string;
  readonly context: string;
  /** Extra node flags for this agent (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** The gitward sources to run (another version's `src/`); default this checkout's. */
  readonly srcDir?: string;
}

/** One agent process the benchmark started. */
export interface AgentProcess {
  readonly tag: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Where its stderr (the JSON log) goes. */
  readonly log: string;
}

/** Starts `gitward agent` (src/cli/main.ts, which re-executes itself with the agent's heap flag) and returns at once. */
export async function startAgent(spec: AgentSpec): Promise<AgentProcess> {
  const config = join(spec.work, `agent-${spec.tag}.yaml`);
  writeFileSync(config, `concurrency: ${spec.concurrency}
cacheDir: ${join(spec.work, `cache-${spec.tag}`)}
intervals: { poll: ${spec.pollSeconds}, drift: 3600 }
targets:
  cluster: { kubeconfig: ${spec.kubeconfig}, context: ${spec.context} }
`);
  rmSync(join(spec.work, `cache-${spec.tag}`), { recursive: true, force: true });
  const port = await freePort();
  const log = join(spec.work, `agent-${spec.tag}.log`);
  const fd = openSync(log, "w");
  const args = [
    ...(spec.nodeArgs ?? []), join(spec.srcDir ?? join(import.meta.dirname, "..", "src"), "cli", "main.ts"), "agent",
    "--repo", spec.repo, "--state", spec.state, "--listen", `127.0.0.1:${port}`, "--config", config,
    ...(spec.leaseSeconds === undefined ? [] : ["--agent-id", spec.tag, "--lease-seconds", String(spec.leaseSeconds)]),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", fd], env: { ...process.env, NO_COLOR: "1", GITWARD_LOG_LEVEL: "warn" } });
  closeSync(fd);
  return { tag: spec.tag, port, child, log };
}

/** Whether the process has exited or was killed. */
export function hasExited(agent: AgentProcess): boolean {
  return agent.child.exitCode !== null || agent.child.signalCode !== null;
}

/** Sends a signal and waits for the process to exit (SIGKILL after `graceMs`). */
export async function stopAgent(agent: AgentProcess, signal: NodeJS.Signals, graceMs = 20_000): Promise<void> {
  if (hasExited(agent)) return;
  const exited = new Promise<void>((r) => agent.child.once("exit", () => r()));
  agent.child.kill(signal);
  const timer = setTimeout(() => agent.child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
