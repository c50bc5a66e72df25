import { access, mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { constants } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import type { CommandRunner } from "../core/command-runner.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { Snapshot } from "../source/types.ts";
import type { KustomizeInputs } from "./kustomize-inputs.ts";

/** The kustomize program found on PATH: standalone `kustomize build` or `kubectl kustomize`. */
export interface KustomizeTool {
  readonly command: string;
  readonly args: readonly string[];
  /** What the tool says its version is; part of the render cache key. */
  readonly version: string;
}

/** Finds `kustomize` or, failing that, `kubectl` on PATH, and asks it its version. */
export async function findKustomizeTool(runner: CommandRunner, path: string = process.env["PATH"] ?? ""): Promise<KustomizeTool | undefined> {
  const tools = [
    { name: "kustomize", args: ["build"], versionArgs: ["version"] },
    { name: "kubectl", args: ["kustomize"], versionArgs: ["version", "--client"] },
  ] as const;
  for (const tool of tools) {
    const command = await onPath(tool.name, path);
    if (command === undefined) continue;
    const v = await runner.run({ command, args: tool.versionArgs, timeoutMs: 20_000, maxStdoutBytes: 64 * 1024 });
    return { command, args: tool.args, version: v.exitCode === 0 ? v.stdout.toString("utf8").trim() : "unknown" };
  }
  return undefined;
}

async function onPath(name: string, path: string): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    try {
      await access(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Options for one kustomize build. */
export interface KustomizeBuildOptions {
  readonly snapshot: Snapshot;
  readonly dir: string;
  readonly kustomizationFile: string;
  readonly inputs: KustomizeInputs;
  readonly tool: KustomizeTool | undefined;
  readonly runner: CommandRunner;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Builds a kustomization from a commit: writes exactly its inputs to a private temporary
 * directory, runs the tool there without network plugins, and returns its YAML output.
 */
export async function kustomizeBuild(opts: KustomizeBuildOptions): Promise<Buffer> {
  const location = { file: opts.kustomizationFile };
  if (opts.tool === undefined) {
    throw new GitwardError(ErrorCode.Tool, "kustomize is needed to render this stack, and neither kustomize nor kubectl is on PATH", {
      subject: { location },
      hint: "install kubectl (it includes kustomize) or kustomize: https://kubectl.docs.kubernetes.io/installation/kustomize/",
    });
  }
  const work = await mkdtemp(join(tmpdir(), "gitward-kustomize-"));
  try {
    for (const dir of opts.inputs.dirs) await opts.snapshot.materialize(dir, join(work, dir), opts.signal);
    const contents = await opts.snapshot.readFiles(opts.inputs.files, opts.signal);
    for (const [file, content] of contents) {
      await mkdir(dirname(join(work, file)), { recursive: true });
      await writeFile(join(work, file), content);
    }
    const result = await opts.runner.run({
      command: opts.tool.command,
      args: [...opts.tool.args, join(work, opts.dir)],
      cwd: work,
      timeoutMs: opts.timeoutMs ?? 120_000,
      maxStdoutBytes: 256 * 1024 * 1024,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    if (result.exitCode !== 0 || result.timedOut) {
      const why = result.timedOut ? "timed out" : firstLines(result.stderr.replaceAll(work + "/", ""), 3);
      throw new GitwardError(ErrorCode.Render, `kustomize build failed: ${why}`, { subject: { location } });
    }
    return result.stdout;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function firstLines(text: string, n: number): string {
  return text.trim().split("\n").slice(0, n).join(" | ") || "no output";
}
