/**
 * The fake forge's state in GitHub's REST shapes (`simple-user`, `repository`,
 * `pull-request-simple`, `pull-request`, `pull-request-review`, `commit`, `issue-comment`,
 * `status` of GitHub's OpenAPI description): every required field present, nullable ones null
 * when the state has nothing for them, URLs under the fake's origin as GitHub Enterprise has
 * them (`ORIGIN/api/v3/…` for the API, `ORIGIN/owner/name/…` for pages).
 */
import type { FakeComment, FakeCommit, FakeForgeState, FakePull, FakeReview, FakeStatus } from "./state.ts";

/** Where the fake is reached, for the URLs in its answers. */
export interface GitHubUrls {
  /** `http://127.0.0.1:PORT`, GitHub's web pages. */
  readonly web: string;
  /** `http://127.0.0.1:PORT/api/v3`, the API. */
  readonly api: string;
}

/** The API and web origins of a request, from its Host header. */
export function urlsOf(host: string | undefined): GitHubUrls {
  const web = `http://${host ?? "127.0.0.1"}`;
  return { web, api: `${web}/api/v3` };
}

/** GitHub's opaque global node id, made from a type name and a database id. */
function nodeId(type: string, id: number | string): string {
  return Buffer.from(`0:${type}${id}`).toString("base64").replace(/=+$/, "");
}

/** A `simple-user`; `type` is "Organization" for an org. */
export function simpleUser(state: FakeForgeState, login: string, u: GitHubUrls, type = "User"): Record<string, unknown> {
  const { id } = state.user(login);
  const api = `${u.api}/users/${login}`;
  return {
    login, id, node_id: nodeId(type, id), avatar_url: `${u.web}/avatars/u/${id}?v=4`, gravatar_id: "",
    url: api, html_url: `${u.web}/${login}`, followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`, gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`, subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`, repos_url: `${api}/repos`, events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`, type, user_view_type: "public", site_admin: false,
  };
}

/** The repository (`repository`), owned by an organization named as the owner. */
export function repository(state: FakeForgeState, u: GitHubUrls): Record<string, unknown> {
  const full = `${state.owner}/${state.name}`;
  const api = `${u.api}/repos/${full}`;
  const at = "2026-01-01T00:00:00Z";
  const urls = Object.fromEntries(([
    ["archive_url", "/{archive_format}{/ref}"], ["assignees_url", "/assignees{/user}"], ["blobs_url", "/git/blobs{/sha}"],
    ["branches_url", "/branches{/branch}"], ["collaborators_url", "/collaborators{/collaborator}"], ["comments_url", "/comments{/number}"],
    ["commits_url", "/commits{/sha}"], ["compare_url", "/compare/{base}...{head}"], ["contents_url", "/contents/{+path}"],
    ["contributors_url", "/contributors"], ["deployments_url", "/deployments"], ["downloads_url", "/downloads"], ["events_url", "/events"],
    ["forks_url", "/forks"], ["git_commits_url", "/git/commits{/sha}"], ["git_refs_url", "/git/refs{/sha}"], ["git_tags_url", "/git/tags{/sha}"],
    ["hooks_url", "/hooks"], ["issue_comment_url", "/issues/comments{/number}"], ["issue_events_url", "/issues/events{/number}"],
    ["issues_url", "/issues{/number}"], ["keys_url", "/keys{/key_id}"], ["labels_url", "/labels{/name}"], ["languages_url", "/languages"],
    ["merges_url", "/merges"], ["milestones_url", "/milestones{/number}"], ["notifications_url", "/notifications{?since,all,participating}"],
    ["pulls_url", "/pulls{/number}"], ["releases_url", "/releases{/id}"], ["stargazers_url", "/stargazers"], ["statuses_url", "/statuses/{sha}"],
    ["subscribers_url", "/subscribers"], ["subscription_url", "/subscription"], ["tags_url", "/tags"], ["teams_url", "/teams"],
    ["trees_url", "/git/trees{/sha}"],
  ] as const).map(([k, suffix]) => [k, `${api}${suffix}`]));
  const host = new URL(u.web).host;
  return {
    id: state.projectId, node_id: nodeId("Repository", state.projectId), name: state.name, full_name: full, private: true,
    owner: simpleUser(state, state.owner, u, "Organization"), html_url: `${u.web}/${full}`, description: null, fork: false, url: api,
    ...urls, git_url: `git://${host}/${full}.git`, ssh_url: `git@${host}:${full}.git`, clone_url: `${u.web}/${full}.git`,
    svn_url: `${u.web}/${full}`, mirror_url: null, homepage: null, language: null, license: null, forks: 0, forks_count: 0,
    stargazers_count: 0, watchers_count: 0, watchers: 0, size: 1, default_branch: "main", open_issues_count: 0, open_issues: 0,
    is_template: false, topics: [], has_issues: true, has_projects: false, has_wiki: false, has_pages: false, has_downloads: true,
    has_discussions: false, archived: false, disabled: false, visibility: "private", pushed_at: at, created_at: at, updated_at: at,
  };
}

function pullApi(state: FakeForgeState, u: GitHubUrls, p: FakePull): { api: string; html: string; repoApi: string } {
  const repoApi = `${u.api}/repos/${state.owner}/${state.name}`;
  return { repoApi, api: `${repoApi}/pulls/${p.number}`, html: `${u.web}/${state.owner}/${state.name}/pull/${p.number}` };
}

/** A pull request as lists give it (`pull-request-simple`). */
export function pullSimple(state: FakeForgeState, u: GitHubUrls, p: FakePull): Record<string, unknown> {
  const { api, html, repoApi } = pullApi(state, u, p);
  const repo = repository(state, u);
  const branch = (ref: string, sha: string): Record<string, unknown> => ({
    label: `${state.owner}:${ref}`, ref, sha, user: simpleUser(state, state.owner, u, "Organization"), repo,
  });
  const link = (href: string): { href: string } => ({ href });
  return {
    url: api, id: p.id, node_id: nodeId("PullRequest", p.id), html_url: html, diff_url: `${html}.diff`, patch_url: `${html}.patch`,
    issue_url: `${repoApi}/issues/${p.number}`, number: p.number, state: p.state, locked: false, title: p.title,
    user: simpleUser(state, p.author, u), body: null,
    labels: p.labels.map((name, i) => ({
      id: p.id * 100 + i, node_id: nodeId("Label", p.id * 100 + i), url: `${repoApi}/labels/${encodeURIComponent(name)}`,
      name, description: "", color: "ededed", default: false,
    })),
    milestone: null, active_lock_reason: null, created_at: p.createdAt, updated_at: p.updatedAt,
    closed_at: p.closedAt ?? null, merged_at: p.merged ? (p.mergedAt ?? null) : null,
    merge_commit_sha: p.mergeCommitSha ?? null, assignee: null, assignees: [], requested_reviewers: [], requested_teams: [],
    commits_url: `${api}/commits`, review_comments_url: `${api}/comments`, review_comment_url: `${repoApi}/pulls/comments{/number}`,
    comments_url: `${repoApi}/issues/${p.number}/comments`, statuses_url: `${repoApi}/statuses/${p.headSha}`,
    head: branch(p.headBranch, p.headSha), base: branch(p.baseBranch, `base-of-${p.headSha}`),
    _links: {
      self: link(api), html: link(html), issue: link(`${repoApi}/issues/${p.number}`),
      comments: link(`${repoApi}/issues/${p.number}/comments`), review_comments: link(`${api}/comments`),
      review_comment: link(`${repoApi}/pulls/comments{/number}`), commits: link(`${api}/commits`),
      statuses: link(`${repoApi}/statuses/${p.headSha}`),
    },
    author_association: "CONTRIBUTOR", auto_merge: null, draft: p.draft,
  };
}

/** One pull request (`pull-request`): the list shape and its merge and size fields. */
export function pullFull(state: FakeForgeState, u: GitHubUrls, p: FakePull): Record<string, unknown> {
  return {
    ...pullSimple(state, u, p),
    merged: p.merged, mergeable: p.state === "open" ? true : null, rebaseable: p.state === "open" ? true : null,
    mergeable_state: p.state === "open" ? "clean" : "unknown",
    merged_by: p.merged && p.mergedBy !== undefined ? simpleUser(state, p.mergedBy, u) : null,
    comments: p.comments.length, review_comments: 0, maintainer_can_modify: false, commits: p.commits.length,
    additions: p.commits.length, deletions: 0, changed_files: p.commits.length,
  };
}

/** A review (`pull-request-review`). */
export function review(state: FakeForgeState, u: GitHubUrls, p: FakePull, r: FakeReview): Record<string, unknown> {
  const { api, html } = pullApi(state, u, p);
  return {
    id: r.id, node_id: nodeId("PullRequestReview", r.id), user: simpleUser(state, r.user, u), body: r.body, state: r.state,
    html_url: `${html}#pullrequestreview-${r.id}`, pull_request_url: api,
    _links: { html: { href: `${html}#pullrequestreview-${r.id}` }, pull_request: { href: api } },
    submitted_at: r.submittedAt, commit_id: r.commitSha, author_association: "CONTRIBUTOR",
  };
}

/** A commit of a pull request (`commit`); an empty login stands for an email GitHub links to no account (null). */
export function commit(state: FakeForgeState, u: GitHubUrls, p: FakePull, c: FakeCommit): Record<string, unknown> {
  const repoApi = `${u.api}/repos/${state.owner}/${state.name}`;
  const gitUser = (login: string): Record<string, unknown> => ({
    name: login === "" ? "Someone" : login, email: `${login === "" ? "someone" : login}@example.com`, date: p.createdAt,
  });
  const user = (login: string): Record<string, unknown> | null => (login === "" ? null : simpleUser(state, login, u));
  return {
    url: `${repoApi}/commits/${c.sha}`, sha: c.sha, node_id: nodeId("Commit", c.sha), html_url: `${u.web}/${state.owner}/${state.name}/commit/${c.sha}`,
    comments_url: `${repoApi}/commits/${c.sha}/comments`,
    commit: {
      url: `${repoApi}/git/commits/${c.sha}`, author: gitUser(c.author), committer: gitUser(c.committer), message: c.message,
      comment_count: 0, tree: { sha: `tree-${c.sha}`, url: `${repoApi}/git/trees/tree-${c.sha}` },
      verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
    },
    author: user(c.author), committer: user(c.committer), parents: [],
  };
}

/** A pull request's conversation comment (`issue-comment`). */
export function comment(state: FakeForgeState, u: GitHubUrls, p: FakePull, c: FakeComment): Record<string, unknown> {
  const repoApi = `${u.api}/repos/${state.owner}/${state.name}`;
  return {
    id: c.id, node_id: nodeId("IssueComment", c.id), url: `${repoApi}/issues/comments/${c.id}`,
    html_url: `${u.web}/${state.owner}/${state.name}/pull/${p.number}#issuecomment-${c.id}`, body: c.body,
    user: simpleUser(state, c.user, u), created_at: c.createdAt, updated_at: c.updatedAt,
    issue_url: `${repoApi}/issues/${p.number}`, author_association: "CONTRIBUTOR",
  };
}

/** A commit status (`status`). */
export function status(state: FakeForgeState, u: GitHubUrls, s: FakeStatus): Record<string, unknown> {
  const creator = simpleUser(state, s.creator, u);
  return {
    url: `${u.api}/repos/${state.owner}/${state.name}/statuses/${s.sha}`, avatar_url: creator["avatar_url"], id: s.id,
    node_id: nodeId("StatusContext", s.id), state: s.state, description: s.description, target_url: s.targetUrl ?? null,
    context: s.context, created_at: s.createdAt, updated_at: s.createdAt, creator,
  };
}
