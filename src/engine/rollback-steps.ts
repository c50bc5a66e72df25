/**
 * Which commits `--steps N` undoes: the last N of the branch's first-parent history that
 * changed what the environment (or the stack) renders, found by rendering each commit and
 * its first parent with the engine. A commit that changed only other environments is no step.
 */
import type { WorkingClone } from "../source/working-clone.ts";
import type { RenderContext, RenderedTree, RollbackScope } from "./rollback-render.ts";
import { changedUnits, renderTree, renderedNothing, touches } from "./rollback-render.ts";

/** A commit named in a rollback. */
export interface RevertedCommit {
  readonly sha: string;
  readonly subject: string;
}

/** A commit of the branch, with its parents. */
export interface ListedCommit extends RevertedCommit {
  readonly parents: readonly string[];
}

/** Commits read from `git rev-list` at a time while walking the history. */
const pageSize = 64;

/**
 * The last `steps` commits of HEAD's first-parent history that changed what the scope renders
 * (against their first parent; a root commit against nothing), newest first; fewer when the
 * history has fewer. Each commit is rendered once: it is the parent of the one before it.
 */
export async function selectSteps(git: WorkingClone, ctx: RenderContext, scope: RollbackScope, steps: number): Promise<ListedCommit[]> {
  const picked: ListedCommit[] = [];
  let carried: { readonly sha: string; readonly tree: RenderedTree } | undefined;
  for (let skip = 0; ; skip += pageSize) {
    const page = await listCommits(git, ["--first-parent", `--max-count=${pageSize}`, `--skip=${skip}`, "HEAD"], []);
    for (const c of page) {
      const at = carried?.sha === c.sha ? carried.tree : await renderTree(ctx, c.sha, scope);
      const parent = c.parents[0];
      const before = parent === undefined ? renderedNothing : await renderTree(ctx, parent, scope);
      if (changedUnits(before, at).some((u) => touches(u, scope))) picked.push(c);
      if (picked.length === steps) return picked;
      carried = parent === undefined ? undefined : { sha: parent, tree: before };
    }
    if (page.length < pageSize) return picked;
  }
}

/** Commits newest first, with parents and subjects; `args` selects them for `git rev-list`, `paths` limits them. */
export async function listCommits(git: WorkingClone, args: readonly string[], paths: readonly string[]): Promise<ListedCommit[]> {
  const out = await git.text(["rev-list", "--format=%H%x00%P%x00%s", ...args, "--", ...paths], "listing commits");
  return out
    .split("\n")
    .filter((l) => l.includes("\0"))
    .map((l) => {
      const [sha = "", parents = "", subject = ""] = l.replace(/\r$/, "").split("\0");
      return { sha, parents: parents.split(" ").filter((p) => p !== ""), subject };
    });
}
