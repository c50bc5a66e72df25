/**
 * The fake forge's HTTP server: one face (GitHub, GitLab or Gitea, see `github.ts`, `gitlab.ts`,
 * `gitea.ts`) on 127.0.0.1 and a free port, under the face's API base path (`/api/v3`,
 * `/api/v4`, `/api/v1`), so a client that ignores the configured base URL fails. It
 * authenticates the token as the face says, injects the state's faults, routes to the face's
 * handlers, checks every request and response against the forge's API description (the face's
 * `conformance`), and records each request in `state.requests`.
 */
import { createServer } from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FakeForgeState } from "./state.ts";

/** A request as a face's handler sees it. */
export interface FaceRequest {
  readonly method: string;
  /** Below the base path, without the query, still percent-encoded. */
  readonly path: string;
  /** The template's `{name}` segments, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** The authenticated user's login. */
  readonly user: string;
  readonly headers: IncomingHttpHeaders;
}

/** A handler's answer; `body` is sent as JSON unless undefined. */
export interface FaceResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One endpoint of a face. */
export interface Route {
  readonly method: string;
  /** The path template as the API description writes it, e.g. `/repos/{owner}/{repo}/pulls/{pull_number}`. */
  readonly path: string;
  handle(req: FaceRequest, state: FakeForgeState): FaceResponse;
}

/** Checks requests and responses against a forge's API description; each returns its problems, empty when it conforms. */
export interface Conformance {
  /** The operation's name for the log (`pulls/get`), or undefined when the description has no such operation. */
  operation(method: string, pathTemplate: string): string | undefined;
  request(method: string, pathTemplate: string, query: Readonly<Record<string, string>>, body: unknown): readonly string[];
  response(method: string, pathTemplate: string, status: number, body: unknown): readonly string[];
}

/** A forge as the fake serves it. */
export interface ForgeFace {
  readonly kind: "github" | "gitlab" | "gitea";
  /** The API base path the face is served under. */
  readonly basePath: string;
  readonly routes: readonly Route[];
  /** The token a request carries, in this forge's header(s); undefined when none. */
  tokenOf(headers: IncomingHttpHeaders): string | undefined;
  /** The forge's answer to a missing or unknown token. */
  unauthorized(): FaceResponse;
  /** The forge's answer to a path it has not. */
  notFound(): FaceResponse;
  /** The forge's answer when the caller is rate limited. */
  rateLimited(): FaceResponse;
  readonly conformance?: Conformance;
}

/** A running fake forge. */
export interface FakeForge {
  /** The API base URL to give gitward, e.g. `http://127.0.0.1:PORT/api/v3`. */
  readonly apiUrl: string;
  /** The server's origin, for web URLs. */
  readonly origin: string;
  readonly state: FakeForgeState;
  close(): Promise<void>;
}

/** Starts `face` over `state` on 127.0.0.1 and a free port. */
export async function serveFace(face: ForgeFace, state: FakeForgeState): Promise<FakeForge> {
  const server = createServer((req, res) => {
    void handle(face, state, req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: `fake forge failure: ${e instanceof Error ? e.message : String(e)}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    apiUrl: `${origin}${face.basePath}`,
    origin,
    state,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function handle(face: ForgeFace, state: FakeForgeState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (state.faults.down) {
    req.socket.destroy();
    return;
  }
  const url = new URL(req.url ?? "/", "http://fake");
  const method = (req.method ?? "GET").toUpperCase();
  const query = Object.fromEntries(url.searchParams.entries());
  const raw = Buffer.concat(chunks).toString("utf8");
  let body: unknown;
  try {
    body = raw === "" ? undefined : JSON.parse(raw);
  } catch {
    body = raw;
  }
  const token = face.tokenOf(req.headers);
  const send = (r: FaceResponse, operation: string | undefined, template: string | undefined, problems: string[]): void => {
    if (template !== undefined && face.conformance !== undefined && r.status < 500) {
      problems.push(...face.conformance.response(method, template, r.status, r.body).map((p) => `response: ${p}`));
    }
    state.requests.push({ method, path: url.pathname.slice(face.basePath.length), query, body, token, status: r.status, operation, problems });
    const headers: Record<string, string> = { ...(r.body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }), ...r.headers };
    res.writeHead(r.status, headers);
    res.end(r.body === undefined ? undefined : JSON.stringify(r.body));
  };
  if (!url.pathname.startsWith(`${face.basePath}/`)) {
    send(face.notFound(), undefined, undefined, [`not under the API base path ${face.basePath}`]);
    return;
  }
  const path = url.pathname.slice(face.basePath.length);
  const match = route(face.routes, method, path);
  const template = match?.route.path;
  const operation = template === undefined ? undefined : face.conformance?.operation(method, template);
  const problems: string[] = [];
  if (template !== undefined && face.conformance !== undefined) {
    if (operation === undefined) problems.push(`${method} ${template} is not in the ${face.kind} API description`);
    problems.push(...face.conformance.request(method, template, query, body).map((p) => `request: ${p}`));
  }
  if (state.faults.serverErrorNext > 0) {
    state.faults.serverErrorNext--;
    send({ status: 502, body: { message: "Bad Gateway" } }, operation, template, problems);
    return;
  }
  const user = token === undefined ? undefined : state.tokens.get(token);
  if (user === undefined) {
    send(face.unauthorized(), operation, template, problems);
    return;
  }
  if (state.faults.rateLimitNext > 0) {
    state.faults.rateLimitNext--;
    send(face.rateLimited(), operation, template, problems);
    return;
  }
  if (match === undefined) {
    send(face.notFound(), undefined, undefined, [`no route for ${method} ${path}`]);
    return;
  }
  const answer = match.route.handle({ method, path, params: match.params, query, body, user, headers: req.headers }, state);
  send(answer, operation, template, problems);
}

/** The route whose method and template match, with its parameters decoded. */
function route(routes: readonly Route[], method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  const segments = path.split("/");
  for (const r of routes) {
    if (r.method !== method) continue;
    const parts = r.path.split("/");
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const part = parts[i] ?? "";
      const seg = segments[i] ?? "";
      if (part.startsWith("{") && part.endsWith("}")) {
        if (seg === "") ok = false;
        else params[part.slice(1, -1)] = decodeURIComponent(seg);
      } else if (part !== seg) ok = false;
    }
    if (ok) return { route: r, params };
  }
  return undefined;
}
