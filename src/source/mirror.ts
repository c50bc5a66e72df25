import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { CommandRunner } from "../core/command-runner.ts";
import { GitwardError } from "../core/errors.ts";
import { firstErrorLine, runGit } from "./git-command.ts";
import type { RemoteLocation } from "./source-location.ts";

/** Options for {@link syncMirror}. */
export interface MirrorOptions {
  readonly runner: CommandRunner;
  /** The cache root; mirrors live in `<cacheDir>/repos/<key>.git`. */
  readonly cacheDir: string;
  /** Milliseconds one fetch may take. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Brings the bare mirror of a remote up to date and returns its git directory.
 * Branches and tags are fetched with forced refspecs and pruned, so a force-pushed
 * or deleted branch is followed. A new mirror is filled in a temporary directory and
 * renamed into place, so a concurrent process never sees a half-made one; an existing
 * mirror is only ever fetched into, never recreated (git's ref locks keep it sound).
 */
export async function syncMirror(remote: RemoteLocation, options: MirrorOptions): Promise<string> {
  const reposDir = join(options.cacheDir, "repos");
  const final = join(reposDir, `${remote.cacheKey}.git`);
  if (existsSync(join(final, "HEAD"))) {
    await fetchInto(remote, final, options);
    return final;
  }
  await mkdir(reposDir, { recursive: true });
  const temp = await mkdtemp(join(reposDir, `.${remote.cacheKey}.tmp-`));
  try {
    await git(options, ["init", "--bare", "--quiet", temp], `cannot create a mirror of ${remote.displayName}`);
    await fetchInto(remote, temp, options);
    await adoptRemoteHead(remote, temp, options);
    await rename(temp, final);
    return final;
  } catch (error: unknown) {
    if (!isTakenByOther(error)) throw error;
    // Another process made the mirror first: use it, bringing it up to date.
    await fetchInto(remote, final, options);
    return final;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

function isTakenByOther(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOTEMPTY" || code === "EEXIST";
}

/** Environment and options for talking to a remote: never prompt, only the expected transports. */
function transport(remote: RemoteLocation): { config: string[]; env: Record<string, string> } {
  const file = remote.protocol === "file";
  return {
    // protocol.file.allow=always only for file:// sources, where it is the point.
    config: file ? ["-c", "protocol.file.allow=always"] : [],
    env: {
      GIT_TERMINAL_PROMPT: "0",
      GCM_INTERACTIVE: "never",
      GIT_ALLOW_PROTOCOL: file ? "file" : "http:https:ssh:git",
    },
  };
}

async function fetchInto(remote: RemoteLocation, gitDir: string, options: MirrorOptions): Promise<void> {
  const { config, env } = transport(remote);
  // The URL goes on the command line rather than into the mirror's config, so no
  // credential it holds is ever written to disk.
  const args = [
    ...config,
    `--git-dir=${gitDir}`,
    "fetch",
    "--quiet",
    "--prune",
    "--force",
    "--no-write-fetch-head",
    remote.url,
    "+refs/heads/*:refs/heads/*",
    "+refs/tags/*:refs/tags/*",
  ];
  const result = await runGit(options.runner, { args, env, timeoutMs: options.timeoutMs, signal: options.signal });
  if (result.exitCode === 0 && !result.timedOut) return;
  const reason = result.timedOut ? `timed out after ${Math.round(options.timeoutMs / 1000)} s` : firstErrorLine(result);
  throw new GitwardError("git", `cannot fetch ${remote.displayName}: ${remote.mask(reason)}`, {
    hint: "check the URL, the network and the credentials (a credential helper or an SSH key: gitward never prompts)",
  });
}

/** Points the new mirror's HEAD at the remote's default branch, as `git clone` does; best effort. */
async function adoptRemoteHead(remote: RemoteLocation, gitDir: string, options: MirrorOptions): Promise<void> {
  const { config, env } = transport(remote);
  const listed = await runGit(options.runner, {
    args: [...config, `--git-dir=${gitDir}`, "ls-remote", "--symref", remote.url, "HEAD"],
    env,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  const match = /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(listed.stdout.toString("utf8"));
  if (listed.exitCode !== 0 || match?.[1] === undefined) return;
  await git(options, [`--git-dir=${gitDir}`, "symbolic-ref", "HEAD", match[1]], "cannot set the mirror's HEAD");
}

async function git(options: MirrorOptions, args: string[], what: string): Promise<void> {
  const result = await runGit(options.runner, { args, signal: options.signal });
  if (result.exitCode !== 0) throw new GitwardError("git", `${what}: ${firstErrorLine(result)}`);
}
