/**
 * What a rollback undoes, worked out in its clone: the stack's paths, the commits to undo,
 * and their reverse patches applied to the index and work tree (`git diff-tree -p` of each
 * commit against its first parent, applied with `git apply --reverse --3way --index`).
 *
 * The rule, stated in docs/rollback.md: a rollback of an environment (or of one stack of it)
 * changes only what that environment (or stack) renders. Each undo is rendered with the
 * engine, every environment and stack, before and after; one that would change what anything
 * else renders is refused, naming the commit and what else it would change.
 */
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { parseConfig } from "../config/load-config.ts";
import { stackInstances } from "../config/stack-instances.ts";
import { firstErrorLine, shortSha } from "../source/git-command.ts";
import type { WorkingClone } from "../source/working-clone.ts";
import type { RenderContext, RenderedTree, RollbackScope } from "./rollback-render.ts";
import { changedUnits, renderTree, touches, unitNames, within } from "./rollback-render.ts";
import type { RevertedCommit } from "./rollback-steps.ts";
import { listCommits, selectSteps } from "./rollback-steps.ts";

export type { RevertedCommit } from "./rollback-steps.ts";

/** What to undo: the last N commits, or everything since a revision. */
export type RollbackTarget = { readonly kind: "steps"; readonly steps: number } | { readonly kind: "to"; readonly rev: string };

/** What {@link undo} undid. */
export interface Undone {
  /** The commits undone, newest first. */
  readonly reverted: readonly RevertedCommit[];
  /** For `--to`: the commit the files were restored to. */
  readonly to: RevertedCommit | undefined;
}

/** What {@link undo} works on: the scope, the paths it is limited to (empty: the whole repository), and how to render. */
export interface UndoScope {
  readonly scope: RollbackScope;
  readonly paths: readonly string[];
  readonly render: RenderContext;
  readonly progress: (message: string) => void;
}

/** The paths a stack's rollback is limited to (its directory for the environment, and gitward.yaml); empty for the whole repository. */
export async function stackPaths(git: WorkingClone, sel: { readonly configPath: string; readonly environment: string; readonly stack: string | undefined }): Promise<string[]> {
  const read = await git.run({ args: ["cat-file", "blob", `HEAD:${sel.configPath}`] });
  if (read.exitCode !== 0) {
    throw new GitwardError(ErrorCode.Config, `${sel.configPath} not found at the head of the branch in ${git.displayName}`, { hint: "name it with --config" });
  }
  const loaded = parseConfig(read.stdout, sel.configPath);
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

/** Undoes the target's commits (limited to the paths) in the index and work tree, refusing what would change anything outside the scope. */
export async function undo(git: WorkingClone, target: RollbackTarget, u: UndoScope): Promise<Undone> {
  return target.kind === "steps" ? undoSteps(git, target.steps, u) : undoTo(git, target.rev, u);
}

async function undoSteps(git: WorkingClone, steps: number, u: UndoScope): Promise<Undone> {
  const where = whereOf(u.scope);
  u.progress(`finding the last ${steps} commit(s) on ${git.branch} that changed what ${where} renders`);
  const picked = await selectSteps(git, u.render, u.scope, steps);
  if (picked.length === 0) throw nothingToRevert(`no commit on ${git.branch} changed what it renders`, where);
  if (picked.length < steps) {
    throw new GitwardError(ErrorCode.Git, `--steps ${steps}: only ${picked.length} commit(s) on ${git.branch} changed what ${where} renders`);
  }
  let before = await renderTree(u.render, "HEAD");
  for (const c of picked) {
    await reverseApply(git, c.parents[0] ?? (await emptyTree(git)), c.sha, u.paths, c);
    const after = await renderTree(u.render, await git.indexCommit(`reverting ${c.sha}`));
    checkRevert(before, after, u, c);
    before = after;
  }
  await requireChanges(git, where, "their changes are already undone");
  return { reverted: picked.map(({ sha, subject }) => ({ sha, subject })), to: undefined };
}

async function undoTo(git: WorkingClone, rev: string, u: UndoScope): Promise<Undone> {
  const where = whereOf(u.scope);
  const scope = u.paths.length === 0 ? "" : ` in ${u.paths.join(", ")}`;
  const to = await resolveAncestor(git, rev);
  const reverted = await listCommits(git, [`${to.sha}..HEAD`], u.paths);
  if (reverted.length === 0) throw nothingToRevert(`${git.branch} has no commit after ${shortSha(to.sha)}${scope}`, where);
  const before = await renderTree(u.render, "HEAD");
  await reverseApply(git, to.sha, "HEAD", u.paths, undefined);
  await requireChanges(git, where, `the files${scope} are already as at ${shortSha(to.sha)}`);
  const after = await renderTree(u.render, await git.indexCommit(`restoring ${to.sha}`));
  const others = changedUnits(before, after).filter((x) => !within(x, u.scope));
  if (others.length === 0) return { reverted: reverted.map(({ sha, subject }) => ({ sha, subject })), to };
  const names = unitNames(others, u.scope);
  const restored = u.paths.length === 0 ? "the repository" : u.paths.join(", ");
  throw new GitwardError(ErrorCode.Git, `restoring ${restored} to ${shortSha(to.sha)} would also change ${whatRenders(names)}; nothing was pushed`, {
    hint: `${listed(names)} changed since ${shortSha(to.sha)} too: ${u.scope.stack === undefined ? "limit the rollback to a stack with --stack, or " : ""}undo ${where}'s own commits with --steps N`,
  });
}

/**
 * A reverted commit must change what the scope renders, and nothing else: not another
 * environment, nor (with a stack) another stack of the environment.
 */
function checkRevert(before: RenderedTree, after: RenderedTree, u: UndoScope, c: RevertedCommit): void {
  const changed = changedUnits(before, after);
  const others = changed.filter((x) => !within(x, u.scope));
  const what = `reverting ${shortSha(c.sha)} (${c.subject})`;
  const where = whereOf(u.scope);
  if (others.length > 0) {
    const names = unitNames(others, u.scope);
    const unreadable = before.invalid ?? after.invalid;
    const why = unreadable === undefined ? "" : ` (gitward.yaml cannot be read ${before.invalid === undefined ? "after" : "before"} it: ${unreadable})`;
    throw new GitwardError(ErrorCode.Git, `${what} would also change ${whatRenders(names)}${why}; nothing was pushed`, {
      hint: `${shortSha(c.sha)} changed ${listed(names)} too: split it (a commit per environment${u.scope.stack === undefined ? "" : " and stack"}) and roll back again, or revert it everywhere by hand (git revert ${shortSha(c.sha)})`,
    });
  }
  if (changed.some((x) => touches(x, u.scope))) return;
  if (u.paths.length > 0) {
    throw new GitwardError(ErrorCode.Git, `${what} in ${u.paths.join(", ")} does not change what ${where} renders; nothing was pushed`, {
      hint: `its change to ${where} is in files outside them (a kustomize base elsewhere?): roll back without --stack`,
    });
  }
  throw new GitwardError(ErrorCode.Git, `${what} does not change what ${where} renders; nothing was pushed`, {
    hint: "later commits changed the same things: revert by hand, or restore an earlier state with --to REV",
  });
}

function whereOf(scope: RollbackScope): string {
  return `${scope.environment}${scope.stack === undefined ? "" : `/${scope.stack}`}`;
}

/** `what prod renders`, `what dev and prod render`. */
function whatRenders(names: readonly string[]): string {
  return `what ${listed(names)} ${names.length === 1 ? "renders" : "render"}`;
}

/** `a`, `a and b`, `a, b and c`. */
function listed(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names.at(-1) ?? ""}`;
}

function nothingToRevert(why: string, where: string): GitwardError {
  return new GitwardError(ErrorCode.Git, `nothing to roll back for ${where}: ${why}`);
}

async function requireChanges(git: WorkingClone, where: string, why: string): Promise<void> {
  if (await git.succeeds(["diff-index", "--cached", "--quiet", "HEAD", "--"])) throw nothingToRevert(why, where);
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
