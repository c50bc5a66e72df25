/**
 * The fake forge's GitLab face: the REST endpoints gitward's GitLab client calls, under
 * `/api/v4` (or a sub-path before it, as a self-hosted GitLab at `https://HOST/gitlab`), in
 * GitLab's shapes (the recorded bodies in `test/fixtures/forge-api/gitlab/responses/` and its
 * OpenAPI description), with GitLab's token headers, error bodies, rate-limit answer and page
 * headers. The project is addressed by id (17) or URL-encoded path (`acme%2Finfra`).
 *
 * Reviews become GitLab approvals: a user whose latest approving, dismissing or
 * changes-requesting review is APPROVED has approved (a DISMISSED review is an unapprove;
 * comments change nothing). Approvals and pushed commits also appear as GitLab's system notes.
 */
import type { IncomingHttpHeaders } from "node:http";
import { conformanceFor } from "./openapi-check.ts";
import type { Conformance, FaceRequest, FaceResponse, ForgeFace, Route } from "./server.ts";
import type { FakeComment, FakePull, FakeForgeState } from "./state.ts";

type Json = Record<string, unknown>;

const message = (status: number, text: string): FaceResponse => ({ status, body: { message: text } });
const projectNotFound = (): FaceResponse => message(404, "404 Project Not Found");
const notFound = (what = "Not found"): FaceResponse => message(404, `404 ${what}`);

/** Where the face answers: the API base and the web root it names in `web_url`s. */
interface Urls {
  readonly api: string;
  readonly web: string;
}

/** GitLab's offset pagination: `page`, `per_page` (default 20, at most 100), `x-*` headers and a Link header. */
function gitlabPage(req: FaceRequest, u: Urls, items: readonly unknown[]): FaceResponse {
  const perPage = Math.min(100, Math.max(1, Number.parseInt(req.query["per_page"] ?? "20", 10) || 20));
  const page = Math.max(1, Number.parseInt(req.query["page"] ?? "1", 10) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const at = (n: number): string => {
    const q = new URLSearchParams(req.query);
    q.set("page", String(n));
    q.set("per_page", String(perPage));
    return `${u.api}${req.path}?${q.toString()}`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${at(Math.min(page - 1, last))}>; rel="prev"`);
  if (page < last) links.push(`<${at(page + 1)}>; rel="next"`);
  links.push(`<${at(1)}>; rel="first"`, `<${at(last)}>; rel="last"`);
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage),
    headers: {
      "x-page": String(page), "x-per-page": String(perPage), "x-total": String(items.length), "x-total-pages": String(last),
      "x-next-page": page < last ? String(page + 1) : "", "x-prev-page": page > 1 ? String(Math.min(page - 1, last)) : "",
      link: links.join(", "),
    },
  };
}

function isProject(req: FaceRequest, state: FakeForgeState): boolean {
  const id = req.params["id"];
  return id === String(state.projectId) || id === `${state.owner}/${state.name}`;
}

function userBasic(state: FakeForgeState, login: string, u: Urls): Json {
  const { id } = state.user(login);
  return { id, username: login, name: login, state: "active", locked: false, avatar_url: `https://www.gravatar.com/avatar/${id}?s=80&d=identicon`, web_url: `${u.web}/${login}` };
}

function mrState(p: FakePull): string {
  return p.merged ? "merged" : p.state === "closed" ? "closed" : "opened";
}

/** GitLab keeps a merge request's draft status in its title. */
function mrTitle(p: FakePull): string {
  return p.draft && !/^(draft:|\[draft\]|\(draft\))/i.test(p.title) ? `Draft: ${p.title}` : p.title;
}

/** A merge request as lists return it (`APIEntitiesMergeRequestBasic`, `list_commit_merge_requests.json`). */
function mrBasic(state: FakeForgeState, u: Urls, p: FakePull): Json {
  const merger = p.merged && p.mergedBy !== undefined ? userBasic(state, p.mergedBy, u) : null;
  const path = `${state.owner}/${state.name}`;
  return {
    id: p.id, iid: p.number, project_id: state.projectId, title: mrTitle(p), description: "", state: mrState(p),
    created_at: p.createdAt, updated_at: p.updatedAt, merged_by: merger, merge_user: merger, merged_at: p.mergedAt ?? null,
    closed_by: p.state === "closed" && !p.merged ? userBasic(state, p.author, u) : null, closed_at: p.merged ? null : (p.closedAt ?? null),
    target_branch: p.baseBranch, source_branch: p.headBranch, user_notes_count: p.comments.length, upvotes: 0, downvotes: 0,
    author: userBasic(state, p.author, u), assignees: [], assignee: null, reviewers: [], source_project_id: state.projectId, target_project_id: state.projectId,
    labels: [...p.labels], draft: p.draft, imported: false, imported_from: "none", work_in_progress: p.draft, milestone: null,
    merge_when_pipeline_succeeds: false, merge_status: "can_be_merged", detailed_merge_status: p.state === "open" ? "mergeable" : "not_open",
    sha: p.headSha, merge_commit_sha: p.merged ? (p.mergeCommitSha ?? null) : null, squash_commit_sha: null,
    discussion_locked: null, should_remove_source_branch: null, force_remove_source_branch: false, prepared_at: p.createdAt,
    reference: `!${p.number}`, references: { short: `!${p.number}`, relative: `!${p.number}`, full: `${path}!${p.number}` },
    web_url: `${u.web}/${path}/-/merge_requests/${p.number}`,
    time_stats: { time_estimate: 0, total_time_spent: 0, human_time_estimate: null, human_total_time_spent: null },
    squash: false, squash_on_merge: false, task_completion_status: { count: 0, completed_count: 0 }, has_conflicts: false, blocking_discussions_resolved: true,
  };
}

/** One merge request in full (`APIEntitiesMergeRequest`, `get_merge_request.json`). */
function mrFull(state: FakeForgeState, u: Urls, p: FakePull): Json {
  const base = p.commits.length > 0 ? `${p.baseBranch}-base` : p.headSha;
  return {
    ...mrBasic(state, u, p), subscribed: false, changes_count: String(p.commits.length), latest_build_started_at: null, latest_build_finished_at: null,
    first_deployed_to_production_at: null, pipeline: null, head_pipeline: null, diff_refs: { base_sha: base, head_sha: p.headSha, start_sha: base },
    merge_error: null, first_contribution: false, user: { can_merge: true },
  };
}

/** Who has approved: per user, the latest review that approves, unapproves (DISMISSED) or asks for changes. */
function approvers(p: FakePull): { user: string; at: string; reviewId: number }[] {
  const latest = new Map<string, { state: string; at: string; reviewId: number }>();
  for (const r of p.reviews) if (r.state !== "COMMENTED") latest.set(r.user, { state: r.state, at: r.submittedAt, reviewId: r.id });
  return [...latest].filter(([, r]) => r.state === "APPROVED").map(([user, r]) => ({ user, at: r.at, reviewId: r.reviewId }));
}

/** A note (`APIEntitiesNote`, `merge_request_note.json`). */
function note(state: FakeForgeState, u: Urls, p: FakePull, n: { id: number; user: string; body: string; createdAt: string; updatedAt: string; system: boolean }): Json {
  return {
    id: n.id, type: null, body: n.body, attachment: null, author: userBasic(state, n.user, u), created_at: n.createdAt, updated_at: n.updatedAt,
    system: n.system, noteable_id: p.id, noteable_type: "MergeRequest", project_id: state.projectId, resolvable: false,
    confidential: false, internal: false, imported: false, imported_from: "none", noteable_iid: p.number, commands_changes: {},
  };
}

const STATES = new Set(["pending", "running", "success", "failed", "canceled", "skipped"]);
/** The event GitLab fires to move a status into each state, as its transition errors name it. */
const EVENTS: Record<string, string> = { pending: "enqueue", running: "run", success: "succeed", failed: "drop", canceled: "cancel", skipped: "skip" };

/** The routes, with the face's per-server memory of system note ids. */
function routesFor(basePath: string): Route[] {
  const systemIds = new Map<string, number>();
  const urls = (req: FaceRequest): Urls => {
    const origin = `http://${req.headers.host ?? "127.0.0.1"}`;
    return { api: `${origin}${basePath}`, web: `${origin}${basePath.slice(0, -"/api/v4".length)}` };
  };
  const mrOf = (req: FaceRequest, state: FakeForgeState, param: string): FakePull | undefined => state.pulls.get(Number(req.params[param]));

  /** Every note of a merge request: comments, and GitLab's system notes for approvals and pushed commits. */
  function notesOf(state: FakeForgeState, u: Urls, p: FakePull): Json[] {
    const system = (key: string): number => {
      let id = systemIds.get(key);
      if (id === undefined) systemIds.set(key, (id = state.nextId()));
      return id;
    };
    const all = [
      ...p.comments.map((c: FakeComment) => ({ id: c.id, user: c.user, body: c.body, createdAt: c.createdAt, updatedAt: c.updatedAt, system: false })),
      ...p.reviews.filter((r) => r.state === "APPROVED" || r.state === "DISMISSED").map((r) => ({
        id: system(`review:${r.id}`), user: r.user, body: r.state === "APPROVED" ? "approved this merge request" : "unapproved this merge request",
        createdAt: r.submittedAt, updatedAt: r.submittedAt, system: true,
      })),
      // The fake does not know when a commit came; all but the first are taken as pushed later.
      ...p.commits.slice(1).map((c) => ({
        id: system(`commit:${p.id}:${c.sha}`), user: c.committer, body: `added 1 commit\n\n<ul><li>${c.sha.slice(0, 8)} - ${c.message}</li></ul>`,
        createdAt: p.updatedAt, updatedAt: p.updatedAt, system: true,
      })),
    ];
    return all.map((n) => note(state, u, p, n));
  }

  const route = (method: string, path: string, handle: (req: FaceRequest, state: FakeForgeState, u: Urls) => FaceResponse): Route => ({
    method, path, handle: (req, state) => (path.startsWith("/projects/") && !isProject(req, state) ? projectNotFound() : handle(req, state, urls(req))),
  });

  return [
    route("GET", "/projects/{id}/merge_requests", (req, state, u) => {
      const wanted = req.query["state"] ?? "all";
      const mrs = [...state.pulls.values()].filter((p) => wanted === "all" || mrState(p) === wanted).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.number - a.number);
      return gitlabPage(req, u, mrs.map((p) => mrBasic(state, u, p)));
    }),
    route("GET", "/projects/{id}/merge_requests/{merge_request_iid}", (req, state, u) => {
      const p = mrOf(req, state, "merge_request_iid");
      return p === undefined ? notFound() : { status: 200, body: mrFull(state, u, p) };
    }),
    route("GET", "/projects/{id}/repository/commits/{sha}/merge_requests", (req, state, u) => {
      const wanted = req.query["state"];
      const mrs = state.pullsOfCommit(req.params["sha"] ?? "").filter((p) => wanted === undefined || mrState(p) === wanted);
      return gitlabPage(req, u, mrs.map((p) => mrBasic(state, u, p)));
    }),
    route("GET", "/projects/{id}/merge_requests/{merge_request_iid}/approvals", (req, state, u) => {
      const p = mrOf(req, state, "merge_request_iid");
      if (p === undefined) return notFound();
      const by = approvers(p);
      return {
        status: 200,
        body: {
          id: p.id, iid: p.number, project_id: state.projectId, title: mrTitle(p), description: "", state: mrState(p), created_at: p.createdAt, updated_at: p.updatedAt,
          merge_status: "can_be_merged", approved: by.length > 0, approvals_required: 0, approvals_left: 0, require_password_to_approve: false,
          approved_by: by.map((a) => ({ user: userBasic(state, a.user, u), approved_at: a.at })),
          suggested_approvers: [], approvers: [], approver_groups: [], user_has_approved: by.some((a) => a.user === req.user), user_can_approve: req.user !== p.author,
          approval_rules_left: [], has_approval_rules: false, merge_request_approvers_available: true, multiple_approval_rules_available: true, invalid_approvers_rules: [],
        },
      };
    }),
    route("GET", "/projects/{id}/merge_requests/{noteable_id}/notes", (req, state, u) => {
      const p = mrOf(req, state, "noteable_id");
      if (p === undefined) return notFound();
      const key = req.query["order_by"] === "updated_at" ? "updated_at" : "created_at";
      const asc = req.query["sort"] === "asc" ? 1 : -1;
      const notes = notesOf(state, u, p).sort((a, b) => asc * (String(a[key]).localeCompare(String(b[key])) || Number(a["id"]) - Number(b["id"])));
      return gitlabPage(req, u, notes);
    }),
    route("GET", "/projects/{id}/merge_requests/{noteable_id}/notes/{note_id}", (req, state, u) => {
      const p = mrOf(req, state, "noteable_id");
      const n = p === undefined ? undefined : notesOf(state, u, p).find((x) => String(x["id"]) === req.params["note_id"]);
      return n === undefined ? notFound("Note Not Found") : { status: 200, body: n };
    }),
    route("POST", "/projects/{id}/merge_requests/{noteable_id}/notes", (req, state, u) => {
      const p = mrOf(req, state, "noteable_id");
      if (p === undefined) return notFound();
      const body = (req.body as { body?: unknown } | undefined)?.body;
      if (typeof body !== "string" || body.trim() === "") return { status: 400, body: { error: "body is missing" } };
      const at = state.now();
      const c: FakeComment = { id: state.nextId(), user: req.user, body, createdAt: at, updatedAt: at };
      p.comments.push(c);
      return { status: 201, body: note(state, u, p, { ...c, system: false }) };
    }),
    route("PUT", "/projects/{id}/merge_requests/{noteable_id}/notes/{note_id}", (req, state, u) => {
      const p = mrOf(req, state, "noteable_id");
      const c = p?.comments.find((x) => String(x.id) === req.params["note_id"]);
      if (p === undefined || c === undefined) return notFound("Note Not Found");
      if (c.user !== req.user) return message(403, "403 Forbidden");
      const body = (req.body as { body?: unknown } | undefined)?.body;
      if (typeof body === "string") {
        c.body = body;
        c.updatedAt = state.now();
      }
      return { status: 200, body: note(state, u, p, { ...c, system: false }) };
    }),
    route("POST", "/projects/{id}/statuses/{sha}", (req, state, u) => {
      const b = (req.body ?? {}) as { state?: unknown; name?: unknown; context?: unknown; description?: unknown; target_url?: unknown };
      if (typeof b.state !== "string" || !STATES.has(b.state)) return { status: 400, body: { error: "state does not have a valid value" } };
      const sha = req.params["sha"] ?? "";
      const name = typeof b.name === "string" ? b.name : typeof b.context === "string" ? b.context : "default";
      const current = state.latestStatuses(sha).get(name);
      // GitLab reuses a pending or running status of the same name and moves it; moving it to where it is fails.
      if (current !== undefined && current.state === b.state && (b.state === "pending" || b.state === "running")) {
        return message(400, `Cannot transition status via :${EVENTS[b.state]} from :${b.state} (Reason(s): Status cannot transition via "${EVENTS[b.state]}")`);
      }
      const s = {
        id: state.nextId(), sha, context: name, state: b.state, description: typeof b.description === "string" ? b.description : "",
        targetUrl: typeof b.target_url === "string" ? b.target_url : undefined, creator: req.user, createdAt: state.now(),
      };
      state.statuses.push(s);
      const done = b.state !== "pending" && b.state !== "running";
      return {
        status: 201,
        body: {
          id: s.id, sha, ref: null, status: s.state, name, target_url: s.targetUrl ?? null, description: s.description === "" ? null : s.description,
          created_at: s.createdAt, started_at: null, finished_at: done ? s.createdAt : null, allow_failure: false, coverage: null, pipeline_id: s.id,
          author: userBasic(state, req.user, u),
        },
      };
    }),
    route("GET", "/groups/{id}/members", (req, state, u) => {
      const members = state.teams.get(req.params["id"] ?? "");
      if (members === undefined) return notFound("Group Not Found");
      return gitlabPage(req, u, members.map((login) => ({
        ...userBasic(state, login, u), access_level: 30, created_at: "2026-01-01T00:00:00.000Z", expires_at: null, membership_state: "active",
      })));
    }),
  ];
}

/** The token of `PRIVATE-TOKEN: X` (personal, project and group access tokens) or `Authorization: Bearer X` (OAuth). */
function tokenOf(headers: IncomingHttpHeaders): string | undefined {
  const privateToken = headers["private-token"];
  if (typeof privateToken === "string" && privateToken !== "") return privateToken;
  return /^bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? "")?.[1];
}

/**
 * The trimmed GitLab description checked, less where it is known to differ from what GitLab
 * sends: it marks no field nullable though GitLab answers null for unset ones (`merged_by`,
 * `closed_at`, `expires_at`); it types `approved_by` as one object where GitLab sends a list
 * (the same under-typing its SOURCE.md describes for lists); it types a member's
 * `access_level` as text where GitLab sends the number (30); and it declares 200 for creating
 * a commit status, which GitLab answers 201 as every create. Anything else is still reported.
 */
function gitlabConformance(): Conformance {
  const checks = conformanceFor("gitlab");
  const valueAt = (body: unknown, path: string): unknown => path.split(/\.|(?=\[)/).slice(1).reduce<unknown>((node, seg) => {
    if (typeof node !== "object" || node === null) return undefined;
    const key = seg.startsWith("[") ? Number(seg.slice(1, -1)) : seg;
    return (node as Record<string | number, unknown>)[key];
  }, body);
  const known = (method: string, template: string, status: number, body: unknown, problem: string): boolean => {
    if (method === "POST" && template === "/projects/{id}/statuses/{sha}" && status === 201 && problem.startsWith("status 201 is not declared")) return true;
    const m = /^(body[^:]*): must be (\w+)/.exec(problem);
    if (m === null) return false;
    const value = valueAt(body, m[1] ?? "");
    if (value === null) return true;
    if (/\.approved_by$/.test(m[1] ?? "") && Array.isArray(value)) return true;
    return /\.access_level$/.test(m[1] ?? "") && typeof value === "number";
  };
  return {
    operation: (method, template) => checks.operation(method, template),
    request: (method, template, query, body) => checks.request(method, template, query, body),
    response: (method, template, status, body) => {
      const problems = checks.response(method, template, status, body).filter((p) => !known(method, template, status, body, p));
      // A 201 the description does not declare is not checked against its 200 body either; check that here.
      if (method === "POST" && template === "/projects/{id}/statuses/{sha}" && status === 201) {
        problems.push(...checks.response(method, template, 200, body).filter((p) => !known(method, template, 200, body, p)));
      }
      return problems;
    },
  };
}

/** GitLab as the fake forge serves it; `basePath` may put a sub-path before `/api/v4`, as a self-hosted instance does. */
export function gitlabFace(options: { basePath?: string } = {}): ForgeFace {
  const basePath = options.basePath ?? "/api/v4";
  if (!basePath.endsWith("/api/v4")) throw new Error(`a GitLab base path ends in /api/v4, got ${basePath}`);
  return {
    kind: "gitlab",
    basePath,
    routes: routesFor(basePath),
    tokenOf,
    unauthorized: () => message(401, "401 Unauthorized"),
    notFound: () => notFound(),
    rateLimited: () => ({
      status: 429,
      body: "Retry later",
      headers: {
        "content-type": "text/plain", "retry-after": "1", "ratelimit-name": "throttle_authenticated_api", "ratelimit-limit": "60",
        "ratelimit-observed": "61", "ratelimit-remaining": "0", "ratelimit-reset": String(Math.floor(Date.now() / 1000) + 1),
      },
    }),
    conformance: gitlabConformance(),
  };
}
