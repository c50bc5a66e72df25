/**
 * The Gitea (and Forgejo) forge: the {@link Forge} port as a small typed client over `fetch`
 * (`gitea-http.ts`) with zod-checked answers (`gitea-shapes.ts`). No Gitea library: the dozen
 * calls gitward makes are clearer written out than through a generated wrapper.
 */
import { ForgeError, type Approval, type CommitStatus, type Forge, type ForgeSettings, type PullRequest } from "./forge.ts";
import { GiteaHttp, seg } from "./gitea-http.ts";
import { GiteaComment, GiteaCommit, GiteaPull, GiteaReview, GiteaTeam, GiteaUser, type GiteaReview as Review } from "./gitea-shapes.ts";

/** Gitea's default `[repository.pull-request] WORK_IN_PROGRESS_PREFIXES`, matched ignoring case as Gitea does. */
const WIP_PREFIXES = ["wip:", "[wip]"];

/** Opens the Gitea or Forgejo repository `settings` names (`apiUrl` ends in `/api/v1`). */
export function createGiteaForge(settings: ForgeSettings): Forge {
  const [owner, name, ...rest] = settings.repository.split("/");
  if (owner === undefined || owner === "" || name === undefined || name === "" || rest.length > 0) {
    throw new ForgeError("invalid", `Gitea ${settings.repository}: the repository must be written owner/name`);
  }
  const http = new GiteaHttp({
    apiUrl: settings.apiUrl, token: settings.token, repository: settings.repository,
    retries: settings.retries ?? 3, timeoutMs: settings.timeoutMs ?? 30_000,
  });
  const repo = `/repos/${seg(owner)}/${seg(name)}`;
  const ref = (n: number): string => `#${n}`;

  const pullRequest = async (n: number): Promise<PullRequest> =>
    toPullRequest((await http.get({ what: `reading pull request ${ref(n)}`, path: `${repo}/pulls/${n}` }, GiteaPull)).data);

  const openPullRequests = async (): Promise<PullRequest[]> =>
    (await http.list({ what: "listing open pull requests", path: `${repo}/pulls`, query: { state: "open" } }, GiteaPull)).map(toPullRequest);

  return {
    kind: "gitea",
    ref,
    pullRequest,
    openPullRequests,

    async pullRequestsOfCommit(sha) {
      // Gitea answers only "the merged pull request of the commit"; an open one is found by its head.
      let merged: PullRequest | undefined;
      try {
        merged = toPullRequest((await http.get({ what: `finding the merged pull request of commit ${sha}`, path: `${repo}/commits/${seg(sha)}/pull` }, GiteaPull)).data);
      } catch (e) {
        if (!(e instanceof ForgeError && e.kind === "not-found")) throw e;
      }
      const open = (await openPullRequests()).filter((p) => p.headSha === sha && p.number !== merged?.number);
      return merged === undefined ? open : [merged, ...open];
    },

    async approvals(pr) {
      const reviews = await http.list({ what: `listing reviews of ${ref(pr.number)}`, path: `${repo}/pulls/${pr.number}/reviews` }, GiteaReview);
      return currentApprovals(reviews);
    },

    async commitUsers(pr) {
      // verification and files cost Gitea a git call per commit; gitward reads neither.
      const commits = await http.list(
        { what: `listing commits of ${ref(pr.number)}`, path: `${repo}/pulls/${pr.number}/commits`, query: { verification: "false", files: "false" } },
        GiteaCommit,
      );
      const users = new Set<string>();
      for (const c of commits) {
        for (const u of [c.author, c.committer]) if (u !== null && u !== undefined && u.login !== "") users.add(u.login);
      }
      return [...users];
    },

    async teamMembers(team) {
      const slash = team.indexOf("/");
      const org = team.slice(0, slash);
      const teamName = team.slice(slash + 1);
      if (slash <= 0 || teamName === "" || teamName.includes("/")) {
        throw new ForgeError("invalid", `Gitea ${settings.repository}: team ${team}: a Gitea team is written org/team-name`);
      }
      const teams = await http.list({ what: `listing the teams of organization ${org} for team ${team}`, path: `/orgs/${seg(org)}/teams` }, GiteaTeam);
      // Gitea keeps team names unique ignoring case (its lower_name).
      const found = teams.find((t) => t.name.toLowerCase() === teamName.toLowerCase());
      if (found === undefined) throw new ForgeError("not-found", `Gitea ${settings.repository}: team ${team}: organization ${org} has no team named ${teamName}`);
      const members = await http.list({ what: `listing the members of team ${team}`, path: `/teams/${found.id}/members` }, GiteaUser);
      return members.flatMap((m) => (m === null ? [] : [m.login]));
    },

    async upsertComment(pr, marker, body) {
      const text = body.includes(marker) ? body : `${marker}\n${body}`;
      // Gitea 1.23 lists an issue's comments in one answer: this endpoint takes no page or limit.
      const { data: comments } = await http.get({ what: `listing comments of ${ref(pr)}`, path: `${repo}/issues/${pr}/comments` }, GiteaComment.array());
      const existing = comments.find((c) => c.body.includes(marker));
      if (existing !== undefined) {
        if (existing.body !== text) {
          await http.get({ what: `updating comment ${existing.id} on ${ref(pr)}`, method: "PATCH", path: `${repo}/issues/comments/${existing.id}`, body: { body: text } }, GiteaComment);
        }
        return { id: String(existing.id), created: false };
      }
      const { data } = await http.get({ what: `commenting on ${ref(pr)}`, method: "POST", path: `${repo}/issues/${pr}/comments`, body: { body: text } }, GiteaComment);
      return { id: String(data.id), created: true };
    },

    async setStatus(sha, status: CommitStatus) {
      const body = {
        state: status.state, context: status.context, description: status.description,
        ...(status.targetUrl === undefined ? {} : { target_url: status.targetUrl }),
      };
      await http.request({ what: `setting status ${status.context} on ${sha}`, method: "POST", path: `${repo}/statuses/${seg(sha)}`, body }, undefined);
    },
  };
}

function toPullRequest(p: GiteaPull): PullRequest {
  const merged = p.merged === true;
  const lower = p.title.trimStart().toLowerCase();
  return {
    number: p.number,
    title: p.title,
    author: p.user?.login ?? "",
    state: merged ? "merged" : p.state === "open" ? "open" : "closed",
    draft: p.draft === true || WIP_PREFIXES.some((w) => lower.startsWith(w)),
    headSha: p.head.sha,
    headBranch: p.head.ref,
    baseBranch: p.base.ref,
    mergeCommitSha: merged ? (p.merge_commit_sha ?? undefined) : undefined,
    mergedBy: merged ? (p.merged_by?.login ?? undefined) : undefined,
    labels: (p.labels ?? []).map((l) => l.name),
    url: p.html_url,
  };
}

/**
 * The latest approving or change-requesting review of each user, when it approves and was not
 * dismissed. A dismissed review still ends the user's earlier ones, as in Gitea, where a new
 * review makes the user's older ones unofficial: dismissing an approval withdraws it.
 * `PENDING`, `COMMENT` and `REQUEST_REVIEW` entries decide nothing.
 */
export function currentApprovals(reviews: readonly Review[]): Approval[] {
  const latest = new Map<string, Review>();
  const order = (r: Review): number => Date.parse(r.submitted_at ?? "") || 0;
  const sorted = [...reviews].sort((a, b) => order(a) - order(b) || a.id - b.id);
  for (const r of sorted) {
    const login = r.user?.login;
    if (login === undefined || login === "" || (r.state !== "APPROVED" && r.state !== "REQUEST_CHANGES")) continue;
    latest.set(login, r);
  }
  const approvals: Approval[] = [];
  for (const [user, r] of latest) {
    if (r.state !== "APPROVED" || r.dismissed === true) continue;
    approvals.push({ user, commitSha: r.commit_id ?? undefined, submittedAt: r.submitted_at ?? undefined });
  }
  return approvals;
}
