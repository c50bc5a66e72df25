import type { CommandRunner } from "../core/command-runner.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { firstErrorLine, runGit } from "../source/git-command.ts";

/** Milliseconds each of these git commands may take: they read one local repository. */
const timeoutMs = 30_000;

/**
 * The top level of the work tree that `path` is in, found as git finds it
 * (`git rev-parse --show-toplevel` from there), so that a command run in a subdirectory of a
 * clone reads the clone. `path` itself when git finds no work tree there: a bare repository,
 * not a repository at all, or no git; opening it then says what is wrong.
 */
export async function repositoryTopLevel(runner: CommandRunner, path: string): Promise<string> {
  try {
    const r = await runGit(runner, { args: ["-C", path, "rev-parse", "--show-toplevel"], timeoutMs });
    const top = r.stdout.toString("utf8").trim();
    return r.exitCode === 0 && top !== "" ? top : path;
  } catch {
    return path;
  }
}

/** What a clone's work tree holds that HEAD does not. */
export interface WorkingTreeState {
  /** HEAD's commit id. */
  readonly head: string;
  /**
   * Tracked files whose work tree or index differs from HEAD, one per path, as
   * `git status --porcelain --untracked-files=no` lists them. Untracked files are not counted:
   * no command reads them until they are added.
   */
  readonly changes: number;
}

/** The state of the work tree at `topLevel`; undefined for a bare repository, one without commits, or a path git cannot read. */
export async function workingTreeState(runner: CommandRunner, topLevel: string): Promise<WorkingTreeState | undefined> {
  const head = await runGit(runner, { args: ["-C", topLevel, "rev-parse", "--verify", "--quiet", "HEAD"], timeoutMs });
  if (head.exitCode !== 0) return undefined;
  const status = await runGit(runner, { args: ["-C", topLevel, "status", "--porcelain", "--untracked-files=no"], timeoutMs, maxStdoutBytes: 64 * 1024 * 1024 });
  if (status.exitCode !== 0) return undefined;
  const changes = status.stdout.toString("utf8").split("\n").filter((l) => l.trim() !== "").length;
  return { head: head.stdout.toString("utf8").trim(), changes };
}

/**
 * A commit of the work tree's tracked files (index and unstaged edits) on top of HEAD, made
 * with `git stash create`: an object in the repository that no branch, tag or stash entry
 * names, so nothing the user sees changes. Undefined when there is nothing to commit.
 */
export async function workingTreeCommit(runner: CommandRunner, topLevel: string): Promise<string | undefined> {
  // The commit's author is of no interest, and a machine without user.email must not fail it.
  const env = { GIT_AUTHOR_NAME: "gitward", GIT_AUTHOR_EMAIL: "gitward@localhost", GIT_COMMITTER_NAME: "gitward", GIT_COMMITTER_EMAIL: "gitward@localhost" };
  const r = await runGit(runner, { args: ["-C", topLevel, "stash", "create", "gitward: the working tree"], env, timeoutMs });
  if (r.exitCode !== 0) {
    throw new GitwardError(ErrorCode.Git, `cannot read the working tree of ${topLevel}: ${firstErrorLine(r)}`, {
      hint: "--working-tree needs a clone with a work tree and at least one commit",
    });
  }
  const sha = r.stdout.toString("utf8").trim();
  return sha === "" ? undefined : sha;
}
