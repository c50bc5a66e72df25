/**
 * The forge port: what gitward asks of GitHub, GitLab or Gitea/Forgejo in the pull-request loop
 * (plan comments, commit statuses) and in the approval gate (pull requests of a commit, their
 * approvals, team members). One implementation per forge (`github.ts`, `gitlab.ts`, `gitea.ts`),
 * opened by `openForge` (`open-forge.ts`) from settings that always carry the API base URL, so
 * GitHub Enterprise and self-hosted GitLab and Gitea work as the public ones do.
 *
 * Every method throws {@link ForgeError} for what the forge answered or failed to answer; the
 * token is never part of a message.
 */

/** The forges gitward speaks to. */
export const ForgeKind = {
  GitHub: "github",
  GitLab: "gitlab",
  Gitea: "gitea",
} as const;
/** One of {@link ForgeKind}. Forgejo is `gitea`. */
export type ForgeKind = (typeof ForgeKind)[keyof typeof ForgeKind];

/** How to reach one repository on one forge. */
export interface ForgeSettings {
  readonly kind: ForgeKind;
  /**
   * The REST API base URL, never guessed: `https://api.github.com` or `https://HOST/api/v3`
   * (GitHub Enterprise), `https://HOST/api/v4` (GitLab), `https://HOST/api/v1` (Gitea).
   */
  readonly apiUrl: string;
  /** `owner/name` on GitHub and Gitea; on GitLab the project's numeric id or full path (`group/sub/project`). */
  readonly repository: string;
  /** A token with access to the repository; sent as the forge expects, never logged. */
  readonly token: string;
  /** Request retries after a rate limit, a 5xx or a network failure (default 3); 0 turns retries off (tests). */
  readonly retries?: number;
  /** Per request timeout in milliseconds (default 30 000). */
  readonly timeoutMs?: number;
}

/** A pull request (GitHub, Gitea) or merge request (GitLab), reduced to what gitward reads. */
export interface PullRequest {
  /** The number people write: GitHub and Gitea `#42`, GitLab's `iid` (`!42`). */
  readonly number: number;
  readonly title: string;
  /** The author's username (login). */
  readonly author: string;
  readonly state: "open" | "closed" | "merged";
  readonly draft: boolean;
  /** The head commit of the source branch. */
  readonly headSha: string;
  readonly headBranch: string;
  /** The branch it targets (merges into). */
  readonly baseBranch: string;
  /** The commit the merge made on the base branch (merge, squash or the last rebased commit), once merged. */
  readonly mergeCommitSha?: string | undefined;
  /** Who merged it, once merged, when the forge says. */
  readonly mergedBy?: string | undefined;
  readonly labels: readonly string[];
  /** Its page on the forge. */
  readonly url: string;
}

/**
 * A current approval: the latest review of one user, when it approves (a later "changes
 * requested" or a dismissal withdraws it). `commitSha` is the head the approval was given on,
 * where the forge records it (GitHub and Gitea reviews); GitLab approvals carry none.
 */
export interface Approval {
  readonly user: string;
  readonly commitSha?: string | undefined;
  /** ISO 8601, when known. */
  readonly submittedAt?: string | undefined;
}

/** The states of a commit status gitward sets. */
export type CommitState = "pending" | "success" | "failure" | "error";

/** A commit status (GitHub: a status, shown with checks; GitLab: a commit status; Gitea: a commit status). */
export interface CommitStatus {
  /** The name shown on the commit, e.g. `gitward/plan/prod` or `gitward/prod`. */
  readonly context: string;
  readonly state: CommitState;
  /** One line; forges cut long ones (GitHub at 140 characters), so the caller keeps it short. */
  readonly description: string;
  readonly targetUrl?: string | undefined;
}

/** What went wrong talking to a forge. */
export const ForgeErrorKind = {
  /** 401: the token is missing, wrong or expired. */
  Auth: "auth",
  /** 403 (not a rate limit): the token lacks a permission. */
  Forbidden: "forbidden",
  /** 404: no such repository, pull request, team, or the token cannot see it. */
  NotFound: "not-found",
  /** Rate limited, and retries did not get through. */
  RateLimited: "rate-limited",
  /** Connection refused, DNS, TLS, timeout, or a 5xx after retries. */
  Unreachable: "unreachable",
  /** 422 and other refusals of the request itself, or a response gitward cannot read. */
  Invalid: "invalid",
} as const;
/** One of {@link ForgeErrorKind}. */
export type ForgeErrorKind = (typeof ForgeErrorKind)[keyof typeof ForgeErrorKind];

/** The kind of a forge's HTTP error status (a 403 that is a rate limit is the caller's to tell). */
export function forgeErrorKindOf(status: number): ForgeErrorKind {
  if (status === 401) return ForgeErrorKind.Auth;
  if (status === 403) return ForgeErrorKind.Forbidden;
  if (status === 404) return ForgeErrorKind.NotFound;
  if (status === 429) return ForgeErrorKind.RateLimited;
  if (status >= 500) return ForgeErrorKind.Unreachable;
  return ForgeErrorKind.Invalid;
}

/** A forge call that failed; `message` says which call, on which forge, and why, without the token. */
export class ForgeError extends Error {
  readonly kind: ForgeErrorKind;
  /** The HTTP status, when there was a response. */
  readonly status: number | undefined;

  constructor(kind: ForgeErrorKind, message: string, options: { status?: number | undefined; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "ForgeError";
    this.kind = kind;
    this.status = options.status;
  }
}

/** One repository on one forge. */
export interface Forge {
  readonly kind: ForgeKind;
  /** How a pull request is written in messages: `#42` (GitHub, Gitea), `!42` (GitLab). */
  ref(number: number): string;
  /** One pull request by number. */
  pullRequest(number: number): Promise<PullRequest>;
  /** The pull requests a commit belongs to (its head, one of its commits, or its merge commit), every state. */
  pullRequestsOfCommit(sha: string): Promise<readonly PullRequest[]>;
  /** The open pull requests, every page. */
  openPullRequests(): Promise<readonly PullRequest[]>;
  /** The current approvals of a pull request: the latest review per user, when it approves; every page. */
  approvals(pr: PullRequest): Promise<readonly Approval[]>;
  /** The usernames of the authors and committers of a pull request's commits, where the forge links them to users. */
  commitUsers(pr: PullRequest): Promise<readonly string[]>;
  /** The usernames of a team: GitHub `org/team-slug`, GitLab a group path (`group/subgroup`), Gitea `org/team-name`. */
  teamMembers(team: string): Promise<readonly string[]>;
  /**
   * Creates the pull request's comment that contains `marker` (an HTML comment, invisible when
   * rendered), or updates it in place when one exists: one comment per marker, never two.
   */
  upsertComment(pr: number, marker: string, body: string): Promise<{ readonly id: string; readonly created: boolean }>;
  /** Sets a commit status on `sha`. */
  setStatus(sha: string, status: CommitStatus): Promise<void>;
}
