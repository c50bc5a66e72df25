import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandResult, CommandRunner } from "../core/command-runner.ts";
import { GitwardError } from "../core/errors.ts";
import type { GitCall } from "./git-command.ts";
import { GitRepo, definedEnv, failureReason, runGit } from "./git-command.ts";
import type { GitIdentity } from "./git-identity.ts";
import { committerFor } from "./git-identity.ts";
import { maskUserinfo } from "./source-location.ts";

/** Options of {@link withWorkingClone}. */
export interface WorkingCloneOptions {
  readonly runner: CommandRunner;
  /** The repository: a URL or a local path. Only ever passed to git: credentials in it stay out of messages. */
  readonly url: string;
  /** Where the repository is, credentials masked, for messages. */
  readonly displayName: string;
  /** Masks credentials in text coming from git; default {@link maskUserinfo}. */
  readonly mask?: (text: string) => string;
  /** The branch to check out; default the one the remote's HEAD names, else `main`. */
  readonly branch?: string | undefined;
  /** The hint of the error when the remote has no such branch (no branch was named, and its default is missing). */
  readonly missingBranchHint?: string;
  /** Environment git runs with (its configuration, identity, credential helpers); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Parent of the temporary directory; default the system's temporary directory. */
  readonly tmpDir?: string | undefined;
  /** Start of the temporary directory's name; default `gitward-clone-`. */
  readonly prefix?: string;
  /** Time limit of each git command (the clone and the push included) in milliseconds; default 300 000. */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Clones a repository into a new temporary directory with a branch checked out, runs
 * `use` with it, and removes the directory whatever happens. The branch checked out is
 * the clone's {@link WorkingClone.branch}.
 */
export async function withWorkingClone<T>(opts: WorkingCloneOptions, use: (clone: WorkingClone) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), opts.prefix ?? "gitward-clone-"));
  try {
    const settings: WorkingCloneSettings = {
      runner: opts.runner, dir, displayName: opts.displayName, mask: opts.mask ?? maskUserinfo,
      env: definedEnv(opts.env ?? process.env), timeoutMs: opts.timeoutMs ?? 300_000, signal: opts.signal,
    };
    const branch = await cloneBranch(settings, opts);
    return await use(new WorkingClone(settings, branch));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Why a remote refused a push, from the status git reports for the ref. */
export const PushRefusal = {
  /** The branch is not where the clone saw it (`[rejected] (fetch first)`, `(non-fast-forward)`, a failed lease). */
  Moved: "moved",
  /**
   * The remote is a non-bare repository with the branch checked out, and git refuses to update it
   * (`receive.denyCurrentBranch`): `[remote rejected] (branch is currently checked out)`.
   */
  CheckedOut: "checked-out",
  /** The server refused it: a hook (a protected branch), permissions, its own rules (`[remote rejected] (...)`). */
  Refused: "refused",
} as const;
/** One of {@link PushRefusal}. */
export type PushRefusal = (typeof PushRefusal)[keyof typeof PushRefusal];

/** A push the remote refused: why, git's porcelain summary (`[rejected] (fetch first)`) and what the server said, masked. */
export interface PushRejection {
  readonly refusal: PushRefusal;
  readonly summary: string;
  /** The first `remote:` lines of git's output, without the prefix. */
  readonly remoteSaid: readonly string[];
}

/** What a {@link WorkingClone} runs git with; {@link withWorkingClone} makes them. */
export interface WorkingCloneSettings {
  readonly runner: CommandRunner;
  readonly dir: string;
  readonly displayName: string;
  readonly mask: (text: string) => string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * A temporary clone with a work tree, made by {@link withWorkingClone}: git runs with the
 * clone as repository and work tree (whatever GIT_DIR the caller's environment sets), each
 * command within the time limit, never prompting for credentials, with pathspecs literal.
 * Its errors do not repeat the repository's name, which the clone's own error states once.
 */
export class WorkingClone extends GitRepo {
  /** The clone's top-level directory. */
  readonly dir: string;
  /** The branch checked out, tracking `origin/<branch>`. */
  readonly branch: string;
  private readonly settings: WorkingCloneSettings;

  constructor(settings: WorkingCloneSettings, branch: string) {
    super(settings.runner, join(settings.dir, ".git"), settings.displayName, settings.mask);
    this.settings = settings;
    this.dir = settings.dir;
    this.branch = branch;
  }

  override run(call: GitCall): Promise<CommandResult> {
    return inClone(this.settings, call);
  }

  override failure(what: string, result: CommandResult): GitwardError {
    return failed(this.settings, what, result);
  }

  /** True when git exits 0. */
  async succeeds(args: readonly string[]): Promise<boolean> {
    return (await this.run({ args })).exitCode === 0;
  }

  /** Standard output as text; a failure throws, naming `what`. */
  async text(args: readonly string[], what: string): Promise<string> {
    return (await this.output({ args }, what)).toString("utf8");
  }

  /** True when the remote has the branch (as of the clone). */
  hasRemoteBranch(name: string): Promise<boolean> {
    return this.succeeds(["rev-parse", "--verify", "--quiet", `refs/remotes/origin/${name}`]);
  }

  /**
   * Commits the index with the message verbatim, by the author; the committer is
   * GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL of the clone's environment when set, else the
   * author. The user's git configuration applies (`commit.gpgsign` signs it). Returns its SHA.
   */
  async commit(message: string, author: GitIdentity, what: string): Promise<string> {
    const committer = committerFor(author, this.settings.env);
    const env = { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_COMMITTER_NAME: committer.name, GIT_COMMITTER_EMAIL: committer.email };
    const r = await this.run({ args: ["commit", "--quiet", "--cleanup=verbatim", "--file=-"], input: message, env });
    if (r.exitCode !== 0) throw this.failure(what, r);
    return (await this.text(["rev-parse", "HEAD"], "reading the new commit")).trim();
  }

  /** Paths a commit changes against its first parent, as git stores them (any character, unquoted). */
  async changedFiles(rev: string): Promise<string[]> {
    const out = await this.text(["diff-tree", "-r", "-z", "--no-commit-id", "--name-only", "--no-renames", rev], "listing changed files");
    return nulSeparated(out);
  }

  /** `git diff --stat` of a commit against its first parent. */
  async diffStat(rev: string): Promise<string> {
    return (await this.text(["diff-tree", "-r", "--no-commit-id", "--stat=100", "--no-renames", rev], "summarising the change")).trimEnd();
  }

  /**
   * Pushes HEAD to the remote's branch, never forced; with `mustNotExist`, only if the branch
   * does not exist there (a lease on its absence). Returns the rejection when the remote
   * refused the update; other failures (unreachable, no access) throw.
   */
  async pushHead(branch: string, opts: { readonly mustNotExist: boolean }): Promise<PushRejection | undefined> {
    const lease = opts.mustNotExist ? [`--force-with-lease=refs/heads/${branch}:`] : [];
    const r = await this.run({ args: ["push", "--porcelain", ...lease, "origin", `HEAD:refs/heads/${branch}`] });
    if (r.exitCode === 0) return undefined;
    const status = lines(r.stdout.toString("utf8")).find((l) => l.includes(`:refs/heads/${branch}\t`));
    if (status === undefined || !status.startsWith("!")) throw this.failure(`pushing to ${branch}`, r);
    const remoteSaid = r.stderr
      .split("\n")
      .filter((l) => l.startsWith("remote: ") && l.trim() !== "remote:")
      .slice(0, 3)
      .map((l) => this.mask(l.slice(8).trim()));
    const summary = this.mask(status.split("\t")[2] ?? "rejected");
    return { refusal: refusalOf(summary), summary, remoteSaid };
  }

  /**
   * Records the index as a commit on top of HEAD that no branch points to, and returns its SHA:
   * a state of the work in progress that readers of commits (a GitSource over the clone) can
   * read. Never signed; its identity is gitward's, as it never leaves the clone.
   */
  async indexCommit(what: string): Promise<string> {
    const tree = (await this.text(["write-tree"], what)).trim();
    const env = { GIT_AUTHOR_NAME: "gitward", GIT_AUTHOR_EMAIL: "gitward@localhost", GIT_COMMITTER_NAME: "gitward", GIT_COMMITTER_EMAIL: "gitward@localhost" };
    const r = await this.run({ args: ["commit-tree", "--no-gpg-sign", "-p", "HEAD", tree], input: `${what}\n`, env });
    if (r.exitCode !== 0) throw this.failure(what, r);
    return r.stdout.toString("utf8").trim();
  }
}

/**
 * Classifies git's porcelain status of a refused ref: `[rejected] (<why>)` is git's own check
 * against what it knows of the remote, `[remote rejected] (<why>)` the receiving side's refusal
 * with receive-pack's fixed reason for a checked-out branch.
 */
function refusalOf(summary: string): PushRefusal {
  if (summary.startsWith("[rejected]")) return PushRefusal.Moved;
  return summary.startsWith("[remote rejected] (branch is currently checked out)") ? PushRefusal.CheckedOut : PushRefusal.Refused;
}

/** git in the clone's directory, with its environment, time limit and signal. */
function exec(s: WorkingCloneSettings, call: GitCall): Promise<CommandResult> {
  return runGit(s.runner, {
    ...call,
    cwd: s.dir,
    // No prompt for credentials (fail instead of hanging), and paths are literal, never globs.
    env: { ...s.env, GIT_TERMINAL_PROMPT: "0", GIT_LITERAL_PATHSPECS: "1", ...call.env },
    timeoutMs: call.timeoutMs ?? s.timeoutMs,
    signal: call.signal ?? s.signal,
  });
}

/** git with the clone as repository and work tree, whatever GIT_DIR the caller's environment sets. */
function inClone(s: WorkingCloneSettings, call: GitCall): Promise<CommandResult> {
  return exec(s, { ...call, args: [`--git-dir=${join(s.dir, ".git")}`, `--work-tree=${s.dir}`, ...call.args] });
}

function failed(s: WorkingCloneSettings, what: string, result: CommandResult): GitwardError {
  return new GitwardError("git", `${what} failed: ${failureReason(result, s.mask)}`);
}

/** Clones into the (empty) directory without a checkout, then checks the branch out; returns the branch. */
async function cloneBranch(s: WorkingCloneSettings, opts: WorkingCloneOptions): Promise<string> {
  const branch = opts.branch;
  const args = ["clone", "--quiet", "--no-checkout", ...(branch === undefined ? [] : ["--branch", branch]), "--", opts.url, s.dir];
  const cloned = await exec(s, { args });
  if (cloned.exitCode !== 0) throw failed(s, `cloning ${s.displayName}${branch === undefined ? "" : ` (branch ${branch})`}`, cloned);
  const current = await inClone(s, { args: ["symbolic-ref", "--quiet", "--short", "HEAD"] });
  const name = branch ?? (current.exitCode === 0 ? current.stdout.toString("utf8").trim() : "main");
  const exists = await inClone(s, { args: ["rev-parse", "--verify", "--quiet", `refs/remotes/origin/${name}`] });
  if (exists.exitCode !== 0) {
    throw new GitwardError("git", `${s.displayName} has no branch ${name}`, { hint: opts.missingBranchHint ?? "name the branch to check out" });
  }
  const checkout = await inClone(s, { args: ["checkout", "--quiet", "-B", name, `refs/remotes/origin/${name}`] });
  if (checkout.exitCode !== 0) throw failed(s, `checking out ${name}`, checkout);
  return name;
}

function nulSeparated(text: string): string[] {
  return text.split("\0").filter((p) => p !== "");
}

function lines(text: string): string[] {
  return text.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l !== "");
}
