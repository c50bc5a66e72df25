import type { CommandRunner } from "../core/command-runner.ts";
import { GitwardError } from "../core/errors.ts";
import { runGit } from "./git-command.ts";
import { locationMask, maskUserinfo, parseLocation } from "./source-location.ts";

/** Options of {@link remoteHead}. */
export interface RemoteHeadOptions {
  /** Milliseconds `git ls-remote` may take; default 30 000. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The commit a repository's branch points at now, read with one `git ls-remote` and
 * nothing fetched: the cheap check of whether a branch moved. The repository is a URL or
 * a local path; git never prompts for credentials. Throws a `git` error
 * `cannot read <repo>: <why>`, credentials masked, when git fails (the last line git
 * printed) or times out, and `cannot read <repo>: branch <branch> not found` when the
 * branch does not exist.
 */
export async function remoteHead(runner: CommandRunner, repo: string, branch: string, opts: RemoteHeadOptions = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ref = `refs/heads/${branch}`;
  const r = await runGit(runner, { args: ["ls-remote", "--", repo, ref], timeoutMs, env: { GIT_TERMINAL_PROMPT: "0" }, signal: opts.signal });
  const cannot = (why: string, hint: string): GitwardError => new GitwardError("git", `cannot read ${maskUserinfo(repo)}: ${why}`, { hint });
  if (r.timedOut) throw cannot(`timed out after ${timeoutMs / 1000} s`, unreachableHint);
  if (r.exitCode !== 0) {
    const last = r.stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "").pop();
    throw cannot(last === undefined ? `exit ${r.exitCode}` : maskerFor(repo)(last), unreachableHint);
  }
  // ls-remote matches the pattern against the end of every ref (refs/heads/x/refs/heads/main too): only the exact ref counts.
  const sha = r.stdout
    .toString("utf8")
    .split("\n")
    .map((l) => l.split("\t"))
    .find(([, name]) => name === ref)?.[0];
  if (sha === undefined) throw cannot(`branch ${branch} not found`, "check the branch name");
  if (!/^[0-9a-f]{40,64}$/.test(sha)) throw cannot(`unexpected output of git ls-remote for ${ref}`, unreachableHint);
  return sha;
}

const unreachableHint = "check the URL, the network and the credentials (a credential helper or an SSH key: gitward never prompts)";

/** The location's own masker where it parses (its password wherever git prints it), else the user information of URLs. */
function maskerFor(repo: string): (text: string) => string {
  try {
    return locationMask(parseLocation(repo));
  } catch {
    return maskUserinfo;
  }
}
