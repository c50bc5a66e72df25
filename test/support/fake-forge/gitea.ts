/**
 * The fake forge's Gitea face: the shared state in Gitea 1.23's REST shapes under `/api/v1`,
 * for the endpoints gitward calls. Shapes follow `test/fixtures/forge-api/gitea/swagger.full.json`
 * (Gitea v1.23.0) and the recorded bodies beside it; behaviour follows Gitea's handlers:
 * `page`/`limit` lists (limit 30 by default, at most 50) with `X-Total-Count`, and a `Link`
 * header only where Gitea sets one (pull requests and their commits, not reviews, teams or
 * members); issue comments in one unpaged answer; `commits/{sha}/pull` only for a merge commit.
 */
import type { IncomingHttpHeaders } from "node:http";
import { conformanceFor } from "./openapi-check.ts";
import type { FaceRequest, FaceResponse, ForgeFace, Route } from "./server.ts";
import type { FakeComment, FakeForgeState, FakePull, FakeReview, FakeStatus } from "./state.ts";

const DEFAULT_LIMIT = 30;
const MAX_LIMIT = 50;
const STATUS_STATES = new Set(["pending", "success", "error", "failure", "warning"]);

type Json = Record<string, unknown>;

/** The Gitea face; see the module comment. */
export function giteaFace(): ForgeFace {
  // Gitea writes its ROOT_URL into links and error bodies. The fake's is the address the client
  // used, learnt from each request's Host header (tokenOf runs first for every request).
  let root = "http://localhost:3000/";
  const swagger = (): string => `${root}api/swagger`;
  const notFound = (message = "not found"): FaceResponse => ({ status: 404, body: { errors: null, message, url: swagger() } });
  const error = (status: number, message: string): FaceResponse => ({ status, body: { message, url: swagger() } });

  const r = (method: string, path: string, handle: (req: FaceRequest, state: FakeForgeState) => FaceResponse): Route => ({ method, path, handle });
  /** A route on the state's repository: other owners or names are 404, as Gitea answers for a repository it does not have. */
  const repoRoute = (method: string, path: string, handle: (req: FaceRequest, state: FakeForgeState) => FaceResponse): Route =>
    r(method, `/repos/{owner}/{repo}${path}`, (req, state) => {
      const same = (a: string | undefined, b: string): boolean => a?.toLowerCase() === b.toLowerCase();
      return same(req.params.owner, state.owner) && same(req.params.repo, state.name) ? handle(req, state) : notFound();
    });
  const pullOf = (req: FaceRequest, state: FakeForgeState): FakePull | undefined => {
    const n = Number(req.params.index);
    return Number.isInteger(n) ? state.pulls.get(n) : undefined;
  };
  const shapes = new Shapes(() => root);

  const routes: Route[] = [
    repoRoute("GET", "/pulls", (req, state) => {
      const want = req.query.state ?? "open";
      const pulls = [...state.pulls.values()]
        .filter((p) => want === "all" || p.state === want)
        .sort((a, b) => b.number - a.number);
      return page(req, root, pulls.map((p) => shapes.pull(state, p)), { link: true });
    }),
    repoRoute("GET", "/pulls/{index}", (req, state) => {
      const p = pullOf(req, state);
      return p === undefined ? notFound() : { status: 200, body: shapes.pull(state, p) };
    }),
    repoRoute("GET", "/commits/{sha}/pull", (req, state) => {
      const p = [...state.pulls.values()].find((x) => x.merged && x.mergeCommitSha === req.params.sha);
      if (p === undefined) return error(404, "pull request does not exist [id: 0, issue_id: 0, head_repo_id: 0, base_repo_id: 0, head_branch: , base_branch: ]");
      return { status: 200, body: shapes.pull(state, p) };
    }),
    repoRoute("GET", "/pulls/{index}/reviews", (req, state) => {
      const p = pullOf(req, state);
      if (p === undefined) return notFound();
      return page(req, root, p.reviews.map((v) => shapes.review(state, p, v)), { link: false });
    }),
    repoRoute("GET", "/pulls/{index}/commits", (req, state) => {
      const p = pullOf(req, state);
      if (p === undefined) return notFound();
      return page(req, root, p.commits.map((c) => shapes.commit(state, c)), { link: true, commitHeaders: true });
    }),
    r("GET", "/orgs/{org}/teams", (req, state) => {
      const org = req.params.org?.toLowerCase() ?? "";
      const teams = [...state.teams.keys()].filter((k) => k.toLowerCase().startsWith(`${org}/`));
      if (teams.length === 0 && org !== state.owner.toLowerCase()) return notFound();
      return page(req, root, teams.map((k) => shapes.team(k)), { link: false });
    }),
    r("GET", "/teams/{id}/members", (req, state) => {
      const key = [...state.teams.keys()].find((k) => String(teamId(k)) === req.params.id);
      if (key === undefined) return notFound();
      const members = (state.teams.get(key) ?? []).map((login) => shapes.user(state, login));
      return page(req, root, members, { link: false });
    }),
    repoRoute("GET", "/issues/{index}/comments", (req, state) => {
      const p = pullOf(req, state);
      if (p === undefined) return notFound();
      return { status: 200, body: p.comments.map((c) => shapes.comment(state, p, c)), headers: totalCount(p.comments.length) };
    }),
    repoRoute("POST", "/issues/{index}/comments", (req, state) => {
      const p = pullOf(req, state);
      if (p === undefined) return notFound();
      const body = bodyText(req.body);
      if (body === undefined) return error(422, "[Body]: Required");
      const at = state.now();
      const c: FakeComment = { id: state.nextId(), user: req.user, body, createdAt: at, updatedAt: at };
      p.comments.push(c);
      return { status: 201, body: shapes.comment(state, p, c) };
    }),
    repoRoute("PATCH", "/issues/comments/{id}", (req, state) => {
      const id = Number(req.params.id);
      const p = [...state.pulls.values()].find((x) => x.comments.some((c) => c.id === id));
      const c = p?.comments.find((x) => x.id === id);
      if (p === undefined || c === undefined) return notFound();
      if (c.user !== req.user) return error(403, "");
      const body = bodyText(req.body);
      if (body === undefined) return error(422, "[Body]: Required");
      c.body = body;
      c.updatedAt = state.now();
      return { status: 200, body: shapes.comment(state, p, c) };
    }),
    repoRoute("POST", "/statuses/{sha}", (req, state) => {
      const b = (typeof req.body === "object" && req.body !== null ? req.body : {}) as Json;
      const st = typeof b.state === "string" ? b.state : "";
      if (!STATUS_STATES.has(st)) return error(400, `invalid state "${st}"`);
      const s: FakeStatus = {
        id: state.nextId(), sha: req.params.sha ?? "", context: str(b.context), state: st, description: str(b.description),
        targetUrl: typeof b.target_url === "string" ? b.target_url : undefined, creator: req.user, createdAt: state.now(),
      };
      state.statuses.push(s);
      return { status: 201, body: shapes.status(state, s) };
    }),
  ];

  return {
    kind: "gitea",
    basePath: "/api/v1",
    routes,
    tokenOf(headers: IncomingHttpHeaders) {
      if (typeof headers.host === "string") root = `http://${headers.host}/`;
      const m = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(headers.authorization ?? "");
      return m?.[1];
    },
    unauthorized: () => error(401, "user does not exist [uid: 0, name: ]"),
    notFound: () => notFound(),
    // Gitea has no rate limit of its own; this is a reverse proxy's (nginx limit_req) answer.
    rateLimited: () => ({ status: 429, body: { message: "Too Many Requests" }, headers: { "Retry-After": "1" } }),
    conformance: conformanceFor("gitea"),
  };
}

/** A stable id for a team, from its `org/name` (Gitea ids are positive int64). */
export function teamId(key: string): number {
  let h = 2166136261;
  for (const ch of key.toLowerCase()) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 16777619);
  return 100_000 + ((h >>> 0) % 900_000);
}

/** One page of `items` as Gitea's `utils.GetListOptions` reads `page` and `limit`, with its headers. */
function page(req: FaceRequest, root: string, items: readonly unknown[], opts: { link: boolean; commitHeaders?: boolean }): FaceResponse {
  const p = Math.max(1, Math.trunc(Number(req.query.page ?? 1)) || 1);
  const asked = Math.trunc(Number(req.query.limit ?? 0)) || 0;
  const limit = asked <= 0 ? DEFAULT_LIMIT : Math.min(asked, MAX_LIMIT);
  const body = items.slice((p - 1) * limit, p * limit);
  const pages = Math.max(1, Math.ceil(items.length / limit));
  const headers: Record<string, string> = {};
  const expose: string[] = [];
  if (opts.link) {
    const url = (n: number): string => {
      const q: Record<string, string> = { ...req.query, page: String(n) };
      const qs = Object.keys(q).sort().map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(q[k] ?? "")}`).join("&");
      return `${root}api/v1${req.path}?${qs}`;
    };
    const links: string[] = [];
    if (p < pages) links.push(`<${url(p + 1)}>; rel="next"`, `<${url(pages)}>; rel="last"`);
    if (p > 1) links.push(`<${url(1)}>; rel="first"`, `<${url(Math.min(p - 1, pages))}>; rel="prev"`);
    if (links.length > 0) {
      headers.Link = links.join(",");
      expose.push("Link");
    }
  }
  headers["X-Total-Count"] = String(items.length);
  expose.push("X-Total-Count");
  if (opts.commitHeaders === true) {
    Object.assign(headers, { "X-Total": String(items.length), "X-Page": String(p), "X-PerPage": String(limit), "X-PageCount": String(pages), "X-HasMore": String(p < pages) });
    expose.push("X-Page", "X-PerPage", "X-PageCount", "X-HasMore");
  }
  headers["Access-Control-Expose-Headers"] = expose.join(", ");
  return { status: 200, body, headers };
}

function totalCount(n: number): Record<string, string> {
  return { "X-Total-Count": String(n), "Access-Control-Expose-Headers": "X-Total-Count" };
}

function bodyText(body: unknown): string | undefined {
  const b = typeof body === "object" && body !== null ? (body as Json).body : undefined;
  return typeof b === "string" && b !== "" ? b : undefined;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

const ZERO_TIME = "1970-01-01T00:00:00Z";

/**
 * `obj` without its null members. Gitea writes null for an unset pointer (`merged_by`,
 * `milestone`, a review's `team`), but its swagger declares nothing nullable, and the face is held
 * to the swagger; so the fake leaves them out. The client reads both (a test serves the
 * recorded body, nulls and all).
 */
function unsetOmitted(obj: Json): Json {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null));
}
const WIP = /^\s*(wip:|\[wip\])/i;

/** Gitea 1.23's JSON for the state's objects (`services/convert`), with `root` as ROOT_URL. */
class Shapes {
  readonly #root: () => string;

  constructor(root: () => string) {
    this.#root = root;
  }

  #repoHtml(state: FakeForgeState): string {
    return `${this.#root()}${state.owner}/${state.name}`;
  }

  user(state: FakeForgeState, login: string): Json {
    const u = state.user(login);
    return {
      id: u.id, login, login_name: "", source_id: 0, full_name: "", email: `${login}@noreply.localhost`,
      avatar_url: `${this.#root()}avatars/${u.id}`, html_url: `${this.#root()}${login}`, language: "", is_admin: false,
      last_login: ZERO_TIME, created: "2026-01-01T00:00:00Z", restricted: false, active: true, prohibit_login: false,
      location: "", website: "", description: "", visibility: "public", followers_count: 0, following_count: 0,
      starred_repos_count: 0, username: login,
    };
  }

  repository(state: FakeForgeState): Json {
    const html = this.#repoHtml(state);
    return unsetOmitted({
      id: 1, owner: this.user(state, state.owner), name: state.name, full_name: `${state.owner}/${state.name}`, description: "",
      empty: false, private: true, fork: false, template: false, parent: null, mirror: false, size: 128, language: "",
      languages_url: `${this.#root()}api/v1/repos/${state.owner}/${state.name}/languages`, html_url: html,
      url: `${this.#root()}api/v1/repos/${state.owner}/${state.name}`, link: "", ssh_url: `git@localhost:${state.owner}/${state.name}.git`,
      clone_url: `${html}.git`, original_url: "", website: "", stars_count: 0, forks_count: 0, watchers_count: 1,
      open_issues_count: 0, open_pr_counter: [...state.pulls.values()].filter((p) => p.state === "open").length, release_counter: 0,
      default_branch: "main", archived: false, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z",
      archived_at: ZERO_TIME, permissions: { admin: false, push: true, pull: true }, has_issues: true,
      internal_tracker: { enable_time_tracker: true, allow_only_contributors_to_track_time: true, enable_issue_dependencies: true },
      has_wiki: true, has_pull_requests: true, has_projects: true, projects_mode: "all", has_releases: true, has_packages: true,
      has_actions: true, ignore_whitespace_conflicts: false, allow_merge_commits: true, allow_rebase: true,
      allow_rebase_explicit: true, allow_squash_merge: true, allow_fast_forward_only_merge: true, allow_rebase_update: true,
      default_delete_branch_after_merge: false, default_merge_style: "merge", default_allow_maintainer_edit: false,
      avatar_url: "", internal: false, mirror_interval: "", object_format_name: "sha1", mirror_updated: ZERO_TIME,
      repo_transfer: null, topics: [], licenses: [],
    });
  }

  pull(state: FakeForgeState, p: FakePull): Json {
    const html = `${this.#repoHtml(state)}/pulls/${p.number}`;
    const repo = this.repository(state);
    const branch = (ref: string, sha: string): Json => ({ label: ref, ref, sha, repo_id: 1, repo });
    return unsetOmitted({
      id: p.id, url: html, number: p.number, user: this.user(state, p.author), title: p.title, body: "",
      labels: p.labels.map((name) => ({ id: teamId(`label/${name}`), name, exclusive: false, is_archived: false, color: "00aabb", description: "", url: `${this.#root()}api/v1/repos/${state.owner}/${state.name}/labels/${teamId(`label/${name}`)}` })),
      milestone: null, assignee: null, assignees: null, requested_reviewers: [], requested_reviewers_teams: [],
      state: p.state, draft: p.draft || WIP.test(p.title), is_locked: false, comments: p.comments.length, review_comments: 0,
      additions: 1, deletions: 0, changed_files: 1, html_url: html, diff_url: `${html}.diff`, patch_url: `${html}.patch`,
      mergeable: p.state === "open", merged: p.merged, merged_at: p.mergedAt ?? null, merge_commit_sha: p.mergeCommitSha ?? null,
      merged_by: p.mergedBy === undefined ? null : this.user(state, p.mergedBy), allow_maintainer_edit: false,
      base: branch(p.baseBranch, "0".repeat(40)), head: branch(p.headBranch, p.headSha), merge_base: "0".repeat(40),
      due_date: null, created_at: p.createdAt, updated_at: p.updatedAt, closed_at: p.closedAt ?? null, pin_order: 0,
    });
  }

  review(state: FakeForgeState, p: FakePull, v: FakeReview): Json {
    // The shared state keeps a dismissed review as DISMISSED; Gitea keeps its state and sets dismissed.
    const gitea = { APPROVED: "APPROVED", CHANGES_REQUESTED: "REQUEST_CHANGES", COMMENTED: "COMMENT", DISMISSED: "APPROVED" }[v.state];
    return unsetOmitted({
      id: v.id, user: this.user(state, v.user), team: null, state: gitea, body: v.body, commit_id: v.commitSha,
      stale: v.commitSha !== p.headSha, official: v.state === "APPROVED" || v.state === "CHANGES_REQUESTED",
      dismissed: v.state === "DISMISSED", comments_count: 0, submitted_at: v.submittedAt, updated_at: v.submittedAt,
      html_url: `${this.#repoHtml(state)}/pulls/${p.number}#issuecomment-${v.id}`, pull_request_url: `${this.#repoHtml(state)}/pulls/${p.number}`,
    });
  }

  commit(state: FakeForgeState, c: FakePull["commits"][number]): Json {
    const api = `${this.#root()}api/v1/repos/${state.owner}/${state.name}/git/commits/${c.sha}`;
    const who = (login: string): Json => ({ name: login, email: `${login}@noreply.localhost`, date: "2026-12-01T09:00:00Z" });
    return unsetOmitted({
      url: api, sha: c.sha, created: "2026-12-01T09:00:00Z", html_url: `${this.#repoHtml(state)}/commit/${c.sha}`,
      commit: unsetOmitted({
        url: api, author: who(c.author), committer: who(c.committer), message: c.message,
        tree: { url: `${this.#root()}api/v1/repos/${state.owner}/${state.name}/git/trees/${"1".repeat(40)}`, sha: "1".repeat(40), created: "2026-12-01T09:00:00Z" },
        verification: null,
      }),
      author: this.user(state, c.author), committer: this.user(state, c.committer), parents: [], files: null,
    });
  }

  team(key: string): Json {
    const name = key.slice(key.indexOf("/") + 1);
    return unsetOmitted({
      id: teamId(key), name, description: "", organization: null, includes_all_repositories: false, permission: "write",
      units: ["repo.code", "repo.pulls"], units_map: { "repo.code": "write", "repo.pulls": "write" }, can_create_org_repo: false,
    });
  }

  comment(state: FakeForgeState, p: FakePull, c: FakeComment): Json {
    return {
      id: c.id, html_url: `${this.#repoHtml(state)}/pulls/${p.number}#issuecomment-${c.id}`,
      pull_request_url: `${this.#repoHtml(state)}/pulls/${p.number}`, issue_url: "", user: this.user(state, c.user),
      original_author: "", original_author_id: 0, body: c.body, assets: [], created_at: c.createdAt, updated_at: c.updatedAt,
    };
  }

  status(state: FakeForgeState, s: FakeStatus): Json {
    return {
      id: s.id, status: s.state, target_url: s.targetUrl ?? "", description: s.description,
      url: `${this.#root()}api/v1/repos/${state.owner}/${state.name}/statuses/${s.sha}`, context: s.context,
      creator: this.user(state, s.creator), created_at: s.createdAt, updated_at: s.createdAt,
    };
  }
}
