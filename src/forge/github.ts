/**
 * The GitHub forge client (github.com and GitHub Enterprise at `https://HOST/api/v3`), on
 * Octokit with its retry and throttling plugins: rate limits are waited out when GitHub says
 * how long (at most a minute a wait), 5xx answers and lost connections are retried, every list
 * is read to its last page, and every failure becomes a {@link ForgeError} naming the call.
 */
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { z } from "zod";
import { ForgeError, ForgeErrorKind } from "./forge.ts";
import type { Approval, CommitStatus, Forge, ForgeSettings, PullRequest } from "./forge.ts";
import { gitHubError, type GitHubCallContext } from "./github-errors.ts";
import {
  commitLogins, gitHubCommentSchema, gitHubCommitSchema, gitHubMemberSchema, gitHubPullSchema, gitHubReviewSchema,
  standingApprovals, statusDescription, toPullRequest,
} from "./github-shapes.ts";

const GitHubOctokit = Octokit.plugin(retry, throttling);
type GitHubOctokit = InstanceType<typeof GitHubOctokit>;

/** The longest wait for a rate limit to lift; a later reset fails the call (rate-limited) instead of stalling gitward. */
const MAX_RATE_LIMIT_WAIT_S = 60;
const PER_PAGE = 100;
const quiet = (): void => undefined;

/** A {@link Forge} for one GitHub repository (`owner/name`) at `settings.apiUrl`. */
export function createGitHubForge(settings: ForgeSettings): Forge {
  const [owner, repo, ...rest] = settings.repository.split("/");
  if (owner === undefined || repo === undefined || owner === "" || repo === "" || rest.length > 0) {
    throw new ForgeError(ForgeErrorKind.Invalid, `GitHub repository must be owner/name, got "${settings.repository}"`);
  }
  const ctx: GitHubCallContext = { repository: settings.repository, apiUrl: settings.apiUrl, token: settings.token };
  const octokit = newOctokit(settings);
  const where = { owner, repo };

  /** Runs one call, its failure named by `action`. */
  async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      throw gitHubError(ctx, action, e);
    }
  }

  async function readPull(number: number): Promise<PullRequest> {
    const { data } = await octokit.rest.pulls.get({ ...where, pull_number: number });
    return toPullRequest(gitHubPullSchema.parse(data));
  }

  return {
    kind: "github",
    ref: (number) => `#${number}`,

    pullRequest: (number) => call(`reading pull request #${number}`, () => readPull(number)),

    pullRequestsOfCommit: (sha) => call(`listing pull requests of commit ${sha}`, async () => {
      const data = await octokit.paginate(octokit.rest.repos.listPullRequestsAssociatedWithCommit, { ...where, commit_sha: sha, per_page: PER_PAGE });
      return z.array(gitHubPullSchema).parse(data).map(toPullRequest);
    }),

    openPullRequests: () => call("listing open pull requests", async () => {
      const data = await octokit.paginate(octokit.rest.pulls.list, { ...where, state: "open", per_page: PER_PAGE });
      return z.array(gitHubPullSchema).parse(data).map(toPullRequest);
    }),

    approvals: (pr): Promise<readonly Approval[]> => call(`listing reviews of #${pr.number}`, async () => {
      const data = await octokit.paginate(octokit.rest.pulls.listReviews, { ...where, pull_number: pr.number, per_page: PER_PAGE });
      return standingApprovals(z.array(gitHubReviewSchema).parse(data));
    }),

    commitUsers: (pr) => call(`listing commits of #${pr.number}`, async () => {
      const data = await octokit.paginate(octokit.rest.pulls.listCommits, { ...where, pull_number: pr.number, per_page: PER_PAGE });
      return commitLogins(z.array(gitHubCommitSchema).parse(data));
    }),

    teamMembers: (team) => call(`listing members of team ${team}`, async () => {
      const [org, slug, ...more] = team.split("/");
      if (org === undefined || slug === undefined || org === "" || slug === "" || more.length > 0) {
        throw new ForgeError(ForgeErrorKind.Invalid, `GitHub ${settings.repository}: team must be org/team-slug, got "${team}"`);
      }
      const data = await octokit.paginate(octokit.rest.teams.listMembersInOrg, { org, team_slug: slug, per_page: PER_PAGE });
      return z.array(gitHubMemberSchema).parse(data).map((m) => m.login);
    }),

    upsertComment: (pr, marker, body) => call(`writing the comment on #${pr}`, async () => {
      const text = body.includes(marker) ? body : `${marker}\n${body}`;
      const listed = await octokit.paginate(octokit.rest.issues.listComments, { ...where, issue_number: pr, per_page: PER_PAGE });
      const existing = z.array(gitHubCommentSchema).parse(listed).find((c) => c.body?.includes(marker) === true);
      if (existing !== undefined) {
        await octokit.rest.issues.updateComment({ ...where, comment_id: existing.id, body: text });
        return { id: String(existing.id), created: false };
      }
      const { data } = await octokit.rest.issues.createComment({ ...where, issue_number: pr, body: text });
      return { id: String(gitHubCommentSchema.parse(data).id), created: true };
    }),

    setStatus: (sha, status: CommitStatus) => call(`setting status ${status.context} on ${sha}`, async () => {
      await octokit.rest.repos.createCommitStatus({
        ...where, sha, state: status.state, context: status.context, description: statusDescription(status.description),
        ...(status.targetUrl === undefined ? {} : { target_url: status.targetUrl }),
      });
    }),
  };
}

/** Octokit for `settings`: base URL, token, user agent, timeouts, retries and rate-limit waits. */
function newOctokit(settings: ForgeSettings): GitHubOctokit {
  const retries = Math.max(0, settings.retries ?? 3);
  const timeoutMs = settings.timeoutMs ?? 30_000;
  const onLimit = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number): boolean =>
    retryCount < retries && retryAfter <= MAX_RATE_LIMIT_WAIT_S;
  return new GitHubOctokit({
    baseUrl: settings.apiUrl.replace(/\/+$/, ""),
    auth: settings.token,
    userAgent: "gitward",
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    request: {
      // Each attempt has its own deadline, so a retry after a timeout gets the full time again.
      fetch: (url: string | URL, init: RequestInit = {}) => {
        const deadline = AbortSignal.timeout(timeoutMs);
        return fetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, deadline]) : deadline });
      },
    },
    retry: { retries, enabled: retries > 0 },
    throttle: {
      // Throttling's queues are per id and process-wide: one per GitHub, so a process's clients share GitHub's limits.
      id: `gitward ${settings.apiUrl}`,
      onRateLimit: onLimit,
      onSecondaryRateLimit: onLimit,
    },
  });
}
