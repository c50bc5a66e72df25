/**
 * What the GitHub client reads from GitHub's REST answers, validated (zod) and reduced to the
 * forge port's types: pull requests, reviews (and the approvals they leave standing), pull
 * request commits, team members and issue comments. Only the fields gitward reads are checked;
 * the rest of GitHub's (large) objects is let through and dropped.
 */
import { z } from "zod";
import type { Approval, PullRequest } from "./forge.ts";

/** A user as GitHub embeds one; `null` for a deleted account ("ghost"). */
const userSchema = z.object({ login: z.string() });

/** A pull request: the full `pull-request` object and the `pull-request-simple` of lists alike. */
export const gitHubPullSchema = z.object({
  number: z.number().int(),
  title: z.string(),
  user: userSchema.nullable(),
  state: z.enum(["open", "closed"]),
  draft: z.boolean().optional(),
  head: z.object({ sha: z.string(), ref: z.string() }),
  base: z.object({ ref: z.string() }),
  merged_at: z.string().nullable(),
  merge_commit_sha: z.string().nullable(),
  // Only the full object (GET /pulls/{n}) says who merged it.
  merged_by: userSchema.nullable().optional(),
  labels: z.array(z.object({ name: z.string() })),
  html_url: z.string(),
});

/** A pull request review (`pull-request-review`). */
export const gitHubReviewSchema = z.object({
  user: userSchema.nullable(),
  state: z.string(),
  commit_id: z.string().nullable(),
  // Absent on a PENDING review (not submitted yet).
  submitted_at: z.string().optional(),
});

/** A commit of a pull request (`commit`): its author and committer as GitHub users, when linked. */
export const gitHubCommitSchema = z.object({
  // GitHub sends null, or an empty object, when the commit's email belongs to no account.
  author: z.object({ login: z.string().optional() }).nullable(),
  committer: z.object({ login: z.string().optional() }).nullable(),
});

/** A team member (`simple-user`). */
export const gitHubMemberSchema = userSchema;

/** An issue comment (`issue-comment`); a pull request's conversation comments are issue comments. */
export const gitHubCommentSchema = z.object({
  id: z.number().int(),
  body: z.string().optional(),
});

/** GitHub's committer of commits made in its web interface (merges, edits): no person. */
export const WEB_FLOW = "web-flow";

/** The forge port's pull request from GitHub's. */
export function toPullRequest(p: z.infer<typeof gitHubPullSchema>): PullRequest {
  const merged = p.merged_at !== null;
  return {
    number: p.number,
    title: p.title,
    author: p.user?.login ?? "ghost",
    state: merged ? "merged" : p.state,
    draft: p.draft ?? false,
    headSha: p.head.sha,
    headBranch: p.head.ref,
    baseBranch: p.base.ref,
    // Before a merge, merge_commit_sha is GitHub's test merge, not a commit on the base branch.
    mergeCommitSha: merged ? (p.merge_commit_sha ?? undefined) : undefined,
    mergedBy: p.merged_by?.login ?? undefined,
    labels: p.labels.map((l) => l.name),
    url: p.html_url,
  };
}

/** The review states that set where a user stands; COMMENTED (and PENDING) leave it as it was. */
const DECISIVE = new Set(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);

/**
 * The approvals standing after `reviews` (oldest first, as GitHub lists them): per user, the
 * latest decisive review, when it is APPROVED.
 */
export function standingApprovals(reviews: readonly z.infer<typeof gitHubReviewSchema>[]): Approval[] {
  const latest = new Map<string, z.infer<typeof gitHubReviewSchema>>();
  for (const r of reviews) {
    if (r.user === null || !DECISIVE.has(r.state)) continue;
    // A user's map entry is re-inserted so that the result keeps the order of the decisive reviews.
    latest.delete(r.user.login);
    latest.set(r.user.login, r);
  }
  const approvals: Approval[] = [];
  for (const [user, r] of latest) {
    if (r.state === "APPROVED") approvals.push({ user, commitSha: r.commit_id ?? undefined, submittedAt: r.submitted_at });
  }
  return approvals;
}

/** The distinct users who authored or committed `commits`, without web-flow and unlinked identities. */
export function commitLogins(commits: readonly z.infer<typeof gitHubCommitSchema>[]): string[] {
  const logins = new Set<string>();
  for (const c of commits) {
    for (const u of [c.author, c.committer]) {
      if (u?.login !== undefined && u.login !== WEB_FLOW) logins.add(u.login);
    }
  }
  return [...logins];
}

/** `description` cut to GitHub's 140 characters (code points, so no emoji is split), marked with an ellipsis when cut. */
export function statusDescription(description: string): string {
  const chars = [...description];
  return chars.length <= 140 ? description : `${chars.slice(0, 139).join("")}…`;
}
