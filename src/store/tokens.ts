import { createHash, randomBytes } from "node:crypto";
import { ErrorCode, GitwardError } from "../core/errors.ts";

/**
 * API tokens as the state store keeps them: only the SHA-256 of a token is stored, so a copy of
 * the database grants nothing. The token itself exists once, when it is created, and is shown
 * to whoever created it.
 */

/** The prefix of every gitward API token, so that one is recognisable in a log or a diff. */
export const apiTokenPrefix = "gw_";

/**
 * The roles a token can carry, weakest first. The same list as the access model's `ROLES`
 * (`src/agent/http/access.ts`, which a test keeps equal): the store knows only core types.
 */
export const tokenRoles = ["viewer", "operator", "admin"] as const;

/** A role a token carries: `viewer`, `operator` or `admin`. */
export type TokenRole = (typeof tokenRoles)[number];

/** Whether a string is a {@link TokenRole}. */
export function isTokenRole(value: string): value is TokenRole {
  return (tokenRoles as readonly string[]).includes(value);
}

/** What a token is, without the token or its hash: what lists, the CLI and the API show. */
export interface TokenInfo {
  /** Opaque and stable; the API's `DELETE /tokens/{id}` names it. */
  readonly id: string;
  /** Unique among unrevoked tokens; the actor of what the token does. */
  readonly name: string;
  readonly role: TokenRole;
  /** Environment names, or `["*"]` for every environment. */
  readonly environments: readonly string[];
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601; absent when it never expires. */
  readonly expiresAt?: string;
  /** ISO 8601, updated at most once a minute. */
  readonly lastUsedAt?: string;
  /** ISO 8601; set once, by a revocation. */
  readonly revokedAt?: string;
  /** Who created it (a user, a token name, an OIDC subject). */
  readonly createdBy: string;
}

/** What {@link Store.createToken} needs: a token's metadata and the hash of the token (see {@link hashApiToken}). */
export interface NewToken {
  readonly name: string;
  readonly role: TokenRole;
  /** Non-empty; `["*"]` for every environment. */
  readonly environments: readonly string[];
  /** Lower-case hex SHA-256 of the token, from {@link hashApiToken}. */
  readonly hash: string;
  readonly createdBy: string;
  /** ISO 8601; default now. */
  readonly createdAt?: string;
  /** ISO 8601; absent for a token that never expires. */
  readonly expiresAt?: string;
}

/** How long a token's `lastUsedAt` is left alone after an update, so a busy client does not write on every request. */
export const touchIntervalMs = 60_000;

/** A new API token: `gw_` and 32 random bytes in base64url (43 characters). */
export function generateApiToken(): string {
  return `${apiTokenPrefix}${randomBytes(32).toString("base64url")}`;
}

/** The hash the store keeps of a token: lower-case hex SHA-256 of its UTF-8 bytes. */
export function hashApiToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A new token id: 16 hex characters, random, so ids reveal nothing about order or count. */
export function newTokenId(): string {
  return randomBytes(8).toString("hex");
}

/** Whether a string has the form of a gitward API token (it may still be unknown or revoked). */
export function isApiTokenForm(text: string): boolean {
  return /^gw_[A-Za-z0-9_-]{43}$/.test(text);
}

/** Whether a token name is acceptable: 1–64 letters, digits, `.`, `_`, `-`, `@`, `:`, starting with a letter or digit. */
export function isTokenName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$/.test(name);
}

const lifetimeUnits: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses a token lifetime (`30d`, `12h`, `2w`, `90m`, or combinations like `1d12h`) into
 * milliseconds; undefined when the text is not one or is zero. At most ten years.
 */
export function parseTokenLifetime(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d{1,6}[mhdw])+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const m of trimmed.matchAll(/(\d+)([mhdw])/g)) total += Number(m[1]) * (lifetimeUnits[m[2] ?? ""] ?? 0);
  return total > 0 && total <= 3650 * 86_400_000 ? total : undefined;
}

/** Why a token operation was refused: the API maps these to 404, 409 and 400. */
export type TokenErrorReason = "not-found" | "name-taken" | "invalid";

/**
 * A token operation the store refuses because of what it was asked (an unknown token, a name in
 * use, a malformed field), not because the database failed. Messages never hold a token or hash.
 */
export class TokenError extends GitwardError {
  readonly reason: TokenErrorReason;

  constructor(reason: TokenErrorReason, detail: string, hint?: string) {
    super(ErrorCode.Config, detail, hint === undefined ? {} : { hint });
    this.name = "TokenError";
    this.reason = reason;
  }
}
