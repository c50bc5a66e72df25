import type { GitRepo } from "./git-command.ts";

/**
 * The commits of `head`'s first-parent history that `since` does not have, newest first, at
 * most `max` + 1 of them (one more than asked, so the caller knows there were more): the
 * commits that landed on a branch since `since`, each a merge, a squash, a rebased commit or a
 * direct push. Without `since`, just `head`.
 */
export async function firstParentsSince(repo: GitRepo, since: string | undefined, head: string, max: number, signal?: AbortSignal): Promise<string[]> {
  if (since === undefined) return [head];
  const range = [`^${since}`, head];
  const out = await repo.output({ args: ["rev-list", "--first-parent", `--max-count=${max + 1}`, ...range, "--"], ...(signal === undefined ? {} : { signal }) }, "listing the commits since the last sync");
  return out.toString("utf8").split("\n").filter((l) => /^[0-9a-f]{40,64}$/.test(l));
}
