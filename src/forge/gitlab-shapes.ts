/**
 * The parts of GitLab's REST answers the GitLab client (`gitlab.ts`) reads, checked with zod at
 * the boundary, and how a merge request becomes gitward's {@link PullRequest}. Field names are
 * GitLab's (`iid`, `source_branch`, `merge_commit_sha`); everything else GitLab sends passes
 * through unread.
 */
import { z } from "zod";
import type { PullRequest } from "./forge.ts";

const user = z.object({ username: z.string() });

/** A merge request as `GET …/merge_requests/:iid` and the list endpoints return it. */
export const mergeRequestShape = z.object({
  iid: z.number().int(),
  title: z.string(),
  state: z.string(),
  draft: z.boolean().nullish(),
  work_in_progress: z.boolean().nullish(),
  author: user,
  sha: z.string().nullish(),
  source_branch: z.string(),
  target_branch: z.string(),
  merge_commit_sha: z.string().nullish(),
  squash_commit_sha: z.string().nullish(),
  merge_user: user.nullish(),
  merged_by: user.nullish(),
  labels: z.array(z.string()).nullish(),
  web_url: z.string(),
});
/** A merge request as GitLab sends it (the fields gitward reads). */
export type GitLabMergeRequest = z.infer<typeof mergeRequestShape>;

/** `GET …/merge_requests/:iid/approvals`: who approved, with no commit (GitLab resets approvals on push itself, when the project says so). */
export const approvalsShape = z.object({
  approved_by: z.array(z.object({ user, approved_at: z.string().nullish() })).nullish(),
});

/** A merge request note. */
export const noteShape = z.object({ id: z.number().int(), body: z.string(), system: z.boolean().nullish() });

/** A group member. */
export const memberShape = z.object({ username: z.string() });

/** The answer to `POST …/statuses/:sha`. */
export const commitStatusShape = z.object({ id: z.number().int(), status: z.string() });

/** gitward's view of a merge request. */
export function toPullRequest(mr: GitLabMergeRequest): PullRequest {
  const merged = mr.state === "merged";
  // "locked" is an open merge request whose discussion is being locked for a moment.
  const state = merged ? "merged" : mr.state === "closed" ? "closed" : "open";
  const head = mr.sha ?? "";
  return {
    number: mr.iid,
    title: mr.title,
    author: mr.author.username,
    state,
    draft: mr.draft ?? mr.work_in_progress ?? false,
    headSha: head,
    headBranch: mr.source_branch,
    baseBranch: mr.target_branch,
    // A fast-forward merge makes no merge or squash commit: GitLab leaves both null and the
    // base branch now points at the head itself, so the head is what landed.
    mergeCommitSha: merged ? (mr.merge_commit_sha ?? mr.squash_commit_sha ?? (head === "" ? undefined : head)) : undefined,
    mergedBy: merged ? (mr.merge_user ?? mr.merged_by)?.username : undefined,
    labels: mr.labels ?? [],
    url: mr.web_url,
  };
}
