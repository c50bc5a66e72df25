/**
 * The fake forge's GitHub face: the REST endpoints gitward's GitHub client calls, under
 * `/api/v3` as on GitHub Enterprise, answering in GitHub's shapes (`github-render.ts`), with
 * GitHub's token headers, error bodies, rate-limit answer and page links.
 */
import type { IncomingHttpHeaders } from "node:http";
import { comment, commit, pullFull, pullSimple, review, status, simpleUser, urlsOf, type GitHubUrls } from "./github-render.ts";
import { conformanceFor } from "./openapi-check.ts";
import type { FaceRequest, FaceResponse, ForgeFace, Route } from "./server.ts";
import type { FakeForgeState, FakePull } from "./state.ts";

const DOCS = "https://docs.github.com/rest";

/** GitHub's error body: a message, where to read about it, and the status as a string. */
function error(status: number, message: string, documentation = DOCS, more: Record<string, unknown> = {}): FaceResponse {
  return { status, body: { message, ...more, documentation_url: documentation, status: String(status) } };
}

const notFound = (): FaceResponse => error(404, "Not Found");

/**
 * One page of `items`, GitHub's way: `per_page` (default 30, at most 100) and `page` (from 1),
 * and a Link header with prev, next, last and first, each the request's URL with its page.
 */
export function githubPage(req: FaceRequest, u: GitHubUrls, items: readonly unknown[]): FaceResponse {
  const perPage = Math.min(100, Math.max(1, Number.parseInt(req.query["per_page"] ?? "30", 10) || 30));
  const page = Math.max(1, Number.parseInt(req.query["page"] ?? "1", 10) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const body = items.slice((page - 1) * perPage, page * perPage);
  const at = (n: number): string => {
    const q = new URLSearchParams(req.query);
    q.set("page", String(n));
    return `${u.api}${req.path}?${q.toString()}`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${at(Math.min(page - 1, last))}>; rel="prev"`);
  if (page < last) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
  if (page > 1) links.push(`<${at(1)}>; rel="first"`);
  return { status: 200, body, ...(links.length === 0 ? {} : { headers: { link: links.join(", ") } }) };
}

/** The pull request a request names, when it is of the fake's repository and exists. */
function pullOf(req: FaceRequest, state: FakeForgeState, param = "pull_number"): FakePull | undefined {
  if (!isRepo(req, state)) return undefined;
  const n = Number(req.params[param]);
  return Number.isInteger(n) ? state.pulls.get(n) : undefined;
}

function isRepo(req: FaceRequest, state: FakeForgeState): boolean {
  // GitHub matches owner and repository names without regard to case.
  return req.params["owner"]?.toLowerCase() === state.owner.toLowerCase() && req.params["repo"]?.toLowerCase() === state.name.toLowerCase();
}

const STATUS_STATES = new Set(["error", "failure", "pending", "success"]);

function validationFailed(resource: string, field: string, message: string): FaceResponse {
  return error(422, "Validation Failed", `${DOCS}/`, { errors: [{ resource, code: "custom", field, message }] });
}

/** A route whose handler gets the request's URLs. */
function at(method: string, path: string, handle: (req: FaceRequest, state: FakeForgeState, u: GitHubUrls) => FaceResponse): Route {
  return { method, path, handle: (req, state) => handle(req, state, urlsOf(req.headers.host)) };
}

const routes: readonly Route[] = [
  at("GET", "/repos/{owner}/{repo}/pulls", (req, state, u) => {
    if (!isRepo(req, state)) return notFound();
    const wanted = req.query["state"] ?? "open";
    const pulls = [...state.pulls.values()].filter((p) => wanted === "all" || p.state === wanted).sort((a, b) => b.number - a.number);
    return githubPage(req, u, pulls.map((p) => pullSimple(state, u, p)));
  }),
  at("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", (req, state, u) => {
    const p = pullOf(req, state);
    return p === undefined ? notFound() : { status: 200, body: pullFull(state, u, p) };
  }),
  at("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", (req, state, u) => {
    const p = pullOf(req, state);
    return p === undefined ? notFound() : githubPage(req, u, p.reviews.map((r) => review(state, u, p, r)));
  }),
  at("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", (req, state, u) => {
    const p = pullOf(req, state);
    return p === undefined ? notFound() : githubPage(req, u, p.commits.map((c) => commit(state, u, p, c)));
  }),
  at("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", (req, state, u) => {
    if (!isRepo(req, state)) return notFound();
    const pulls = state.pullsOfCommit(req.params["commit_sha"] ?? "");
    return githubPage(req, u, pulls.map((p) => pullSimple(state, u, p)));
  }),
  at("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", (req, state, u) => {
    const p = pullOf(req, state, "issue_number");
    return p === undefined ? notFound() : githubPage(req, u, p.comments.map((c) => comment(state, u, p, c)));
  }),
  at("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", (req, state, u) => {
    const p = pullOf(req, state, "issue_number");
    if (p === undefined) return notFound();
    const body = bodyField(req, "body");
    if (body === undefined) return validationFailed("IssueComment", "body", "body is missing");
    const at = state.now();
    const c = { id: state.nextId(), user: req.user, body, createdAt: at, updatedAt: at };
    p.comments.push(c);
    return { status: 201, body: comment(state, u, p, c), headers: { location: `${u.api}/repos/${state.owner}/${state.name}/issues/comments/${c.id}` } };
  }),
  at("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", (req, state, u) => {
    if (!isRepo(req, state)) return notFound();
    const id = Number(req.params["comment_id"]);
    for (const p of state.pulls.values()) {
      const c = p.comments.find((x) => x.id === id);
      if (c === undefined) continue;
      const body = bodyField(req, "body");
      if (body === undefined) return validationFailed("IssueComment", "body", "body is missing");
      c.body = body;
      c.updatedAt = state.now();
      return { status: 200, body: comment(state, u, p, c) };
    }
    return notFound();
  }),
  at("POST", "/repos/{owner}/{repo}/statuses/{sha}", (req, state, u) => {
    if (!isRepo(req, state)) return notFound();
    const st = bodyField(req, "state");
    if (st === undefined || !STATUS_STATES.has(st)) return validationFailed("Status", "state", "state is not included in the list");
    const s = {
      id: state.nextId(), sha: req.params["sha"] ?? "", context: bodyField(req, "context") ?? "default", state: st,
      description: bodyField(req, "description") ?? "", targetUrl: bodyField(req, "target_url"), creator: req.user, createdAt: state.now(),
    };
    state.statuses.push(s);
    return { status: 201, body: status(state, u, s) };
  }),
  at("GET", "/orgs/{org}/teams/{team_slug}/members", (req, state, u) => {
    const members = state.teams.get(`${req.params["org"] ?? ""}/${req.params["team_slug"] ?? ""}`);
    return members === undefined ? notFound() : githubPage(req, u, members.map((login) => simpleUser(state, login, u)));
  }),
];

/** A string field of the JSON body, undefined when absent or not a string. */
function bodyField(req: FaceRequest, name: string): string | undefined {
  const b = req.body;
  if (typeof b !== "object" || b === null) return undefined;
  const v = (b as Record<string, unknown>)[name];
  return typeof v === "string" ? v : undefined;
}

/** The token of `Authorization: token X` (personal tokens) or `Bearer X` (app and OAuth tokens). */
function tokenOf(headers: IncomingHttpHeaders): string | undefined {
  const m = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(headers.authorization ?? "");
  return m?.[1];
}

/** GitHub as the fake forge serves it. */
export function githubFace(): ForgeFace {
  return {
    kind: "github",
    basePath: "/api/v3",
    routes,
    tokenOf,
    unauthorized: () => error(401, "Bad credentials"),
    notFound,
    rateLimited: () => ({
      ...error(403, "API rate limit exceeded for user ID 1.", "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"),
      headers: {
        "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000", "x-ratelimit-resource": "core",
        "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 1),
      },
    }),
    conformance: conformanceFor("github"),
  };
}
