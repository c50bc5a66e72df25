/**
 * The host provider benchmark: sync 10,000 small files into an empty root, then a no-op drift
 * check (`diff`) and a no-op sync of the same files. Measured in this process through the
 * provider session, and as whole `gitward apply` / `gitward diff` processes on a generated
 * repository (render cache warm, so the CLI figures are the sync, not the render).
 *
 *   node bench/host.bench.ts [--reps 5] [--files 10000] [--no-cli] [--work bench/.work/host]
 *
 * Target (issue #5): the no-op drift check under 0.5 s.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { DesiredObject, StackRef } from "../src/providers/provider.ts";
import { hostProvider } from "../src/providers/host/provider.ts";
import { markdownTable, summarize, type ResultRow } from "./stats.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    files: { type: "string", default: "10000" },
    "no-cli": { type: "boolean", default: false },
    work: { type: "string", default: resolve(import.meta.dirname, ".work/host") },
  },
});
const reps = Number(values.reps);
const files = Number(values.files);
const work = values.work;
const perDir = 100;
const stack: StackRef = { environment: "bench", stack: "files" };
const cli = resolve(import.meta.dirname, "../bin/gitward.js");

function path(i: number): string {
  return `d${String(Math.floor(i / perDir)).padStart(3, "0")}/f${String(i % perDir).padStart(3, "0")}.conf`;
}

function content(i: number): string {
  return `# file ${i}\nkey_${i} = value ${i}\n`;
}

function desired(): DesiredObject[] {
  return Array.from({ length: files }, (_, i) => ({
    ref: { group: "host.gitward.dev", kind: "File", name: `f${i}` },
    apiVersion: "host.gitward.dev/v1alpha1",
    object: { apiVersion: "host.gitward.dev/v1alpha1", kind: "File", metadata: { name: `f${i}` }, spec: { path: path(i), content: content(i), mode: "0644" } },
  }));
}

async function inProcess(): Promise<ResultRow[]> {
  const samples = { sync: [] as number[], diff: [] as number[], noop: [] as number[] };
  const objects = desired();
  for (let r = 0; r < reps; r++) {
    const root = join(work, `root-${r}`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    const session = await hostProvider().open("bench", { provider: "host", root }, {});
    let t = performance.now();
    const applied = await session.transact!(objects, [], { stack, dryRun: false, force: false, prune: true });
    samples.sync.push(performance.now() - t);
    if (applied.entries.filter((e) => e.action === "created").length !== files) throw new Error(`sync created ${applied.entries.length}: ${applied.error ?? ""}`);
    await session.writeInventory({ stack, revision: "bench", entries: objects.map((o) => ({ ref: o.ref, apiVersion: o.apiVersion })), syncs: [] });
    const inventory = await session.readInventory(stack);
    t = performance.now();
    const d = await session.diff(objects, inventory === undefined ? {} : { inventory });
    samples.diff.push(performance.now() - t);
    if (d.entries.some((e) => e.action !== "no-op")) throw new Error("drift check found changes");
    t = performance.now();
    const again = await session.transact!(objects, [], { stack, dryRun: false, force: false, prune: true });
    samples.noop.push(performance.now() - t);
    if (again.entries.some((e) => e.action !== "unchanged")) throw new Error("no-op sync changed something");
    rmSync(root, { recursive: true, force: true });
  }
  return [
    { run: `${files} files, empty root`, measured: "provider: sync (stage-less, no commands)", ms: summarize(samples.sync), objects: files },
    { run: `${files} files, in sync`, measured: "provider: no-op drift check (diff)", ms: summarize(samples.diff), targetMs: 500, objects: files },
    { run: `${files} files, in sync`, measured: "provider: no-op sync (apply)", ms: summarize(samples.noop), objects: files },
  ];
}

function generateRepo(dir: string, root: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "files"), { recursive: true });
  writeFileSync(join(dir, "gitward.yaml"), `version: 1
environments:
  bench:
    targets: { host: { provider: host, root: ${root} } }
stacks:
  files: { target: host, path: files }
`);
  for (let d = 0; d < files / perDir; d++) {
    const docs: string[] = [];
    for (let i = d * perDir; i < Math.min(files, (d + 1) * perDir); i++) {
      docs.push(`apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata:\n  name: f${i}\nspec:\n  path: ${path(i)}\n  mode: "0644"\n  content: ${JSON.stringify(content(i))}\n`);
    }
    writeFileSync(join(dir, "files", `d${String(d).padStart(3, "0")}.yaml`), docs.join("---\n"));
  }
  const git = (...args: string[]): void => { execFileSync("git", args, { cwd: dir, stdio: "ignore", env: { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" } }); };
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", "bench");
}

function timeCli(args: readonly string[], okCodes: readonly number[]): number {
  const t = performance.now();
  try {
    execFileSync(process.execPath, [cli, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e: unknown) {
    const status = (e as { status?: number }).status ?? -1;
    if (!okCodes.includes(status)) throw e;
  }
  return performance.now() - t;
}

function wholeProcess(): ResultRow[] {
  const repo = join(work, "repo");
  const cache = join(work, "cache");
  const samples = { sync: [] as number[], diff: [] as number[], noop: [] as number[] };
  for (let r = 0; r < reps; r++) {
    const root = join(work, `cli-root-${r}`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    generateRepo(repo, root);
    const common = ["--repo", repo, "--env", "bench", "--cache-dir", cache, "-q"];
    timeCli(["validate", ...common], [0]);
    samples.sync.push(timeCli(["apply", ...common], [0]));
    samples.diff.push(timeCli(["diff", "--detailed-exitcode", ...common], [0]));
    samples.noop.push(timeCli(["apply", ...common], [0]));
    rmSync(root, { recursive: true, force: true });
  }
  return [
    { run: `${files} files, empty root`, measured: "`gitward apply` whole process", ms: summarize(samples.sync), objects: files },
    { run: `${files} files, in sync`, measured: "`gitward diff` whole process", ms: summarize(samples.diff), objects: files },
    { run: `${files} files, in sync`, measured: "`gitward apply` (no-op) whole process", ms: summarize(samples.noop), objects: files },
  ];
}

mkdirSync(work, { recursive: true });
const rows = await inProcess();
if (!values["no-cli"]) rows.push(...wholeProcess());
process.stdout.write(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${loadavg()[0]?.toFixed(2) ?? "?"}\n\n`);
process.stdout.write(markdownTable(rows));
