/**
 * Rollback through Git: a rollback is a new commit that undoes earlier ones, pushed like
 * any other change, so Git stays the only truth and the agent syncs it as usual.
 *
 * The repository is cloned into a temporary directory with the git CLI; the undo is made
 * as reverse patches (`git diff-tree -p` of each commit against its first parent, applied
 * in reverse with `git apply --3way --index`), limited to the stack's directory and
 * gitward.yaml when a stack is named. docs/rollback.md states the semantics.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandResult, CommandRunner } from "../core/command-runner.ts";
import { CommandStartError, ProcessRunner } from "../core/command-runner.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { parseConfig } from "../config/load-config.ts";
import { stackInstances } from "../config/stack-instances.ts";
import { firstErrorLine, shortSha } from "../source/git-command.ts";
import { maskUserinfo, parseLocation } from "../source/source-location.ts";

/** What to undo: the last N commits, or everything since a revision. */
export type RollbackTarget = { readonly kind: "steps"; readonly steps: number } | { readonly kind: "to"; readonly rev: string };

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
  readonly runner?: CommandRunner;
  readonly progress?: (message: string) => void;
  readonly signal?: AbortSignal;
}

/** A commit named in a rollback. */
export interface RevertedCommit {
  readonly sha: string;
  readonly subject: string;
}

/** Who the rollback commit is by. */
export interface GitIdentity {
  readonly name: string;
  readonly email: string;
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

interface Listed extends RevertedCommit {
  readonly parents: readonly string[];
}

/** Makes the rollback commit and publishes it as asked; throws a {@link GitwardError} when it cannot. */
export async function rollback(opts: RollbackOptions): Promise<RollbackResult> {
  checkOptions(opts);
  const location = parseLocation(opts.repo);
  const remote = location.kind === "remote" ? location : undefined;
  const mask = (text: string): string => maskUserinfo(remote === undefined ? text : remote.mask(text));
  const env = opts.env ?? process.env;
  const runner = opts.runner ?? new ProcessRunner();
  const author = await resolveAuthor(runner, env, location.kind === "local" ? location.path : (opts.cwd ?? process.cwd()));
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), "gitward-rollback-"));
  const git = new CloneGit({ runner, dir, env, mask, display: location.displayName, timeoutMs: opts.timeoutMs ?? 300_000, signal: opts.signal });
  try {
    return await rollbackInClone(git, remote?.url ?? location.displayName, author, opts);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rollbackInClone(git: CloneGit, url: string, author: GitIdentity, opts: RollbackOptions): Promise<RollbackResult> {
  const progress = opts.progress ?? (() => undefined);
  progress(`cloning ${git.display}`);
  const sourceBranch = await cloneBranch(git, url, opts.sourceBranch);
  if (opts.publish.kind === "branch") await checkNewBranch(git, opts.publish.name, sourceBranch);
  const base = (await git.out(["rev-parse", "--verify", "HEAD"], "reading HEAD")).trim();
  const paths = await stackPaths(git, opts);
  const where = `${opts.environment}${opts.stack === undefined ? "" : `/${opts.stack}`}`;
  const { reverted, to } = await undo(git, opts.target, paths, sourceBranch, where);
  progress(`reverted ${reverted.length} commit(s) of ${where}: ${reverted.map((c) => shortSha(c.sha)).join(" ")}`);
  const message = rollbackMessage({ where, environment: opts.environment, stack: opts.stack, reverted, to, paths, reason: opts.reason });
  const commit = await makeCommit(git, message, author, opts.env ?? process.env);
  progress(`committed ${commit.slice(0, 12)} as ${author.name} <${author.email}>`);
  const files = nulSeparated(await git.out(["diff-tree", "-r", "-z", "--no-commit-id", "--name-only", "--no-renames", "HEAD"], "listing changed files"));
  const diffStat = (await git.out(["diff-tree", "-r", "--no-commit-id", "--stat=100", "--no-renames", "HEAD"], "summarising the change")).trimEnd();
  const branch = opts.publish.kind === "branch" ? opts.publish.name : sourceBranch;
  if (opts.publish.kind !== "none") {
    progress(`pushing to ${opts.publish.kind === "branch" ? "new branch " : ""}${branch}`);
    await push(git, opts.publish, branch, sourceBranch);
  }
  return {
    commit, base, sourceBranch, branch, pushed: opts.publish.kind !== "none", publish: opts.publish.kind, repository: git.display,
    environment: opts.environment, stack: opts.stack, to, reverted: reverted.map(({ sha, subject }) => ({ sha, subject })),
    paths, files, diffStat, message, author,
  };
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
  const config = async (key: string): Promise<string | undefined> => {
    const r = await runOrExplain(runner, { command: "git", args: ["config", "--get", key], cwd, env: stringEnv(env), timeoutMs: 10_000 });
    const value = r.exitCode === 0 ? r.stdout.toString("utf8").trim() : "";
    return value === "" ? undefined : value;
  };
  const name = nonEmpty(env["GIT_AUTHOR_NAME"]) ?? (await config("user.name"));
  const email = nonEmpty(env["GIT_AUTHOR_EMAIL"]) ?? (await config("user.email"));
  if (name === undefined || email === undefined) {
    throw new GitwardError(ErrorCode.Config, `the rollback commit needs an author, and ${name === undefined ? "no name" : "no email"} is set`, {
      hint: "set git config --global user.name and user.email, or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL",
    });
  }
  return { name, email };
}

/** Clones the repository with the branch checked out; returns the branch. */
async function cloneBranch(git: CloneGit, url: string, branch: string | undefined): Promise<string> {
  const args = ["clone", "--quiet", "--no-checkout", ...(branch === undefined ? [] : ["--branch", branch]), "--", url, git.dir];
  const r = await git.runOutside(args);
  if (r.exitCode !== 0) throw git.failure(`cloning ${git.display}${branch === undefined ? "" : ` (branch ${branch})`}`, r);
  const current = await git.run(["symbolic-ref", "--quiet", "--short", "HEAD"]);
  const name = branch ?? (current.exitCode === 0 ? current.stdout.toString("utf8").trim() : "main");
  if (!(await git.succeeds(["rev-parse", "--verify", "--quiet", `refs/remotes/origin/${name}`]))) {
    throw new GitwardError(ErrorCode.Git, `${git.display} has no branch ${name}`, { hint: "name the branch to roll back with --source-branch" });
  }
  await git.out(["checkout", "--quiet", "-B", name, `refs/remotes/origin/${name}`], `checking out ${name}`);
  return name;
}

async function checkNewBranch(git: CloneGit, name: string, sourceBranch: string): Promise<void> {
  if (!(await git.succeeds(["check-ref-format", "--branch", name]))) {
    throw new GitwardError(ErrorCode.Config, `invalid branch name "${name}"`);
  }
  const hint = "choose a new branch name with --branch, or push to the branch itself with --push";
  if (name === sourceBranch) throw new GitwardError(ErrorCode.Config, `--branch ${name} is the branch being rolled back`, { hint });
  if (await git.succeeds(["rev-parse", "--verify", "--quiet", `refs/remotes/origin/${name}`])) {
    throw new GitwardError(ErrorCode.Git, `branch ${name} already exists in ${git.display}`, { hint });
  }
}

/** The paths a stack's rollback is limited to: its directory for the environment, and gitward.yaml. */
async function stackPaths(git: CloneGit, opts: RollbackOptions): Promise<string[]> {
  const configPath = opts.configPath ?? "gitward.yaml";
  const read = await git.run(["cat-file", "blob", `HEAD:${configPath}`]);
  if (read.exitCode !== 0) {
    throw new GitwardError(ErrorCode.Config, `${configPath} not found at the head of the branch in ${git.display}`, { hint: "name it with --config" });
  }
  const loaded = parseConfig(read.stdout.toString("utf8"), configPath);
  const instances = stackInstances(loaded, { environments: [opts.environment], ...(opts.stack === undefined ? {} : { stacks: [opts.stack] }) });
  if (opts.stack === undefined) return [];
  const instance = instances[0];
  if (instance === undefined) {
    throw new GitwardError(ErrorCode.Config, `stack ${opts.stack} is not deployed to environment ${opts.environment}`, {
      hint: "its target is not defined there, or it is disabled for the environment",
    });
  }
  // A stack at the repository root owns every file: the rollback is the whole repository's.
  return instance.dir === "" ? [] : [...new Set([instance.dir, configPath])];
}

/** Undoes the target's commits in the index and work tree; returns what was undone. */
async function undo(git: CloneGit, target: RollbackTarget, paths: readonly string[], branch: string, where: string): Promise<{ reverted: Listed[]; to: RevertedCommit | undefined }> {
  const scope = paths.length === 0 ? "" : ` in ${paths.join(", ")}`;
  if (target.kind === "steps") {
    const reverted = await listCommits(git, ["--first-parent", `--max-count=${target.steps}`, "HEAD"], paths);
    if (reverted.length === 0) throw nothingToRevert(`no commit on ${branch} changed anything${scope}`, where);
    if (reverted.length < target.steps) {
      throw new GitwardError(ErrorCode.Git, `--steps ${target.steps}: only ${reverted.length} commit(s) on ${branch} changed anything${scope}`);
    }
    for (const c of reverted) await reverseApply(git, c.parents[0] ?? (await emptyTree(git)), c.sha, paths, c);
    await requireChanges(git, where, "their changes are already undone");
    return { reverted, to: undefined };
  }
  const to = await resolveAncestor(git, target.rev, branch);
  const reverted = await listCommits(git, [`${to.sha}..HEAD`], paths);
  if (reverted.length === 0) throw nothingToRevert(`${branch} has no commit after ${shortSha(to.sha)}${scope}`, where);
  await reverseApply(git, to.sha, "HEAD", paths, undefined);
  await requireChanges(git, where, `the files${scope} are already as at ${shortSha(to.sha)}`);
  return { reverted, to };
}

function nothingToRevert(why: string, where: string): GitwardError {
  return new GitwardError(ErrorCode.Git, `nothing to roll back for ${where}: ${why}`);
}

async function requireChanges(git: CloneGit, where: string, why: string): Promise<void> {
  if (await git.succeeds(["diff-index", "--cached", "--quiet", "HEAD", "--"])) throw nothingToRevert(why, where);
}

/** Commits newest first, with parents and subjects; `args` selects them for `git rev-list`. */
async function listCommits(git: CloneGit, args: readonly string[], paths: readonly string[]): Promise<Listed[]> {
  const out = await git.out(["rev-list", "--format=%H%x00%P%x00%s", ...args, "--", ...paths], "listing commits");
  return lines(out)
    .filter((l) => l.includes("\0"))
    .map((l) => {
      const [sha = "", parents = "", subject = ""] = l.split("\0");
      return { sha, parents: parents.split(" ").filter((p) => p !== ""), subject };
    });
}

async function resolveAncestor(git: CloneGit, rev: string, branch: string): Promise<RevertedCommit> {
  const r = await git.run(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]);
  if (r.exitCode !== 0) throw new GitwardError(ErrorCode.Git, `unknown revision "${git.mask(rev)}" in ${git.display}`);
  const sha = r.stdout.toString("utf8").trim();
  if (!(await git.succeeds(["merge-base", "--is-ancestor", sha, "HEAD"]))) {
    throw new GitwardError(ErrorCode.Git, `${shortSha(sha)} is not in the history of ${branch}`, { hint: "--to takes a commit the branch already contains" });
  }
  const [commit] = await listCommits(git, ["--no-walk", sha], []);
  return { sha, subject: commit?.subject ?? "" };
}

/** Applies the reverse of `from..to` (limited to paths) to the index and work tree; a conflict stops with the files named. */
async function reverseApply(git: CloneGit, from: string, to: string, paths: readonly string[], commit: RevertedCommit | undefined): Promise<void> {
  const patch = await git.outBuffer(["diff-tree", "-r", "-p", "--binary", "--full-index", "--no-renames", from, to, "--", ...paths], "computing the change to undo");
  if (patch.length === 0) return;
  const applied = await git.run(["apply", "--reverse", "--3way", "--index", "--whitespace=nowarn"], patch);
  if (applied.exitCode === 0) return;
  const entries = nulSeparated(await git.out(["ls-files", "-z", "--unmerged"], "listing conflicts"));
  const unmerged = [...new Set(entries.map((e) => e.slice(e.indexOf("\t") + 1)))];
  const what = commit === undefined ? "the rollback" : `reverting ${shortSha(commit.sha)} (${commit.subject})`;
  const detail = unmerged.length > 0 ? `conflicts with later changes in ${unmerged.join(", ")}` : `does not apply: ${git.mask(firstErrorLine(applied))}`;
  throw new GitwardError(ErrorCode.Git, `${what} ${detail}; nothing was pushed`, {
    hint: "later commits changed the same lines: revert by hand, or restore an earlier state with --to REV",
  });
}

async function emptyTree(git: CloneGit): Promise<string> {
  return (await git.out(["hash-object", "-t", "tree", "--stdin"], "hashing the empty tree")).trim();
}

interface MessageParts {
  readonly where: string;
  readonly environment: string;
  readonly stack: string | undefined;
  readonly reverted: readonly RevertedCommit[];
  readonly to: RevertedCommit | undefined;
  readonly paths: readonly string[];
  readonly reason: string;
}

const maxSubjectLength = 120;
const maxShasInSubject = 5;

/** The rollback commit's message: what is reverted, why, and a trailer tools can find it by. */
function rollbackMessage(p: MessageParts): string {
  const shas = p.reverted.slice(0, maxShasInSubject).map((c) => shortSha(c.sha)).join(", ");
  const more = p.reverted.length > maxShasInSubject ? ` and ${p.reverted.length - maxShasInSubject} more` : "";
  const head = `Rollback ${p.where}: revert ${shas}${more}`;
  let subjects = p.reverted.map((c) => c.subject).join("; ");
  const room = maxSubjectLength - head.length - 3;
  if (subjects.length > room) subjects = `${subjects.slice(0, Math.max(0, room - 1)).trimEnd()}…`;
  const body = [
    p.to === undefined
      ? `Reverts ${p.reverted.length} commit(s)${p.paths.length === 0 ? "" : `, limited to ${p.paths.join(", ")}`}:`
      : `Restores ${p.paths.length === 0 ? "the repository" : p.paths.join(", ")} to ${p.to.sha} (${p.to.subject}), undoing:`,
    ...p.reverted.map((c) => `  ${c.sha} ${c.subject}`),
  ];
  const reason = p.reason.replace(/\r\n?/g, "\n").trim();
  return `${head} (${subjects})\n\n${body.join("\n")}\n\nReason: ${reason}\n\nGitward-Rollback: env=${p.environment} stack=${p.stack ?? "*"}\n`;
}

async function makeCommit(git: CloneGit, message: string, author: GitIdentity, env: Readonly<Record<string, string | undefined>>): Promise<string> {
  const identity = {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: nonEmpty(env["GIT_COMMITTER_NAME"]) ?? author.name,
    GIT_COMMITTER_EMAIL: nonEmpty(env["GIT_COMMITTER_EMAIL"]) ?? author.email,
  };
  const r = await git.run(["commit", "--quiet", "--cleanup=verbatim", "--file=-"], message, identity);
  if (r.exitCode !== 0) throw git.failure("committing the rollback", r);
  return (await git.out(["rev-parse", "HEAD"], "reading the new commit")).trim();
}

/** Pushes HEAD; a rejection is explained from git's porcelain status, with what to do next. */
async function push(git: CloneGit, publish: RollbackPublish, branch: string, sourceBranch: string): Promise<void> {
  const lease = publish.kind === "branch" ? [`--force-with-lease=refs/heads/${branch}:`] : [];
  const r = await git.run(["push", "--porcelain", ...lease, "origin", `HEAD:refs/heads/${branch}`]);
  if (r.exitCode === 0) return;
  const status = lines(r.stdout.toString("utf8")).find((l) => l.includes(`:refs/heads/${branch}\t`));
  if (status === undefined || !status.startsWith("!")) throw git.failure(`pushing to ${branch}`, r);
  const summary = git.mask(status.split("\t")[2] ?? "rejected");
  const remote = r.stderr.split("\n").filter((l) => l.startsWith("remote: ") && l.trim() !== "remote:").slice(0, 3).map((l) => git.mask(l.slice(8).trim()));
  const said = remote.length === 0 ? "" : `: ${remote.join("; ")}`;
  throw new GitwardError(ErrorCode.Git, `push to ${branch} of ${git.display} was rejected: ${summary}${said}; nothing was pushed`, { hint: pushHint(publish, summary, branch, sourceBranch) });
}

function pushHint(publish: RollbackPublish, summary: string, branch: string, sourceBranch: string): string {
  if (publish.kind === "branch") return `branch ${branch} may have been created meanwhile: choose another --branch name`;
  if (summary.startsWith("[remote rejected]")) {
    return `${sourceBranch} is protected or the server refused the push: push the rollback to a new branch for a pull request with --branch NAME`;
  }
  return `${sourceBranch} moved while the rollback was prepared: run it again, or push it for a pull request with --branch NAME`;
}

interface CloneGitOptions {
  readonly runner: CommandRunner;
  readonly dir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly mask: (text: string) => string;
  readonly display: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

/** git run in the temporary clone, with credentials masked in every message. */
class CloneGit {
  readonly dir: string;
  readonly display: string;
  readonly mask: (text: string) => string;
  private readonly opts: CloneGitOptions;

  constructor(opts: CloneGitOptions) {
    this.opts = opts;
    this.dir = opts.dir;
    this.display = opts.display;
    this.mask = opts.mask;
  }

  /** git with the clone as repository and work tree, whatever GIT_DIR the caller's environment sets. */
  run(args: readonly string[], input?: Buffer | string, extraEnv: Readonly<Record<string, string>> = {}): Promise<CommandResult> {
    return this.exec([`--git-dir=${join(this.dir, ".git")}`, `--work-tree=${this.dir}`, ...args], input, extraEnv);
  }

  /** git not yet inside the clone (to make it). */
  runOutside(args: readonly string[]): Promise<CommandResult> {
    return this.exec(args, undefined, {});
  }

  async succeeds(args: readonly string[]): Promise<boolean> {
    return (await this.run(args)).exitCode === 0;
  }

  async outBuffer(args: readonly string[], what: string): Promise<Buffer> {
    const r = await this.run(args);
    if (r.exitCode !== 0 || r.truncated) throw this.failure(what, r);
    return r.stdout;
  }

  async out(args: readonly string[], what: string): Promise<string> {
    return (await this.outBuffer(args, what)).toString("utf8");
  }

  failure(what: string, r: CommandResult): GitwardError {
    const why = r.truncated ? "output too large" : this.mask(firstErrorLine(r));
    return new GitwardError(ErrorCode.Git, `${what} failed: ${why}`);
  }

  private exec(args: readonly string[], input: Buffer | string | undefined, extraEnv: Readonly<Record<string, string>>): Promise<CommandResult> {
    // No prompt for credentials (fail instead of hanging), and paths are literal, never globs.
    const env = { ...stringEnv(this.opts.env), GIT_TERMINAL_PROMPT: "0", GIT_LITERAL_PATHSPECS: "1", ...extraEnv };
    return runOrExplain(this.opts.runner, {
      command: "git", args, cwd: this.dir, env, timeoutMs: this.opts.timeoutMs,
      ...(input === undefined ? {} : { input }),
      ...(this.opts.signal === undefined ? {} : { signal: this.opts.signal }),
    });
  }
}

async function runOrExplain(runner: CommandRunner, spec: Parameters<CommandRunner["run"]>[0]): Promise<CommandResult> {
  try {
    return await runner.run(spec);
  } catch (e: unknown) {
    if (e instanceof CommandStartError) throw new GitwardError(ErrorCode.Git, "cannot run git", { cause: e, hint: "install git and put it on PATH" });
    throw e;
  }
}

function stringEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

/** Paths as git prints them with -z: unquoted, whatever characters they hold. */
function nulSeparated(text: string): string[] {
  return text.split("\0").filter((p) => p !== "");
}

function lines(text: string): string[] {
  return text.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l !== "");
}
