import type { DatabaseSync } from "node:sqlite";
import { timingSafeEqual } from "node:crypto";
import type { Now } from "../prepare.ts";
import { compact, isoTime } from "../prepare.ts";
import { invalidCall, stateError } from "../store-error.ts";
import type { NewToken, TokenInfo } from "../tokens.ts";
import { isTokenName, isTokenRole, newTokenId, TokenError, touchIntervalMs } from "../tokens.ts";
import type { Row } from "./rows.ts";
import { sqliteCode } from "./sqlite-errors.ts";
import { immediate } from "./transaction.ts";

/**
 * The SQLite side of API tokens (the `tokens` table, schema v4). Functions over a database
 * rather than methods, so the store class stays one file of plumbing. Nothing here returns a
 * token's hash: rows are decoded into {@link TokenInfo}, which has none.
 */

const sqliteConstraintUnique = 2067;
const hexSha256 = /^[0-9a-f]{64}$/;

/** True for a well-formed token hash (64 lower-case hex digits); no other is looked up. */
export function isTokenHash(hash: string): boolean {
  return hexSha256.test(hash);
}

/** A token ready to insert, in either store: validated, times normalised. Throws {@link TokenError} `invalid` for a bad field. */
export function validateNewToken(token: NewToken, now: Now): { createdAt: string; expiresAt: string | null } {
  if (!isTokenName(token.name)) throw new TokenError("invalid", `token name "${token.name}" is not 1–64 letters, digits, . _ - @ : starting with a letter or digit`);
  if (!isTokenRole(token.role)) throw new TokenError("invalid", `token role "${String(token.role)}" is not viewer, operator or admin`);
  if (token.environments.length === 0 || token.environments.some((e) => e.trim() === "")) {
    throw new TokenError("invalid", "a token needs at least one environment (\"*\" for all), none empty");
  }
  if (!hexSha256.test(token.hash)) throw invalidCall("a token hash must be 64 lower-case hex characters (SHA-256)");
  return { createdAt: isoTime(token.createdAt, now, "createdAt"), expiresAt: token.expiresAt === undefined ? null : isoTime(token.expiresAt, now, "expiresAt") };
}

/**
 * The token of a row the hash index found, in either store: the hash compared again in constant
 * time (so no timing of this code depends on its bytes), and undefined once expired.
 */
export function acceptTokenRow(location: string, row: Row, hash: string, now: Now): TokenInfo | undefined {
  const stored = Buffer.from(String(row["hash"]), "utf8");
  if (stored.length !== hash.length || !timingSafeEqual(stored, Buffer.from(hash, "utf8"))) return undefined;
  const info = tokenFromRow(location, row);
  if (info.expiresAt !== undefined && Date.parse(info.expiresAt) <= now().getTime()) return undefined;
  return info;
}

/** Inserts a token; a name held by an unrevoked token, or a malformed field, is refused. */
export function insertToken(db: DatabaseSync, location: string, token: NewToken, now: Now): TokenInfo {
  const { createdAt, expiresAt } = validateNewToken(token, now);
  try {
    const row = immediate(db, () => db.prepare(`INSERT INTO tokens (id, name, role, environments, hash, created_at, expires_at, created_by)
      VALUES (:id, :name, :role, :environments, :hash, :createdAt, :expiresAt, :createdBy) RETURNING *`).get({
      id: newTokenId(), name: token.name, role: token.role, environments: JSON.stringify([...new Set(token.environments)]),
      hash: token.hash, createdAt, expiresAt, createdBy: token.createdBy,
    }));
    if (row === undefined) throw new Error("INSERT … RETURNING returned no row");
    return tokenFromRow(location, row);
  } catch (e: unknown) {
    if (sqliteCode(e) !== sqliteConstraintUnique) throw e;
    const taken = db.prepare("SELECT 1 AS x FROM tokens WHERE name = ? AND revoked_at IS NULL").get(token.name) !== undefined;
    if (taken) throw new TokenError("name-taken", `a token named "${token.name}" exists already`, "revoke it first, or choose another name");
    throw invalidCall("a token with this hash exists already");
  }
}

/** Every token, revoked and expired ones included, oldest first. */
export function selectTokens(db: DatabaseSync, location: string): TokenInfo[] {
  return db.prepare("SELECT * FROM tokens ORDER BY created_at, id").all().map((r) => tokenFromRow(location, r));
}

/**
 * Revokes a token named by id, or by name among unrevoked tokens. Revoking a revoked token (by
 * id) returns it unchanged, so a retried revocation is not an error.
 */
export function revokeTokenRow(db: DatabaseSync, location: string, idOrName: string, now: Now): TokenInfo {
  return immediate(db, () => {
    const found = db.prepare("SELECT * FROM tokens WHERE id = :key OR (name = :key AND revoked_at IS NULL) ORDER BY revoked_at IS NULL DESC LIMIT 1").get({ key: idOrName });
    if (found === undefined) throw new TokenError("not-found", `no token with id or name "${idOrName}"`, "gitward token list shows the tokens");
    if (found["revoked_at"] !== null) return tokenFromRow(location, found);
    const row = db.prepare("UPDATE tokens SET revoked_at = :at WHERE id = :id RETURNING *").get({ id: found["id"] ?? null, at: now().toISOString() });
    if (row === undefined) throw new Error("UPDATE … RETURNING returned no row");
    return tokenFromRow(location, row);
  });
}

/** The unrevoked, unexpired token with this hash, or undefined. */
export function selectTokenByHash(db: DatabaseSync, location: string, hash: string, now: Now): TokenInfo | undefined {
  if (!hexSha256.test(hash)) return undefined;
  const row = db.prepare("SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL").get(hash);
  return row === undefined ? undefined : acceptTokenRow(location, row, hash, now);
}

/** Sets a token's last use to `at`, unless it was set less than {@link touchIntervalMs} before. */
export function touchTokenRow(db: DatabaseSync, id: string, at: string): void {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) throw invalidCall(`touchToken: "${at}" is not an ISO 8601 time`);
  const before = new Date(ms - touchIntervalMs).toISOString();
  db.prepare("UPDATE tokens SET last_used_at = :at WHERE id = :id AND (last_used_at IS NULL OR last_used_at <= :before)")
    .run({ id, at: new Date(ms).toISOString(), before });
}

/** Decodes a `tokens` row, leaving out its hash (the PostgreSQL store reads the same columns). */
export function tokenFromRow(location: string, row: Row): TokenInfo {
  const bad = (col: string): Error => stateError(location, `token ${String(row["id"])}: column ${col} is not valid`, { hint: "the file was changed outside gitward" });
  const str = (col: string): string => {
    const v = row[col];
    if (typeof v !== "string") throw bad(col);
    return v;
  };
  const opt = (col: string): string | undefined => (row[col] === null ? undefined : str(col));
  const role = str("role");
  if (!isTokenRole(role)) throw bad("role");
  let environments: unknown;
  try {
    environments = JSON.parse(str("environments"));
  } catch {
    throw bad("environments");
  }
  if (!Array.isArray(environments) || !environments.every((e) => typeof e === "string")) throw bad("environments");
  return compact<TokenInfo>({
    id: str("id"), name: str("name"), role, environments, createdAt: str("created_at"),
    expiresAt: opt("expires_at"), lastUsedAt: opt("last_used_at"), revokedAt: opt("revoked_at"), createdBy: str("created_by"),
  });
}
