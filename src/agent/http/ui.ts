/**
 * The web UI at `/`: the files `npm run build:ui` writes to `dist/ui/`, served with
 * `@fastify/static` (hashed assets cached for a year, `index.html` never cached), and
 * `index.html` for any other GET outside the API so the app's own routes survive a reload.
 * Without a built UI (a source checkout not built) `/` is the plain status page, saying how to
 * build the UI.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyReply, FastifyRequest } from "fastify";
import { indexPage } from "../index-page.ts";
import { readableEnvironments } from "./access.ts";
import type { ApiDeps, ApiModule } from "./deps.ts";
import { filteredStatus } from "./views.ts";

/**
 * Where the built UI may be, relative to this module: from `src/agent/http/` (running the
 * sources) it is the repository's `dist/ui/`; from `dist/agent/http/` (the npm package) it is
 * the sibling `dist/ui/`.
 */
export function uiCandidates(): string[] {
  return [new URL("../../../dist/ui/", import.meta.url), new URL("../../ui/", import.meta.url)].map((u) => fileURLToPath(u));
}

/** The first of `candidates` holding an `index.html`, or undefined when the UI is not built. */
export function findUiDirectory(candidates: readonly string[] = uiCandidates()): string | undefined {
  return candidates.find((dir) => existsSync(`${dir}/index.html`));
}

/**
 * The page's own policy: scripts, styles and API calls from this origin only. Vite's build has
 * no inline script, and React sets style attributes through the DOM, which CSP allows.
 */
export const uiContentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
  + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Paths that are never the app's: the API, login, webhooks and the agent's own endpoints. */
const notTheApp = /^\/(?:api|auth|hooks|metrics|healthz|readyz)(?:\/|$)/;

/** Whether a GET for `url` should get the app's `index.html` (a client route) rather than a 404. */
export function isClientRoute(url: string): boolean {
  const path = url.split("?", 1)[0] ?? "/";
  // A missing file (an old hashed asset, favicon.ico) is a 404, not the app.
  return !notTheApp.test(path) && !/\.[A-Za-z0-9]{1,8}$/.test(path);
}

function sendIndex(reply: FastifyReply): FastifyReply {
  return reply.header("cache-control", "no-cache").header("content-security-policy", uiContentSecurityPolicy).sendFile("index.html");
}

/**
 * The UI module serving the built UI from `directory` (default: the first of {@link uiCandidates}),
 * looked for when the server is built, or, when it holds no `index.html`, the status page at `/`.
 */
export function uiModule(o: { readonly directory?: string } = {}): ApiModule {
  return async (app, deps) => {
    const dir = findUiDirectory(o.directory === undefined ? uiCandidates() : [o.directory]);
    if (dir === undefined) {
      app.get("/", { config: { access: "public" }, schema: { hide: true } }, (req, reply) => statusPage(req, reply, deps));
      return;
    }
    await app.register(fastifyStatic, {
      root: dir,
      prefix: "/",
      // One route per built file, found once at start: unknown paths fall to the routes below.
      wildcard: false,
      index: false,
      cacheControl: false,
      schemaHide: true,
      setHeaders: (reply, path) => {
        const hashed = /\/assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/.test(path.replace(/\\/g, "/"));
        reply.header("cache-control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
        if (path.endsWith(".html")) reply.header("content-security-policy", uiContentSecurityPolicy);
      },
    });
    app.get("/", { config: { access: "public" }, schema: { hide: true } }, (_req, reply) => sendIndex(reply));
    app.get("/*", { config: { access: "public" }, schema: { hide: true } }, (req, reply) => (isClientRoute(req.url) ? sendIndex(reply) : reply.callNotFound()));
  };
}

/** The UI as `modules.ts` registers it (last: its `/*` takes only what no other route did). */
export const uiRoutes: ApiModule = uiModule();

/** The plain status page (what the principal may read) with how to build the UI; only the hint for those who may read nothing. */
async function statusPage(req: FastifyRequest, reply: FastifyReply, deps: ApiDeps): Promise<FastifyReply> {
  reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'");
  const principal = await deps.resolvePrincipal(req);
  const status = await deps.agent.status();
  const readable = principal === undefined ? [] : readableEnvironments(principal, status.environments.map((e) => e.name));
  if (principal === undefined || readable.length === 0) return reply.send(indexPage(undefined));
  return reply.send(indexPage(filteredStatus(status, new Set(readable))));
}
