/**
 * Rollback through Git: a rollback is a new commit that undoes earlier ones, pushed like
 * any other change, so Git stays the only truth and the agent syncs it as usual.
 *
 * The repository is cloned into a temporary directory with the git CLI (source's working
 * clone); rollback-undo.ts works out what to undo and undoes it there (rollback-steps.ts picks
 * the commits, rollback-render.ts renders revisions of the clone with the engine, so that a
 * rollback changes only what its environment or stack renders), rollback-message.ts writes
 * the message. docs/rollback.md states the semantics.
 */
import type { CommandRunner } from "../core/command-runner.ts";
import { ProcessRunner } from "../core/command-runner.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { shortSha } from "../source/git-command.ts";
import type { GitIdentity } from "../source/git-identity.ts";
import { userIdentity } from "../source/git-identity.ts";
import { locationMask, parseLocation } from "../source/source-location.ts";
import type { WorkingClone, WorkingCloneOptions } from "../source/working-clone.ts";
import { PushRefusal, withWorkingClone } from "../source/working-clone.ts";
import { rollbackMessage } from "./rollback-message.ts";
import type { RevertedCommit, RollbackTarget, Undone } from "./rollback-undo.ts";
import { stackPaths, undo } from "./rollback-undo.ts";
import { openWorkspace } from "./workspace.ts";

export type { GitIdentity } from "../source/git-identity.ts";
export type { RevertedCommit, RollbackTarget } from "./rollback-undo.ts";

/** Where the rollback commit goes: the source branch, a new branch for a pull request, or nowhere (a dry run). */
export type RollbackPublish = { readonly kind: "push" } | { readonly kind: "branch"; readonly name: string } | { readonly kind: "none" };

/** Options of {@link rollback}. */
export interface RollbackOptions {
  /** The repository: a local path or a URL (credentials in it are only ever passed to git). */
  readonly repo: string;
  /** The branch to roll back; default: the branch the remote's HEAD names, else `main`. */
  readonly sourceBranch?: string;
  /** Path of gitward.yaml in the repository; default `gitward.yaml`. */
  readonly configPath?: string;
  readonly environment: string;
  /** Limit the rollback to this stack's directory for the environment (and gitward.yaml). */
  readonly stack?: string;
  readonly target: RollbackTarget;
  /** Why; written into the commit message. Required. */
  readonly reason: string;
  readonly publish: RollbackPublish;
  /** Environment the author and git settings come from; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory whose git config names the author when the repository is a URL; default the process's. */
  readonly cwd?: string;
  /** Parent of the temporary clone; default the system's temporary directory. */
  readonly tmpDir?: string;
  /** Time limit of each git command (the clone and the push included) in milliseconds; default 300 000. */
  readonly timeoutMs?: number;
  /**
   * Where rendered stacks are cached between runs (the render cache `gitward render` and the
   * agent keep, by content); default none: renders are kept in memory for this rollback only.
   */
  readonly cacheDir?: string;
  readonly runner?: CommandRunner;
  readonly progress?: (message: string) => void;
  readonly signal?: AbortSignal;
}

/** The outcome of {@link rollback}. */
export interface RollbackResult {
  /** The rollback commit's SHA (for a dry run, in a clone that no longer exists). */
  readonly commit: string;
  /** The head of the source branch the commit was made on. */
  readonly base: string;
  readonly sourceBranch: string;
  /** The branch the commit was pushed to, or would be for a dry run. */
  readonly branch: string;
  readonly pushed: boolean;
  readonly publish: RollbackPublish["kind"];
  /** The repository, credentials masked. */
  readonly repository: string;
  readonly environment: string;
  readonly stack: string | undefined;
  /** For `--to`: the commit the files were restored to. */
  readonly to: RevertedCommit | undefined;
  /** The commits undone, newest first. */
  readonly reverted: readonly RevertedCommit[];
  /** Paths the rollback was limited to; empty for the whole repository. */
  readonly paths: readonly string[];
  /** Files the rollback commit changes. */
  readonly files: readonly string[];
  /** `git diff --stat` of the rollback commit. */
  readonly diffStat: string;
  readonly message: string;
  readonly author: GitIdentity;
}

/** Makes the rollback commit and publishes it as asked; throws a {@link GitwardError} when it cannot. */
export async function rollback(opts: RollbackOptions): Promise<RollbackResult> {
  checkOptions(opts);
  const location = parseLocation(opts.repo);
  const env = opts.env ?? process.env;
  const runner = opts.runner ?? new ProcessRunner();
  const author = await resolveAuthor(runner, env, location.kind === "local" ? location.path : (opts.cwd ?? process.cwd()));
  (opts.progress ?? (() => undefined))(`cloning ${location.displayName}`);
  const clone: WorkingCloneOptions = {
    runner, url: location.kind === "remote" ? location.url : location.displayName, displayName: location.displayName, mask: locationMask(location),
    branch: opts.sourceBranch, missingBranchHint: "name the branch to roll back with --source-branch",
    env, tmpDir: opts.tmpDir, prefix: "gitward-rollback-", timeoutMs: opts.timeoutMs ?? 300_000, signal: opts.signal,
  };
  return withWorkingClone(clone, (git) => rollbackInClone(git, author, opts, runner));
}

async function rollbackInClone(git: WorkingClone, author: GitIdentity, opts: RollbackOptions, runner: CommandRunner): Promise<RollbackResult> {
  const progress = opts.progress ?? (() => undefined);
  const sourceBranch = git.branch;
  if (opts.publish.kind === "branch") await checkNewBranch(git, opts.publish.name);
  const base = (await git.text(["rev-parse", "--verify", "HEAD"], "reading HEAD")).trim();
  const configPath = opts.configPath ?? "gitward.yaml";
  const paths = await stackPaths(git, { configPath, environment: opts.environment, stack: opts.stack });
  const where = `${opts.environment}${opts.stack === undefined ? "" : `/${opts.stack}`}`;
  const { reverted, to } = await undoRendering(git, opts, { configPath, paths, runner, progress });
  progress(`reverted ${reverted.length} commit(s) of ${where}: ${reverted.map((c) => shortSha(c.sha)).join(" ")}`);
  const message = rollbackMessage({ where, environment: opts.environment, stack: opts.stack, reverted, to, paths, reason: opts.reason });
  const commit = await git.commit(message, author, "committing the rollback");
  progress(`committed ${commit.slice(0, 12)} as ${author.name} <${author.email}>`);
  const files = await git.changedFiles("HEAD");
  const diffStat = await git.diffStat("HEAD");
  const branch = opts.publish.kind === "branch" ? opts.publish.name : sourceBranch;
  if (opts.publish.kind !== "none") {
    progress(`pushing to ${opts.publish.kind === "branch" ? "new branch " : ""}${branch}`);
    await push(git, opts.publish, branch);
  }
  return {
    commit, base, sourceBranch, branch, pushed: opts.publish.kind !== "none", publish: opts.publish.kind, repository: git.displayName,
    environment: opts.environment, stack: opts.stack, to, reverted, paths, files, diffStat, message, author,
  };
}

/** Undoes what the options ask in the clone, rendering its revisions as the agent would (no remote bases unless gitward.yaml allows them). */
async function undoRendering(
  git: WorkingClone,
  opts: RollbackOptions,
  how: { readonly configPath: string; readonly paths: readonly string[]; readonly runner: CommandRunner; readonly progress: (m: string) => void },
): Promise<Undone> {
  const workspace = await openWorkspace({
    repo: git.dir, cacheDir: opts.cacheDir ?? "", noCache: opts.cacheDir === undefined, allowRemoteBases: false, noSchema: true, runner: how.runner,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  try {
    const scope = { environment: opts.environment, stack: opts.stack };
    return await undo(git, opts.target, { scope, paths: how.paths, render: { workspace, configPath: how.configPath, signal: opts.signal }, progress: how.progress });
  } finally {
    await workspace.close();
  }
}

function checkOptions(opts: RollbackOptions): void {
  const bad = (detail: string, hint?: string): GitwardError => new GitwardError(ErrorCode.Config, detail, hint === undefined ? {} : { hint });
  if (opts.reason.trim() === "") throw bad("a rollback needs a reason", "say why with --reason, e.g. --reason \"5xx after 1.4.2\"");
  if (opts.target.kind === "steps" && (!Number.isSafeInteger(opts.target.steps) || opts.target.steps < 1)) {
    throw bad(`--steps must be a positive whole number, not ${opts.target.steps}`);
  }
  if (opts.target.kind === "to" && (opts.target.rev === "" || opts.target.rev.startsWith("-"))) throw bad(`invalid revision "${opts.target.rev}"`);
  for (const name of [opts.sourceBranch, opts.publish.kind === "branch" ? opts.publish.name : undefined]) {
    if (name !== undefined && (name === "" || name.startsWith("-"))) throw bad(`invalid branch name "${name}"`);
  }
}

/** The invoking user: GIT_AUTHOR_NAME/EMAIL, else `user.name`/`user.email` of their git config. */
async function resolveAuthor(runner: CommandRunner, env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<GitIdentity> {
  const { name, email } = await userIdentity(runner, { env, cwd });
  if (name === undefined || email === undefined) {
    throw new GitwardError(ErrorCode.Config, `the rollback commit needs an author, and ${name === undefined ? "no name" : "no email"} is set`, {
      hint: "set git config --global user.name and user.email, or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL",
    });
  }
  return { name, email };
}

async function checkNewBranch(git: WorkingClone, name: string): Promise<void> {
  if (!(await git.succeeds(["check-ref-format", "--branch", name]))) {
    throw new GitwardError(ErrorCode.Config, `invalid branch name "${name}"`);
  }
  const hint = "choose a new branch name with --branch, or push to the branch itself with --push";
  if (name === git.branch) throw new GitwardError(ErrorCode.Config, `--branch ${name} is the branch being rolled back`, { hint });
  if (await git.hasRemoteBranch(name)) throw new GitwardError(ErrorCode.Git, `branch ${name} already exists in ${git.displayName}`, { hint });
}

/** Pushes the rollback; a rejection is explained from git's porcelain status, with what to do next. */
async function push(git: WorkingClone, publish: RollbackPublish, branch: string): Promise<void> {
  const rejected = await git.pushHead(branch, { mustNotExist: publish.kind === "branch" });
  if (rejected === undefined) return;
  const rejectedBy = `push to ${branch} of ${git.displayName} was rejected`;
  if (rejected.refusal === PushRefusal.CheckedOut) {
    // The server's own lines are git's advice on receive.denyCurrentBranch, said here in one.
    throw new GitwardError(ErrorCode.Git, `${rejectedBy}: ${branch} is checked out there, and git refuses to update the checked-out branch of a non-bare repository (receive.denyCurrentBranch); nothing was pushed`, {
      hint: `give --repo the bare repository it is pushed to (for a clone, its origin: git -C ${git.displayName} remote get-url origin), or push the rollback to a new branch with --branch NAME and merge it there`,
    });
  }
  const said = rejected.remoteSaid.length === 0 ? "" : `: ${rejected.remoteSaid.join("; ")}`;
  throw new GitwardError(ErrorCode.Git, `${rejectedBy}: ${rejected.summary}${said}; nothing was pushed`, {
    hint: pushHint(publish, rejected.refusal, branch, git.branch),
  });
}

function pushHint(publish: RollbackPublish, refusal: PushRefusal, branch: string, sourceBranch: string): string {
  if (publish.kind === "branch") return `branch ${branch} may have been created meanwhile: choose another --branch name`;
  if (refusal === PushRefusal.Refused) {
    return `${sourceBranch} is protected or the server refused the push: push the rollback to a new branch for a pull request with --branch NAME`;
  }
  return `${sourceBranch} moved while the rollback was prepared: run it again, or push it for a pull request with --branch NAME`;
}
