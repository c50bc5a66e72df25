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
  /**
   * The program that runs it without a network (`unshare --net --map-root-user --`) where the
   * platform allows it, found to work once; undefined where it does not.
   */
  readonly isolation: { readonly command: string; readonly args: readonly string[] } | undefined;
}

/**
 * Finds `kustomize` or, failing that, `kubectl` on PATH, asks it its version, and finds out
 * once whether it can run in a network namespace of its own (Linux, `unshare`, user namespaces
 * allowed). Where it cannot, builds are still kept off the network by their environment
 * ({@link sandboxEnv}).
 */
export async function findKustomizeTool(runner: CommandRunner, path: string = process.env["PATH"] ?? ""): Promise<KustomizeTool | undefined> {
  const tools = [
    { name: "kustomize", args: ["build"], versionArgs: ["version"] },
    { name: "kubectl", args: ["kustomize"], versionArgs: ["version", "--client"] },
  ] as const;
  for (const tool of tools) {
    const command = await onPath(tool.name, path);
    if (command === undefined) continue;
    const v = await runner.run({ command, args: tool.versionArgs, timeoutMs: 20_000, maxStdoutBytes: 64 * 1024 });
    const version = v.exitCode === 0 ? v.stdout.toString("utf8").trim() : "unknown";
    const isolation = await probeIsolation(runner, path, command, tool.versionArgs);
    return { command, args: tool.args, version, isolation };
  }
  return undefined;
}

/** `unshare --net --map-root-user --` when running the tool under it works here (it fails in most containers). */
async function probeIsolation(runner: CommandRunner, path: string, command: string, versionArgs: readonly string[]): Promise<KustomizeTool["isolation"]> {
  if (process.platform !== "linux") return undefined;
  const unshare = await onPath("unshare", path);
  if (unshare === undefined) return undefined;
  const isolation = { command: unshare, args: ["--net", "--map-root-user", "--"] };
  try {
    const r = await runner.run({ command: unshare, args: [...isolation.args, command, ...versionArgs], timeoutMs: 20_000, maxStdoutBytes: 64 * 1024 });
    return r.exitCode === 0 && !r.timedOut ? isolation : undefined;
  } catch {
    return undefined;
  }
}

// A local port nothing listens on (discard): a proxy there refuses every connection at once.
const closedProxy = "http://127.0.0.1:9";

/**
 * The environment of a build. Without network: every HTTP(S) request goes to a proxy that
 * refuses it (Go's HTTP client asks the proxy for everything but loopback addresses), git may
 * use no transport at all (remote bases are fetched with git), and nothing may prompt. With
 * remote bases allowed: git may use network transports only, not `file` or `ext`, so a
 * reference cannot clone a repository from the runner's disk or run a command.
 */
export function sandboxEnv(network: boolean): Record<string, string> {
  const common = { GIT_TERMINAL_PROMPT: "0", GIT_ALLOW_PROTOCOL: network ? "https:http:ssh:git" : "none" };
  if (network) return common;
  const proxies = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"];
  return { ...common, ...Object.fromEntries(proxies.map((k) => [k, closedProxy])), NO_PROXY: "", no_proxy: "", GIT_SSH_COMMAND: "false" };
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
  /** Remote bases are allowed: the build may reach the network. Otherwise it runs without (see {@link KustomizeTool.isolation}). */
  readonly network: boolean;
  /** Most bytes of output taken; more is a `limit` error with this message. */
  readonly outputLimit?: { readonly maxBytes: number; readonly message: string };
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Builds a kustomization from a commit: writes exactly its inputs to a private temporary
 * directory, runs the tool there without plugins and, unless remote bases are allowed,
 * without a network, and returns its YAML output.
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
    const build = [opts.tool.command, ...opts.tool.args, join(work, opts.dir)];
    const isolated = !opts.network && opts.tool.isolation !== undefined ? opts.tool.isolation : undefined;
    const maxBytes = Math.min(opts.outputLimit?.maxBytes ?? Infinity, 256 * 1024 * 1024);
    const result = await opts.runner.run({
      command: isolated?.command ?? opts.tool.command,
      args: isolated === undefined ? build.slice(1) : [...isolated.args, ...build],
      cwd: work,
      env: sandboxEnv(opts.network),
      timeoutMs: opts.timeoutMs ?? 120_000,
      maxStdoutBytes: maxBytes,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    if (result.truncated) {
      const message = opts.outputLimit?.message ?? `kustomize output is more than ${maxBytes} bytes`;
      throw new GitwardError(ErrorCode.Limit, message, { subject: { location }, hint: "render less in one stack: split it" });
    }
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
