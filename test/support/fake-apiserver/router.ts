import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestInfo } from "./auth.ts";
import type { User } from "./http.ts";

/** What a route handler gets: the request, its parsed URL and info, the authenticated user. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly user: User;
  readonly info: RequestInfo;
  /** The capture groups of the route's pattern. */
  readonly params: readonly string[];
}

/** One entry of the fake's route table: a method, a path pattern and what to answer. */
export interface Route {
  readonly method: string;
  /** Matched against the whole path, e.g. `^/apis/([^/]+)/([^/]+)$`. */
  readonly path: RegExp;
  handle(ctx: RouteContext): void | Promise<void>;
}

/** Finds the first route for a method and path, with its captures. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  pathname: string,
): { route: Route; params: string[] } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const m = route.path.exec(pathname);
    if (m !== null) return { route, params: m.slice(1).map((p) => decodeURIComponent(p ?? "")) };
  }
  return undefined;
}
