/**
 * What the Gitea client reads of Gitea's REST answers (Gitea 1.23's `swagger.v1.json`), as zod
 * schemas: only the fields gitward uses, each allowed to be null where Gitea writes null (unset
 * pointers: `merged_by`, `merge_commit_sha`, a deleted user), and every other field ignored.
 */
import { z } from "zod";

/** A user as Gitea embeds it; null for a deleted (ghost) user. */
export const GiteaUser = z.object({ login: z.string() }).nullable();

/** `PullRequest`. */
export const GiteaPull = z.object({
  number: z.number().int(),
  title: z.string(),
  user: GiteaUser.optional(),
  state: z.string(),
  draft: z.boolean().optional(),
  merged: z.boolean().nullish(),
  merge_commit_sha: z.string().nullish(),
  merged_by: GiteaUser.optional(),
  head: z.object({ ref: z.string(), sha: z.string() }),
  base: z.object({ ref: z.string() }),
  labels: z.array(z.object({ name: z.string() })).nullish(),
  html_url: z.string(),
});
/** One {@link GiteaPull}. */
export type GiteaPull = z.output<typeof GiteaPull>;

/** `PullReview`; `state` is `APPROVED`, `REQUEST_CHANGES`, `COMMENT`, `PENDING`, `REQUEST_REVIEW` or empty. */
export const GiteaReview = z.object({
  id: z.number().int(),
  user: GiteaUser.optional(),
  state: z.string(),
  dismissed: z.boolean().nullish(),
  commit_id: z.string().nullish(),
  submitted_at: z.string().nullish(),
});
/** One {@link GiteaReview}. */
export type GiteaReview = z.output<typeof GiteaReview>;

/** `Commit` of a pull request: its author and committer when Gitea links them to users. */
export const GiteaCommit = z.object({
  sha: z.string(),
  author: GiteaUser.optional(),
  committer: GiteaUser.optional(),
});

/** `Team`. */
export const GiteaTeam = z.object({ id: z.number().int(), name: z.string() });

/** `Comment` on an issue or pull request. */
export const GiteaComment = z.object({ id: z.number().int(), body: z.string() });
