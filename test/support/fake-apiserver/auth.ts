import type { User } from "./http.ts";
import { anonymousUser } from "./http.ts";

/** What a request asks for, split the way the API server's RequestInfoFactory does. */
export type RequestInfo =
  | { readonly isResource: false; readonly verb: string; readonly path: string }
  | {
      readonly isResource: true;
      readonly verb: string;
      readonly group: string;
      readonly version: string;
      readonly namespace: string;
      readonly resource: string;
      readonly name: string;
      readonly subresource: string;
    };

/** The outcome of authentication: a user, or "invalid" for credentials the server refuses (401). */
export type AuthResult = User | "invalid";

/** Maps the Authorization header to a user; a missing header is system:anonymous. */
export function authenticate(header: string | undefined, tokens: ReadonlyMap<string, User>): AuthResult {
  if (header === undefined || header === "") return anonymousUser;
  const match = /^Bearer (.+)$/.exec(header);
  const user = match?.[1] === undefined ? undefined : tokens.get(match[1]);
  return user ?? "invalid";
}

// Paths the system:public-info-viewer role opens to everyone, anonymous included.
const publicPaths = new Set(["/version", "/version/", "/healthz", "/livez", "/readyz"]);
// Prefixes the system:discovery role opens to every authenticated user.
const discoveryPrefixes = ["/api", "/apis", "/openapi", "/version"];

/** True when RBAC as bootstrapped by the API server lets `user` make this request. */
export function isAllowed(user: User, info: RequestInfo): boolean {
  if (user.admin) return true;
  if (info.isResource || info.verb !== "get") return false;
  if (publicPaths.has(info.path)) return true;
  if (user === anonymousUser) return false;
  return discoveryPrefixes.some((p) => info.path === p || info.path.startsWith(`${p}/`));
}

/** Parses method and URL into a {@link RequestInfo}; discovery paths are non-resource requests. */
export function requestInfo(method: string, url: URL): RequestInfo {
  const parts = url.pathname.split("/").filter((p) => p !== "");
  const head = parts[0];
  const minParts = head === "api" ? 3 : head === "apis" ? 4 : Infinity;
  if (parts.length < minParts) return { isResource: false, verb: method.toLowerCase(), path: url.pathname };
  const [group, version] = head === "api" ? ["", parts[1] ?? ""] : [parts[1] ?? "", parts[2] ?? ""];
  let rest = parts.slice(head === "api" ? 2 : 3);
  let namespace = "";
  // As in the API server: /namespaces/x alone is the Namespace x, "in the namespace x".
  if (rest[0] === "namespaces" && rest.length > 1) {
    namespace = rest[1] ?? "";
    // namespaces/x/status and namespaces/x/finalize are subresources of the Namespace x.
    if (rest.length > 2 && rest[2] !== "status" && rest[2] !== "finalize") rest = rest.slice(2);
  }
  const [resource = "", name = "", subresource = ""] = rest;
  return { isResource: true, verb: resourceVerb(method, name, url), group, version, namespace, resource, name, subresource };
}

function resourceVerb(method: string, name: string, url: URL): string {
  switch (method) {
    case "GET":
    case "HEAD":
      if (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1") return "watch";
      return name === "" ? "list" : "get";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return name === "" ? "deletecollection" : "delete";
    default:
      return method.toLowerCase();
  }
}

/** The Forbidden `Status` fields the API server answers for a request RBAC denies. */
export function forbidden(user: User, info: RequestInfo): { code: 403; reason: "Forbidden"; message: string; details: Record<string, unknown> } {
  if (!info.isResource) {
    return {
      code: 403,
      reason: "Forbidden",
      message: `forbidden: User "${user.name}" cannot ${info.verb} path "${info.path}"`,
      details: {},
    };
  }
  const resource = info.subresource === "" ? info.resource : `${info.resource}/${info.subresource}`;
  const subject = info.name === "" ? info.resource : `${info.resource} "${info.name}"`;
  const scope = info.namespace === "" ? "at the cluster scope" : `in the namespace "${info.namespace}"`;
  return {
    code: 403,
    reason: "Forbidden",
    message: `${subject} is forbidden: User "${user.name}" cannot ${info.verb} resource "${resource}" in API group "${info.group}" ${scope}`,
    details: {
      ...(info.name === "" ? {} : { name: info.name }),
      ...(info.group === "" ? {} : { group: info.group }),
      kind: info.resource,
    },
  };
}
