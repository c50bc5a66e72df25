import { join } from "node:path";
import type { CommandRunner } from "../core/command-runner.ts";
import { GitwardError } from "../core/errors.ts";
import { firstErrorLine, runGit } from "./git-command.ts";
import { parseLocation } from "./source-location.ts";

/** Where a forge publishes each pull request's head. */
export type PullRefStyle = "github" | "gitea" | "gitlab";

/** What {@link fetchPullHead} needs. */
export interface PullHeadOptions {
  /** The repository the agent follows: a local path (read in place) or a URL (its mirror in the cache). */
  readonly repo: string;
  /** The cache directory whose `repos/<key>.git` is the URL's mirror (as `openSource` keeps it). */
  readonly cacheDir: string;
  readonly runner: CommandRunner;
  readonly style: PullRefStyle;
  readonly number: number;
  /** The head the forge says the pull request has; anything else is refused. */
  readonly expectedSha: string;
  /** Milliseconds the fetch may take; default 120 000. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The ref a forge keeps a pull request's head under: `refs/pull/N/head` (GitHub, Gitea), `refs/merge-requests/N/head` (GitLab). */
export function pullHeadRef(style: PullRefStyle, number: number): string {
  return style === "gitlab" ? `refs/merge-requests/${number}/head` : `refs/pull/${number}/head`;
}

/** Where the agent's mirror keeps a fetched pull request head, out of the way of the branches it mirrors and prunes. */
export function previewRef(number: number): string {
  return `refs/gitward/previews/${number}`;
}

/**
 * Makes a pull request's head commit readable from the agent's source: for a URL, fetches the
 * forge's pull-request ref into the mirror (arguments as an array, a timeout, no prompt,
 * credentials masked in errors, the URL never written to disk); for a local repository, reads
 * the ref in place. Returns the head's SHA; refuses one that is not what the forge says, so a
 * head pushed after the forge answered (or a ref that lies) is never deployed as that pull request.
 */
export async function fetchPullHead(opts: PullHeadOptions): Promise<string> {
  const n = opts.number;
  if (!Number.isSafeInteger(n) || n <= 0) throw new GitwardError("git", `invalid pull request number ${String(n)}`);
  const location = parseLocation(opts.repo);
  const source = pullHeadRef(opts.style, n);
  let gitDir: string;
  let ref: string;
  if (location.kind === "local") {
    gitDir = await localGitDir(opts, location.path);
    ref = source;
  } else {
    gitDir = join(opts.cacheDir, "repos", `${location.cacheKey}.git`);
    ref = previewRef(n);
    const file = location.protocol === "file";
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const result = await runGit(opts.runner, {
      args: [...(file ? ["-c", "protocol.file.allow=always"] : []), `--git-dir=${gitDir}`, "fetch", "--quiet", "--force", "--no-write-fetch-head", "--no-tags", location.url, `+${source}:${ref}`],
      env: { GIT_TERMINAL_PROMPT: "0", GCM_INTERACTIVE: "never", GIT_ALLOW_PROTOCOL: file ? "file" : "http:https:ssh:git" },
      timeoutMs, signal: opts.signal,
    });
    if (result.exitCode !== 0 || result.timedOut) {
      const reason = result.timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : firstErrorLine(result);
      throw new GitwardError("git", `cannot fetch ${source} of pull request ${n} from ${location.displayName}: ${location.mask(reason)}`);
    }
  }
  const parsed = await runGit(opts.runner, { args: [`--git-dir=${gitDir}`, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`], signal: opts.signal });
  const sha = parsed.stdout.toString("utf8").trim();
  if (parsed.exitCode !== 0 || sha === "") throw new GitwardError("git", `pull request ${n} has no head at ${source} in ${location.displayName}`);
  if (sha !== opts.expectedSha.toLowerCase()) {
    throw new GitwardError("git", `pull request ${n}: ${source} is at ${sha.slice(0, 12)}, and the forge says its head is ${opts.expectedSha.slice(0, 12)}; not deployed`, {
      hint: "a push may have landed meanwhile: the next event or poll deploys the new head",
    });
  }
  return sha;
}

async function localGitDir(opts: PullHeadOptions, path: string): Promise<string> {
  const result = await runGit(opts.runner, { args: ["-C", path, "rev-parse", "--absolute-git-dir"], signal: opts.signal });
  if (result.exitCode !== 0) throw new GitwardError("git", `${path} is not a git repository: ${firstErrorLine(result)}`);
  return result.stdout.toString("utf8").trim();
}
