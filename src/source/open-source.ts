import { existsSync } from "node:fs";
import type { CommandRunner } from "../core/command-runner.ts";
import { ProcessRunner } from "../core/command-runner.ts";
import { GitwardError } from "../core/errors.ts";
import type { GitSource, ReadLimits } from "./types.ts";
import { defaultReadLimits } from "./types.ts";
import { GitRepo, firstErrorLine, runGit } from "./git-command.ts";
import { RepoSource } from "./git-source.ts";
import { syncMirror } from "./mirror.ts";
import { parseLocation } from "./source-location.ts";

/** Options for {@link openSource}. */
export interface OpenSourceOptions {
  /** Where remote repositories are mirrored, in `repos/<key>.git`. */
  readonly cacheDir: string;
  /** Runs git; default a {@link ProcessRunner}. */
  readonly runner?: CommandRunner;
  /** Default {@link defaultReadLimits}. */
  readonly limits?: ReadLimits;
  readonly signal?: AbortSignal;
  /** Milliseconds a fetch may take; default 120 000. */
  readonly timeoutMs?: number;
}

/**
 * Opens a repository: a local path (a working directory's top level or a bare
 * repository) is used in place; a URL is mirrored into the cache and fetched, so
 * the source reflects the remote as it is now.
 */
export async function openSource(location: string, options: OpenSourceOptions): Promise<GitSource> {
  const runner = options.runner ?? new ProcessRunner();
  const limits = options.limits ?? defaultReadLimits();
  const parsed = parseLocation(location);
  if (parsed.kind === "local") {
    const gitDir = await findGitDir(runner, parsed.path, options.signal);
    return new RepoSource(new GitRepo(runner, gitDir, parsed.displayName), limits);
  }
  const gitDir = await syncMirror(parsed, {
    runner,
    cacheDir: options.cacheDir,
    timeoutMs: options.timeoutMs ?? 120_000,
    signal: options.signal,
  });
  return new RepoSource(new GitRepo(runner, gitDir, parsed.displayName, parsed.mask), limits);
}

/** The git directory of a local repository, refusing a path that is not the top of one. */
async function findGitDir(runner: CommandRunner, path: string, signal?: AbortSignal): Promise<string> {
  const hint = "pass the top-level directory of a clone, a bare repository, or a URL";
  if (!existsSync(path)) throw new GitwardError("git", `${path} does not exist`, { hint });
  const result = await runGit(runner, {
    args: ["-C", path, "rev-parse", "--absolute-git-dir", "--show-prefix"],
    signal,
  });
  if (result.exitCode !== 0) {
    const reason = firstErrorLine(result);
    const dubious = reason.includes("dubious ownership");
    throw new GitwardError("git", `${path} is not a git repository${dubious ? ` (${reason})` : ""}`, {
      hint: dubious ? `the repository belongs to another user; run: git config --global --add safe.directory ${path}` : hint,
    });
  }
  const [gitDir = "", prefix = ""] = result.stdout.toString("utf8").split("\n");
  if (prefix !== "") {
    // Paths in snapshots are relative to the repository's root, so a subdirectory would mislead.
    throw new GitwardError("git", `${path} is inside a git repository, not its top level (it is ${prefix.replace(/\/$/, "")} there)`, {
      hint,
    });
  }
  return gitDir;
}
