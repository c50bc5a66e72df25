/**
 * The GitLab forge client: merge requests, their approvals and notes, group members and commit
 * statuses of one project, through `@gitbeaker/rest` over gitward's own requester
 * (`gitlab-requester.ts`: bounded retries, per-request timeout). The project is
 * `settings.repository`, a numeric id or a full path (`group/sub/project`, URL-encoded by
 * gitbeaker). `settings.apiUrl` is the API base (`https://HOST/api/v4`, or
 * `https://HOST/gitlab/api/v4` for an instance under a sub-path): gitbeaker appends `/api/v4`
 * to its `host` itself, so the host is the API base without that suffix.
 */
import { Commits, GroupMembers, MergeRequestApprovals, MergeRequestNotes, MergeRequests } from "@gitbeaker/rest";
import type { z } from "zod";
import { ForgeError, forgeErrorKindOf } from "./forge.ts";
import type { Approval, CommitState, CommitStatus, Forge, ForgeSettings, PullRequest } from "./forge.ts";
import { GitLabHttpError, GitLabNetworkError, gitlabRequester } from "./gitlab-requester.ts";
import type { RequesterFn } from "./gitlab-requester.ts";
import { approvalsShape, commitStatusShape, memberShape, mergeRequestShape, noteShape, toPullRequest } from "./gitlab-shapes.ts";

const PER_PAGE = 100;

/** Opens the GitLab project `settings` names. */
export function createGitLabForge(settings: ForgeSettings): Forge {
  const project = /^\d+$/.test(settings.repository) ? Number(settings.repository) : settings.repository;
  const where = `GitLab ${settings.repository}`;
  const host = gitlabHost(settings.apiUrl, where);
  const requesterFn: RequesterFn = gitlabRequester({ retries: settings.retries ?? 3, timeoutMs: settings.timeoutMs ?? 30_000 });
  // queryTimeout null: the requester times each attempt; gitbeaker's one signal would span every page and retry.
  const config = { host, requesterFn, queryTimeout: null, ...credentials(settings.token) };
  const mergeRequests = new MergeRequests(config);
  const approvalsApi = new MergeRequestApprovals(config);
  const notes = new MergeRequestNotes(config);
  const commits = new Commits(config);
  const groupMembers = new GroupMembers(config);

  /** Runs one API call, reads its answer with `shape`, and turns any failure into a ForgeError naming `what`. */
  async function call<S extends z.ZodType>(what: string, shape: S, run: () => Promise<unknown>): Promise<z.infer<S>> {
    let answer: unknown;
    try {
      answer = await run();
    } catch (e) {
      throw toForgeError(e, `${where}: ${what}`, settings.token);
    }
    const parsed = shape.safeParse(answer);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const at = issue === undefined ? "" : ` at ${issue.path.join(".") || "the top"}: ${issue.message}`;
      throw new ForgeError("invalid", `${where}: ${what}: GitLab's answer is not what its API describes${at}`, { cause: parsed.error });
    }
    return parsed.data;
  }

  const forge: Forge = {
    kind: "gitlab",
    ref: (n) => `!${n}`,

    async pullRequest(number) {
      const mr = await call(`reading ${forge.ref(number)}`, mergeRequestShape, () => mergeRequests.show(project, number));
      return toPullRequest(mr);
    },

    async pullRequestsOfCommit(sha) {
      const mrs = await call(`reading the merge requests of commit ${sha}`, mergeRequestShape.array(), () => commits.allMergeRequests(project, sha, { perPage: PER_PAGE }));
      return mrs.map(toPullRequest);
    },

    async openPullRequests() {
      const mrs = await call("listing the open merge requests", mergeRequestShape.array(), () => mergeRequests.all({ projectId: project, state: "opened", perPage: PER_PAGE }));
      return mrs.map(toPullRequest);
    },

    async approvals(pr: PullRequest): Promise<readonly Approval[]> {
      // One object, not a paginated list: GitLab returns every approver at once.
      const answer = await call(`reading the approvals of ${forge.ref(pr.number)}`, approvalsShape, () => approvalsApi.showConfiguration(project, { mergerequestIId: pr.number }));
      return (answer.approved_by ?? []).map((a) => ({ user: a.user.username, submittedAt: a.approved_at ?? undefined }));
    },

    commitUsers(): Promise<readonly string[]> {
      // GitLab commits carry a name and an e-mail, not a user: mapping e-mails to users needs
      // admin rights (private e-mails are hidden otherwise). So nothing is known here; gitward's
      // docs ask GitLab users to turn on "Prevent approvals by users who add commits", which
      // makes GitLab itself refuse those approvals.
      return Promise.resolve([]);
    },

    async teamMembers(group) {
      const members = await call(`reading the members of group ${group}`, memberShape.array(), () => groupMembers.all(group, { perPage: PER_PAGE }));
      return members.map((m) => m.username);
    },

    async upsertComment(number, marker, body) {
      const ref = forge.ref(number);
      const all = await call(`reading the notes of ${ref}`, noteShape.array(), () => notes.all(project, number, { sort: "asc", orderBy: "created_at", perPage: PER_PAGE }));
      // System notes ("added 1 commit", "approved this merge request") quote what changed and are not gitward's.
      const existing = all.find((n) => n.system !== true && n.body.includes(marker));
      if (existing === undefined) {
        const created = await call(`adding a note to ${ref}`, noteShape, () => notes.create(project, number, body));
        return { id: String(created.id), created: true };
      }
      if (existing.body !== body) {
        await call(`updating note ${existing.id} of ${ref}`, noteShape, () => notes.edit(project, number, existing.id, { body }));
      }
      return { id: String(existing.id), created: false };
    },

    async setStatus(sha, status: CommitStatus) {
      const state = gitlabState(status.state);
      try {
        await call(`setting the status ${status.context} of commit ${sha}`, commitStatusShape, () =>
          commits.editStatus(project, sha, state, { name: status.context, description: status.description, ...(status.targetUrl === undefined ? {} : { targetUrl: status.targetUrl }) }));
      } catch (e) {
        // GitLab refuses to move a pending status to pending again (400 "Cannot transition
        // status via :enqueue from :pending"): the commit already shows that state.
        if (!(e instanceof ForgeError && e.cause instanceof GitLabHttpError && alreadyInState(e.cause, state))) throw e;
      }
    },
  };
  return forge;
}

/** gitbeaker's `host`: the API base without the `/api/v4` gitbeaker appends, keeping any sub-path. */
function gitlabHost(apiUrl: string, where: string): string {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch (e) {
    throw new ForgeError("invalid", `${where}: the API URL ${apiUrl} is not a URL`, { cause: e });
  }
  const path = url.pathname.replace(/\/+$/, "");
  if (!path.endsWith("/api/v4")) throw new ForgeError("invalid", `${where}: the API URL ${url.origin}${path} does not end in /api/v4 (GitLab's REST API base, e.g. https://gitlab.example.com/api/v4)`);
  return `${url.origin}${path.slice(0, -"/api/v4".length)}`;
}

/**
 * A CI job token (`CI_JOB_TOKEN`, prefixed `glcbt-` since GitLab 17, possibly after an instance
 * prefix) goes in `JOB-TOKEN`; anything else is a personal, project or group access token
 * (`PRIVATE-TOKEN`). Job tokens can read merge requests but not write notes or statuses.
 */
function credentials(token: string): { token: string } | { jobToken: string } {
  return /^(?:[A-Za-z0-9_]+-)?glcbt-/.test(token) ? { jobToken: token } : { token };
}

function gitlabState(state: CommitState): "pending" | "success" | "failed" {
  return state === "pending" ? "pending" : state === "success" ? "success" : "failed";
}

function alreadyInState(e: GitLabHttpError, state: string): boolean {
  return e.status === 400 && new RegExp(`^Cannot transition status via :\\w+ from :${state}\\b`).test(e.detail);
}


/** A ForgeError for a failed call; the token is cut out of anything GitLab or the network said. */
function toForgeError(e: unknown, context: string, token: string): ForgeError {
  const hide = (s: string) => (token === "" ? s : s.split(token).join("***"));
  if (e instanceof GitLabHttpError) {
    const wait = e.status === 429 && e.retryAfterSeconds !== undefined ? ` (GitLab asks to retry in ${e.retryAfterSeconds} s)` : "";
    return new ForgeError(forgeErrorKindOf(e.status), hide(`${context}: ${e.message}${wait}`), { status: e.status, cause: e });
  }
  if (e instanceof GitLabNetworkError) return new ForgeError("unreachable", hide(`${context}: ${e.message}`), { cause: e });
  return new ForgeError("invalid", hide(`${context}: ${e instanceof Error ? e.message : String(e)}`), { cause: e });
}
