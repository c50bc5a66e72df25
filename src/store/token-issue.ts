import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { Store } from "./store.ts";
import { AuditKind } from "./store.ts";
import type { TokenInfo, TokenRole } from "./tokens.ts";
import { generateApiToken, hashApiToken, newTokenId, parseTokenLifetime } from "./tokens.ts";

/**
 * Creating and revoking API tokens as one step with their audit event, shared by the CLI
 * (`gitward token`), the quick start and the API, so each records the same thing.
 */

/** What {@link issueToken} needs. */
export interface TokenRequest {
  /** Default `<role>-<8 hex>`. */
  readonly name?: string | undefined;
  readonly role: TokenRole;
  /** Default `["*"]`. */
  readonly environments?: readonly string[] | undefined;
  /** A lifetime such as `30d` (see `parseTokenLifetime`); default none. */
  readonly expiresIn?: string | undefined;
  /** Who asks, for `createdBy` and the audit event's actor. */
  readonly actor: string;
  /** Where the request came from (`cli`, `api`, `quickstart`), for the audit event's details. */
  readonly via: string;
}

/** A new token, shown once, with what the store keeps of it. */
export interface IssuedToken {
  readonly token: string;
  readonly info: TokenInfo;
}

/**
 * Creates a token, stores its hash and appends a `token-created` audit event naming it (never
 * holding it). A bad lifetime is a configuration error naming the text.
 */
export async function issueToken(store: Store, request: TokenRequest, now: () => Date = () => new Date()): Promise<IssuedToken> {
  let expiresAt: string | undefined;
  if (request.expiresIn !== undefined) {
    const ms = parseTokenLifetime(request.expiresIn);
    if (ms === undefined) {
      throw new GitwardError(ErrorCode.Config, `invalid token lifetime "${request.expiresIn}"`, { hint: "use e.g. 30d, 12h, 2w or 90m (at most 10 years)" });
    }
    expiresAt = new Date(now().getTime() + ms).toISOString();
  }
  const token = generateApiToken();
  const info = await store.createToken({
    name: request.name ?? `${request.role}-${newTokenId().slice(0, 8)}`,
    role: request.role,
    environments: request.environments === undefined || request.environments.length === 0 ? ["*"] : request.environments,
    hash: hashApiToken(token),
    createdBy: request.actor,
    ...(expiresAt === undefined ? {} : { expiresAt }),
  });
  await store.appendAudit({ kind: AuditKind.TokenCreated, actor: request.actor, details: { ...auditDetails(info), via: request.via } });
  return { token, info };
}

/** Revokes a token by id or name and appends a `token-revoked` audit event (also when it was revoked already). */
export async function revokeIssuedToken(store: Store, idOrName: string, actor: string, via: string): Promise<TokenInfo> {
  const info = await store.revokeToken(idOrName);
  await store.appendAudit({ kind: AuditKind.TokenRevoked, actor, details: { ...auditDetails(info), via } });
  return info;
}

function auditDetails(info: TokenInfo): Record<string, unknown> {
  return { id: info.id, name: info.name, role: info.role, environments: [...info.environments], ...(info.expiresAt === undefined ? {} : { expiresAt: info.expiresAt }) };
}
