/**
 * Hash routes (`#/stacks/prod/web`), so the agent serves one index.html and links survive a
 * reload without server-side routing. Pure: parse and format, nothing else.
 */

/** Where the UI is. */
export type Route =
  | { readonly page: "overview"; readonly environment?: string; readonly state?: string; readonly q?: string }
  | { readonly page: "stack"; readonly environment: string; readonly stack: string }
  | { readonly page: "audit" }
  | { readonly page: "tokens" }
  | { readonly page: "login" }
  | { readonly page: "not-found"; readonly path: string };

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The route of a location hash (`#/…`); an empty hash is the overview. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "");
  const [path = "", query = ""] = raw.split("?", 2);
  const parts = path.split("/").filter((p) => p !== "").map(decode);
  if (parts.some((p) => p === undefined)) return { page: "not-found", path };
  const [first, second, third] = parts as string[];
  const params = new URLSearchParams(query);
  if (first === undefined || first === "overview") {
    const environment = params.get("env") ?? "";
    const state = params.get("state") ?? "";
    const q = params.get("q") ?? "";
    return { page: "overview", ...(environment === "" ? {} : { environment }), ...(state === "" ? {} : { state }), ...(q === "" ? {} : { q }) };
  }
  if (first === "stacks" && second !== undefined && third !== undefined && parts.length === 3) return { page: "stack", environment: second, stack: third };
  if (parts.length === 1 && (first === "audit" || first === "tokens" || first === "login")) return { page: first };
  return { page: "not-found", path };
}

/** The hash of a route. */
export function routeHash(r: Route): string {
  switch (r.page) {
    case "overview": {
      const p = new URLSearchParams();
      if (r.environment !== undefined) p.set("env", r.environment);
      if (r.state !== undefined) p.set("state", r.state);
      if (r.q !== undefined) p.set("q", r.q);
      const q = p.toString();
      return `#/${q === "" ? "" : `?${q}`}`;
    }
    case "stack":
      return `#/stacks/${encodeURIComponent(r.environment)}/${encodeURIComponent(r.stack)}`;
    case "not-found":
      return `#/${r.path}`;
    default:
      return `#/${r.page}`;
  }
}
