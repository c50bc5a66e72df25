/**
 * Who a request acts as, from what it carries: a browser session (checked first, through the
 * hook the session code supplies), else `Authorization: Bearer <token>` (an API token of the
 * state store, found by its hash, or the agent configuration's legacy `api.token`), else
 * anonymous when the configuration allows anonymous reads. No framework import: a request is
 * anything with headers.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Store } from "../../store/store.ts";
import { hashApiToken, isApiTokenForm } from "../../store/tokens.ts";
import { anonymousPrincipal, type Principal } from "./access.ts";

/** What {@link resolvePrincipal} reads of a request. */
export interface PrincipalRequest {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** What {@link resolvePrincipal} needs besides the request. */
export interface PrincipalDeps<R extends PrincipalRequest = PrincipalRequest> {
  /** Where API tokens are found (by hash) and their last use recorded. */
  readonly store: Pick<Store, "findToken" | "touchToken">;
  /** The legacy single token of the agent configuration (`api.token`): admin on every environment. */
  readonly legacyToken?: string | undefined;
  /** Who the legacy token stands for (`api.tokenName`); default `api-token`. */
  readonly legacyTokenName?: string | undefined;
  /** `api.anonymousRead`: a request with no credentials reads as viewer on every environment. */
  readonly anonymousRead: boolean;
  /** The browser session's principal, if the request has a live one; checked before any header. */
  readonly session?: ((req: R) => Principal | undefined | Promise<Principal | undefined>) | undefined;
  /** The clock for `lastUsedAt`; default the system clock. */
  readonly now?: (() => Date) | undefined;
  /** Told when recording a token's use fails; the request goes on (the use is not worth a refusal). */
  readonly onTouchError?: ((error: unknown) => void) | undefined;
}

/** The name the legacy token stands for when `api.tokenName` is not set. */
export const defaultLegacyTokenName = "api-token";

// RFC 6750's token68 characters; the scheme name is case-insensitive (RFC 9110 §11.1).
const bearer = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/**
 * The principal a request acts as, or undefined when it has none (the API answers 401): a
 * malformed, unknown, revoked or expired credential is never downgraded to anonymous, so a
 * client with a bad token learns it instead of silently reading less.
 */
export async function resolvePrincipal<R extends PrincipalRequest>(req: R, deps: PrincipalDeps<R>): Promise<Principal | undefined> {
  const fromSession = await deps.session?.(req);
  if (fromSession !== undefined) return fromSession;
  const header = req.headers["authorization"];
  if (header === undefined) return deps.anonymousRead ? anonymousPrincipal() : undefined;
  if (typeof header !== "string") return undefined;
  const token = bearer.exec(header)?.[1];
  if (token === undefined) return undefined;
  if (deps.legacyToken !== undefined && deps.legacyToken !== "" && sameSecret(token, deps.legacyToken)) {
    return { kind: "legacy-token", name: deps.legacyTokenName ?? defaultLegacyTokenName, grants: [{ role: "admin", environments: ["*"] }] };
  }
  if (!isApiTokenForm(token)) return undefined;
  const info = await deps.store.findToken(hashApiToken(token));
  if (info === undefined) return undefined;
  try {
    await deps.store.touchToken(info.id, (deps.now?.() ?? new Date()).toISOString());
  } catch (e: unknown) {
    deps.onTouchError?.(e);
  }
  return { kind: "token", name: info.name, grants: [{ role: info.role, environments: [...info.environments] }] };
}

/** A resolver bound to its dependencies, of the shape the API server takes. */
export function principalResolver<R extends PrincipalRequest>(deps: PrincipalDeps<R>): (req: R) => Promise<Principal | undefined> {
  return (req) => resolvePrincipal(req, deps);
}

// Hashing both sides first makes the comparison constant-time whatever the lengths.
function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}
