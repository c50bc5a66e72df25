/**
 * Pull-request and review webhooks from GitHub, GitLab and Gitea, reduced to one
 * {@link PullRequestEvent} so that previews and the approval gate need not know which forge
 * sent them. Pure: `verifyWebhook` (webhooks.ts) authenticates the request and hands the parsed
 * JSON body here; this module only reads it.
 *
 * Each forge names the same happening differently: GitHub `synchronize` is Gitea `synchronized`
 * and a GitLab `update` with `oldrev`; a merge is GitHub's and Gitea's `closed` with
 * `pull_request.merged`, GitLab's `merge`; an approval is a GitHub review whose state is
 * `approved`, a Gitea `pull_request_approved` event, a GitLab `approved` or `approval` action.
 * Actions that mean nothing to gitward (assigned, review requested, locked, …) are accepted
 * and yield no event.
 */
import { z } from "zod";

/** What happened to a pull request (merge request), in one vocabulary for every forge. */
export const PullRequestAction = {
  Opened: "opened",
  Synchronized: "synchronized",
  Closed: "closed",
  Merged: "merged",
  Reopened: "reopened",
  Labeled: "labeled",
  Unlabeled: "unlabeled",
  Edited: "edited",
  Approved: "approved",
  Unapproved: "unapproved",
  ChangesRequested: "changes_requested",
  ReviewCommented: "review_commented",
  ReviewDismissed: "review_dismissed",
} as const;
/** One of {@link PullRequestAction}. */
export type PullRequestAction = (typeof PullRequestAction)[keyof typeof PullRequestAction];

/** A pull-request or review event, reduced to what previews and the approval gate need. */
export interface PullRequestEvent {
  readonly action: PullRequestAction;
  /** The pull request's number (GitHub, Gitea) or merge request's iid (GitLab). */
  readonly number: number;
  /** The head commit, when the payload has it. */
  readonly headSha?: string;
  readonly headBranch?: string;
  readonly baseBranch?: string;
  /** Who opened the pull request; undefined when the payload does not name them (GitLab gives only an id). */
  readonly author?: string;
  /** Who did this: the reviewer for review events. */
  readonly sender?: string;
  /** The pull request's labels after the event. */
  readonly labels: readonly string[];
  /** Every clone URL and name of the (base) repository, to match against the agent's sources, as for pushes. */
  readonly repositories: readonly string[];
}

/** The forges that send pull-request events (the generic webhook has none). */
export type PullRequestForge = "github" | "gitlab" | "gitea";

/** What {@link parsePullRequestEvent} made of a payload: the event (undefined when there is none to report), or why the payload is malformed. */
export type PullRequestParse =
  | { readonly ok: true; readonly event: PullRequestEvent | undefined }
  | { readonly ok: false; readonly reason: string };

/** A JSON object as parsed from a webhook body. */
export type JsonObject = Readonly<Record<string, unknown>>;

/**
 * Parses a pull-request or review event from an authenticated payload. `eventType` is the
 * forge's event header (`X-GitHub-Event`, `X-Gitea-Event`, `X-Gitlab-Event`). Gives no event for
 * other event types and for actions gitward does not act on; a reason when the payload lacks
 * what every such event has (its action, its pull request, and for a reported event its number).
 */
export function parsePullRequestEvent(forge: PullRequestForge, eventType: string, payload: JsonObject): PullRequestParse {
  switch (forge) {
    case "github":
      return eventType === "pull_request" || eventType === "pull_request_review" ? fromGitHub(eventType, payload) : none;
    case "gitea": {
      const review = giteaReviews[eventType];
      return eventType === "pull_request" || review !== undefined ? fromGitea(review, payload) : none;
    }
    case "gitlab":
      // A system hook carries every kind of event, merge requests among them, in the project hook's shape.
      return eventType === "Merge Request Hook" || (eventType === "System Hook" && payload["object_kind"] === "merge_request")
        ? fromGitLab(payload)
        : none;
  }
}

const none: PullRequestParse = { ok: true, event: undefined };

/** Every clone URL and name of the repository in a push or pull-request payload, in GitHub's (and Gitea's) shape or GitLab's. */
export function payloadRepositories(style: "github" | "gitlab", p: JsonObject): string[] {
  const list: unknown[] = [];
  if (style === "github") {
    const repo = obj(p["repository"]);
    list.push(repo["clone_url"], repo["ssh_url"], repo["git_url"], repo["html_url"], repo["url"], repo["full_name"]);
  } else {
    const project = obj(p["project"]);
    const repo = obj(p["repository"]);
    list.push(
      project["git_http_url"], project["git_ssh_url"], project["web_url"], project["path_with_namespace"],
      repo["git_http_url"], repo["git_ssh_url"], repo["homepage"], repo["url"],
    );
  }
  return [...new Set(list.filter((r): r is string => typeof r === "string" && r !== ""))];
}

// Optional fields are read leniently (a wrong type reads as absent): only the fields every such
// event has make a payload malformed.
const text = z.string().min(1).optional().catch(undefined);
const positive = z.number().int().positive().optional().catch(undefined);
const account = z.object({ login: text, username: text }).optional().catch(undefined);
const branch = z.object({ sha: text, ref: text }).optional().catch(undefined);
const labelList = (key: "name" | "title") =>
  z.array(z.object({ [key]: text }).catch({})).catch([]).transform((ls) => ls.map((l) => l[key]).filter((n) => n !== undefined));

/** GitHub's pull request object, which Gitea follows. */
const githubPullRequest = z.object({
  number: positive,
  merged: z.boolean().optional().catch(undefined),
  head: branch,
  base: branch,
  user: account,
  labels: labelList("name"),
});

const githubPayload = z.object({
  action: z.string(),
  number: positive,
  pull_request: githubPullRequest,
  review: z.object({ state: text, user: account }).optional().catch(undefined),
  sender: account,
});

const githubActions: Readonly<Record<string, PullRequestAction>> = {
  opened: "opened", synchronize: "synchronized", reopened: "reopened", labeled: "labeled", unlabeled: "unlabeled",
  edited: "edited", ready_for_review: "edited",
};

const githubReviewStates: Readonly<Record<string, PullRequestAction>> = {
  approved: "approved", changes_requested: "changes_requested", commented: "review_commented",
};

function fromGitHub(eventType: "pull_request" | "pull_request_review", payload: JsonObject): PullRequestParse {
  const parsed = githubPayload.safeParse(payload);
  if (!parsed.success) return malformed(parsed.error);
  const p = parsed.data;
  const pr = p.pull_request;
  let action: PullRequestAction | undefined;
  let sender = p.sender;
  if (eventType === "pull_request") {
    action = p.action === "closed" ? (pr.merged === true ? "merged" : "closed") : githubActions[p.action];
  } else {
    // The review's own state says what it was; an edited review changes nothing gitward counts.
    const state = p.review?.state?.toLowerCase();
    action = p.action === "dismissed" ? "review_dismissed" : p.action === "submitted" && state !== undefined ? githubReviewStates[state] : undefined;
    sender = p.review?.user ?? p.sender;
  }
  if (action === undefined) return none;
  return reported({
    action, number: p.number ?? pr.number, headSha: pr.head?.sha, headBranch: pr.head?.ref, baseBranch: pr.base?.ref,
    author: nameOf(pr.user), sender: nameOf(sender), labels: pr.labels, repositories: payloadRepositories("github", payload),
  }, "number, pull_request.number");
}

/** Gitea's review events: the event header says which kind of review it was; the action is `reviewed`. */
const giteaReviews: Readonly<Record<string, PullRequestAction>> = {
  pull_request_approved: "approved",
  pull_request_rejected: "changes_requested",
  pull_request_comment: "review_commented",
  // The fine event types (X-Gitea-Event-Type), should a Gitea send them as the event.
  pull_request_review_approved: "approved",
  pull_request_review_rejected: "changes_requested",
  pull_request_review_comment: "review_commented",
};

const giteaActions: Readonly<Record<string, PullRequestAction>> = {
  opened: "opened", edited: "edited", reopened: "reopened", synchronized: "synchronized",
  label_updated: "labeled", label_cleared: "unlabeled",
};

const giteaPayload = githubPayload.omit({ review: true });

function fromGitea(review: PullRequestAction | undefined, payload: JsonObject): PullRequestParse {
  const parsed = giteaPayload.safeParse(payload);
  if (!parsed.success) return malformed(parsed.error);
  const p = parsed.data;
  const pr = p.pull_request;
  const action = review !== undefined
    ? (p.action === "reviewed" ? review : undefined)
    : p.action === "closed" ? (pr.merged === true ? "merged" : "closed") : giteaActions[p.action];
  if (action === undefined) return none;
  return reported({
    action, number: p.number ?? pr.number, headSha: pr.head?.sha, headBranch: pr.head?.ref, baseBranch: pr.base?.ref,
    author: nameOf(pr.user), sender: nameOf(p.sender), labels: pr.labels, repositories: payloadRepositories("github", payload),
  }, "number, pull_request.number");
}

const gitlabLabels = labelList("title");

const gitlabPayload = z.object({
  object_attributes: z.object({
    action: z.string(),
    iid: positive,
    oldrev: text,
    last_commit: z.object({ id: text }).optional().catch(undefined),
    source_branch: text,
    target_branch: text,
    author_id: z.number().optional().catch(undefined),
  }),
  user: z.object({ id: z.number().optional().catch(undefined), username: text }).optional().catch(undefined),
  labels: gitlabLabels,
  changes: z.object({
    labels: z.object({ previous: gitlabLabels, current: gitlabLabels }).optional().catch(undefined),
  }).optional().catch(undefined),
});

const gitlabActions: Readonly<Record<string, PullRequestAction>> = {
  open: "opened", reopen: "reopened", close: "closed", merge: "merged",
  // `approval`/`unapproval` is one user's; `approved`/`unapproved` is the merge request's approval state changing.
  approved: "approved", approval: "approved", unapproved: "unapproved", unapproval: "unapproved",
};

function fromGitLab(payload: JsonObject): PullRequestParse {
  const parsed = gitlabPayload.safeParse(payload);
  if (!parsed.success) return malformed(parsed.error);
  const p = parsed.data;
  const mr = p.object_attributes;
  const action = mr.action === "update" ? gitlabUpdate(mr.oldrev, p.changes?.labels) : gitlabActions[mr.action];
  if (action === undefined) return none;
  // The payload names the author only by id; when the one who acted is the author, their name is known.
  const author = p.user?.id !== undefined && p.user.id === mr.author_id ? p.user.username : undefined;
  return reported({
    action, number: mr.iid, headSha: mr.last_commit?.id, headBranch: mr.source_branch, baseBranch: mr.target_branch,
    author, sender: p.user?.username, labels: p.labels, repositories: payloadRepositories("gitlab", payload),
  }, "object_attributes.iid");
}

/** An update is new commits when `oldrev` is set, a label change when `changes.labels` says so, else an edit. */
function gitlabUpdate(oldrev: string | undefined, labels: { previous: string[]; current: string[] } | undefined): PullRequestAction {
  if (oldrev !== undefined) return "synchronized";
  if (labels !== undefined) {
    if (labels.current.some((l) => !labels.previous.includes(l))) return "labeled";
    if (labels.previous.some((l) => !labels.current.includes(l))) return "unlabeled";
  }
  return "edited";
}

interface Draft {
  readonly action: PullRequestAction;
  readonly number: number | undefined;
  readonly headSha: string | undefined;
  readonly headBranch: string | undefined;
  readonly baseBranch: string | undefined;
  readonly author: string | undefined;
  readonly sender: string | undefined;
  readonly labels: readonly string[];
  readonly repositories: readonly string[];
}

/** The event without its absent fields, or the reason when it has no number (`where` names the fields read). */
function reported(d: Draft, where: string): PullRequestParse {
  if (d.number === undefined) return { ok: false, reason: `the pull request number is missing or not a positive integer (${where})` };
  const event: PullRequestEvent = {
    action: d.action,
    number: d.number,
    ...(d.headSha === undefined ? {} : { headSha: d.headSha }),
    ...(d.headBranch === undefined ? {} : { headBranch: d.headBranch }),
    ...(d.baseBranch === undefined ? {} : { baseBranch: d.baseBranch }),
    ...(d.author === undefined ? {} : { author: d.author }),
    ...(d.sender === undefined ? {} : { sender: d.sender }),
    labels: [...new Set(d.labels)],
    repositories: d.repositories,
  };
  return { ok: true, event };
}

/** The first problem, by path: zod's messages name the expected type, never the payload's values. */
function malformed(error: z.ZodError): PullRequestParse {
  const issue = error.issues[0];
  const path = issue === undefined || issue.path.length === 0 ? "body" : issue.path.join(".");
  return { ok: false, reason: `${path}: ${issue?.message ?? "invalid"}` };
}

function nameOf(a: { login?: string | undefined; username?: string | undefined } | undefined): string | undefined {
  return a?.login ?? a?.username;
}

function obj(v: unknown): JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : {};
}
