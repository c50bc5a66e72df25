/**
 * What a rollback undoes, worked out in its clone: the stack's paths, the commits to undo,
 * and their reverse patches applied to the index and work tree (`git diff-tree -p` of each
 * commit against its first parent, applied with `git apply --reverse --3way --index`).
 */
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { parseConfig } from "../config/load-config.ts";
import { stackInstances } from "../config/stack-instances.ts";
import { firstErrorLine, shortSha } from "../source/git-command.ts";
import type { WorkingClone } from "../source/working-clone.ts";

/** What to undo: the last N commits, or everything since a revision. */
export type RollbackTarget = { readonly kind: "steps"; readonly steps: number } | { readonly kind: "to"; readonly rev: string };

/** A commit named in a rollback. */
export interface RevertedCommit {
  readonly sha: string;
  readonly subject: string;
}

/** What {@link undo} undid. */
export interface Undone {
  /** The commits undone, newest first. */
  readonly reverted: readonly RevertedCommit[];
  /** For `--to`: the commit the files were restored to. */
  readonly to: RevertedCommit | undefined;
}

interface Listed extends RevertedCommit {
  readonly parents: readonly string[];
}

/** The paths a stack's rollback is limited to (its directory for the environment, and gitward.yaml); empty for the whole repository. */
export async function stackPaths(git: WorkingClone, sel: { readonly configPath: string; readonly environment: string; readonly stack: string | undefined }): Promise<string[]> {
  const read = await git.run({ args: ["cat-file", "blob", `HEAD:${sel.configPath}`] });
  if (read.exitCode !== 0) {
    throw new GitwardError(ErrorCode.Config, `${sel.configPath} not found at the head of the branch in ${git.displayName}`, { hint: "name it with --config" });
  }
  const loaded = parseConfig(read.stdout.toString("utf8"), sel.configPath);
  const instances = stackInstances(loaded, { environments: [sel.environment], ...(sel.stack === undefined ? {} : { stacks: [sel.stack] }) });
  if (sel.stack === undefined) return [];
  const instance = instances[0];
  if (instance === undefined) {
    throw new GitwardError(ErrorCode.Config, `stack ${sel.stack} is not deployed to environment ${sel.environment}`, {
      hint: "its target is not defined there, or it is disabled for the environment",
    });
  }
  // A stack at the repository root owns every file: the rollback is the whole repository's.
  return instance.dir === "" ? [] : [...new Set([instance.dir, sel.configPath])];
}

/** Undoes the target's commits (limited to paths) in the index and work tree; `where` names the environment or stack. */
export async function undo(git: WorkingClone, target: RollbackTarget, paths: readonly string[], where: string): Promise<Undone> {
  const scope = paths.length === 0 ? "" : ` in ${paths.join(", ")}`;
  const branch = git.branch;
  if (target.kind === "steps") {
    const reverted = await listCommits(git, ["--first-parent", `--max-count=${target.steps}`, "HEAD"], paths);
    if (reverted.length === 0) throw nothingToRevert(`no commit on ${branch} changed anything${scope}`, where);
    if (reverted.length < target.steps) {
      throw new GitwardError(ErrorCode.Git, `--steps ${target.steps}: only ${reverted.length} commit(s) on ${branch} changed anything${scope}`);
    }
    for (const c of reverted) await reverseApply(git, c.parents[0] ?? (await emptyTree(git)), c.sha, paths, c);
    await requireChanges(git, where, "their changes are already undone");
    return { reverted: reverted.map(({ sha, subject }) => ({ sha, subject })), to: undefined };
  }
  const to = await resolveAncestor(git, target.rev);
  const reverted = await listCommits(git, [`${to.sha}..HEAD`], paths);
  if (reverted.length === 0) throw nothingToRevert(`${branch} has no commit after ${shortSha(to.sha)}${scope}`, where);
  await reverseApply(git, to.sha, "HEAD", paths, undefined);
  await requireChanges(git, where, `the files${scope} are already as at ${shortSha(to.sha)}`);
  return { reverted: reverted.map(({ sha, subject }) => ({ sha, subject })), to };
}

function nothingToRevert(why: string, where: string): GitwardError {
  return new GitwardError(ErrorCode.Git, `nothing to roll back for ${where}: ${why}`);
}

async function requireChanges(git: WorkingClone, where: string, why: string): Promise<void> {
  if (await git.succeeds(["diff-index", "--cached", "--quiet", "HEAD", "--"])) throw nothingToRevert(why, where);
}

/** Commits newest first, with parents and subjects; `args` selects them for `git rev-list`. */
async function listCommits(git: WorkingClone, args: readonly string[], paths: readonly string[]): Promise<Listed[]> {
  const out = await git.text(["rev-list", "--format=%H%x00%P%x00%s", ...args, "--", ...paths], "listing commits");
  return out
    .split("\n")
    .filter((l) => l.includes("\0"))
    .map((l) => {
      const [sha = "", parents = "", subject = ""] = l.replace(/\r$/, "").split("\0");
      return { sha, parents: parents.split(" ").filter((p) => p !== ""), subject };
    });
}

async function resolveAncestor(git: WorkingClone, rev: string): Promise<RevertedCommit> {
  const r = await git.run({ args: ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`] });
  if (r.exitCode !== 0) throw new GitwardError(ErrorCode.Git, `unknown revision "${git.mask(rev)}" in ${git.displayName}`);
  const sha = r.stdout.toString("utf8").trim();
  if (!(await git.succeeds(["merge-base", "--is-ancestor", sha, "HEAD"]))) {
    throw new GitwardError(ErrorCode.Git, `${shortSha(sha)} is not in the history of ${git.branch}`, { hint: "--to takes a commit the branch already contains" });
  }
  const [commit] = await listCommits(git, ["--no-walk", sha], []);
  return { sha, subject: commit?.subject ?? "" };
}

/** Applies the reverse of `from..to` (limited to paths) to the index and work tree; a conflict stops with the files named. */
async function reverseApply(git: WorkingClone, from: string, to: string, paths: readonly string[], commit: RevertedCommit | undefined): Promise<void> {
  const patch = await git.output({ args: ["diff-tree", "-r", "-p", "--binary", "--full-index", "--no-renames", from, to, "--", ...paths] }, "computing the change to undo");
  if (patch.length === 0) return;
  const applied = await git.run({ args: ["apply", "--reverse", "--3way", "--index", "--whitespace=nowarn"], input: patch });
  if (applied.exitCode === 0) return;
  const entries = (await git.text(["ls-files", "-z", "--unmerged"], "listing conflicts")).split("\0").filter((e) => e !== "");
  const unmerged = [...new Set(entries.map((e) => e.slice(e.indexOf("\t") + 1)))];
  const what = commit === undefined ? "the rollback" : `reverting ${shortSha(commit.sha)} (${commit.subject})`;
  const detail = unmerged.length > 0 ? `conflicts with later changes in ${unmerged.join(", ")}` : `does not apply: ${git.mask(firstErrorLine(applied))}`;
  throw new GitwardError(ErrorCode.Git, `${what} ${detail}; nothing was pushed`, {
    hint: "later commits changed the same lines: revert by hand, or restore an earlier state with --to REV",
  });
}

async function emptyTree(git: WorkingClone): Promise<string> {
  return (await git.text(["hash-object", "-t", "tree", "--stdin"], "hashing the empty tree")).trim();
}
