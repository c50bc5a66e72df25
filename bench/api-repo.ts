/**
 * The repository the web API and UI benchmarks serve: E environments of host targets, each with
 * the same S stacks of one small file, so the agent holds E × S stack instances. A committer
 * changes one stack's file and commits, so the agent has a new revision to sync every few seconds.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "bench", GIT_AUTHOR_EMAIL: "bench@example.com", GIT_COMMITTER_NAME: "bench", GIT_COMMITTER_EMAIL: "bench@example.com" };

/** The shape of the generated repository. */
export interface ApiRepoShape {
  readonly environments: number;
  readonly stacksPerEnvironment: number;
}

/** Environment names of a shape: `env0`, `env1`, ... */
export function environmentNames(shape: ApiRepoShape): string[] {
  return Array.from({ length: shape.environments }, (_, i) => `env${String(i)}`);
}

/** Stack name `i` of a shape: `s0000`, `s0001`, ... */
export function stackName(i: number): string {
  return `s${String(i).padStart(4, "0")}`;
}

/**
 * Writes the repository at `dir` (removed first) and one empty host root per environment under
 * `roots`, and commits. Returns HEAD.
 */
export function generateApiRepo(dir: string, roots: string, shape: ApiRepoShape): string {
  rmSync(dir, { recursive: true, force: true });
  rmSync(roots, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const lines = ["version: 1", "environments:"];
  for (const env of environmentNames(shape)) {
    mkdirSync(join(roots, env), { recursive: true });
    lines.push(`  ${env}:`, `    targets: { host: { provider: host, root: ${JSON.stringify(join(roots, env))} } }`, "    sync: { auto: true, prune: true, selfHeal: true }");
  }
  lines.push("stacks:");
  for (let i = 0; i < shape.stacksPerEnvironment; i++) {
    const name = stackName(i);
    lines.push(`  ${name}: { target: host, path: stacks/${name} }`);
    writeStack(dir, i, 0);
  }
  writeFileSync(join(dir, "gitward.yaml"), `${lines.join("\n")}\n`);
  for (const args of [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "bench: initial"]]) {
    execFileSync("git", args, { cwd: dir, env: gitEnv, stdio: "ignore" });
  }
  return execFileSync("git", ["rev-parse", "HEAD"], { cwd: dir, encoding: "utf8" }).trim();
}

function writeStack(dir: string, i: number, generation: number): void {
  const name = stackName(i);
  mkdirSync(join(dir, "stacks", name), { recursive: true });
  writeFileSync(join(dir, "stacks", name, "file.yaml"),
    `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: ${name} }\nspec: { path: "${name}.conf", content: "stack ${String(i)} generation ${String(generation)}\\n" }\n`);
}

/**
 * Commits a change to one stack (round robin) every `everyMs`, without blocking the event loop.
 * `stop()` waits for a commit in progress and returns how many were made.
 */
export function startCommitter(dir: string, shape: ApiRepoShape, everyMs: number): { stop(): Promise<number> } {
  let commits = 0;
  let running: Promise<void> | undefined;
  const commit = async (): Promise<void> => {
    const i = commits % shape.stacksPerEnvironment;
    writeStack(dir, i, commits + 1);
    await execFileAsync("git", ["add", "-A"], { cwd: dir, env: gitEnv });
    await execFileAsync("git", ["commit", "-q", "-m", `bench: change ${stackName(i)}`], { cwd: dir, env: gitEnv });
    commits++;
  };
  const timer = setInterval(() => {
    running ??= commit().finally(() => { running = undefined; });
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      return commits;
    },
  };
}
