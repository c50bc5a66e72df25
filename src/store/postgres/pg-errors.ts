import { isGitwardError } from "../../core/errors.ts";
import { stateError, StoreUnavailableError } from "../store-error.ts";

/**
 * Classifying PostgreSQL failures from structured fields only: the SQLSTATE of a server error,
 * the errno code of a socket error. Never from message text.
 */

/** SQLSTATEs this module tells apart (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
export const SqlState = {
  UniqueViolation: "23505",
  ForeignKeyViolation: "23503",
  InsufficientPrivilege: "42501",
  InvalidPassword: "28P01",
  InvalidAuthorization: "28000",
  InvalidCatalogName: "3D000",
  SerializationFailure: "40001",
  DeadlockDetected: "40P01",
  AdminShutdown: "57P01",
  CrashShutdown: "57P02",
  CannotConnectNow: "57P03",
  TooManyConnections: "53300",
} as const;

const transientStates: ReadonlySet<string> = new Set([
  SqlState.SerializationFailure, SqlState.DeadlockDetected, SqlState.AdminShutdown, SqlState.CrashShutdown,
  SqlState.CannotConnectNow, SqlState.TooManyConnections,
]);
const transientErrnos: ReadonlySet<string> = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ECONNABORTED"]);

/** The SQLSTATE of a server error, or undefined for any other error. */
export function sqlState(e: unknown): string | undefined {
  if (!(e instanceof Error) || e.name === "GitwardError") return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith("E") ? code : undefined;
}

/**
 * Whether a failure may pass if the call is made again: a connection refused, reset or
 * terminated (PostgreSQL restarting, a network blip), a server shutting down or starting up, a
 * serialization failure or deadlock. pg reports a connection terminated mid-call as a plain
 * Error without a code: any error that is neither a server error (with a SQLSTATE), nor one of
 * gitward's, nor a programming error (TypeError, RangeError) is taken as connection-level.
 */
export function isTransient(e: unknown): boolean {
  if (!(e instanceof Error) || isGitwardError(e)) return false;
  if (e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError || e instanceof ReferenceError) return false;
  const state = sqlState(e);
  if (state !== undefined) return state.startsWith("08") || transientStates.has(state);
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") return transientErrnos.has(code);
  return true;
}

/**
 * Turns a failure of a PostgreSQL call into a GitwardError naming the database (host, port,
 * database, user: `location`) and saying what to do; GitwardErrors pass through.
 */
export function pgFailure(location: string, operation: string, e: unknown, retriedForMs?: number): Error {
  if (isGitwardError(e)) return e;
  const opts = { cause: e };
  const state = sqlState(e);
  switch (state) {
    case SqlState.InvalidPassword:
    case SqlState.InvalidAuthorization:
      return stateError(location, `${operation}: PostgreSQL refused the login`, { ...opts, hint: "check the user and its password (PGPASSWORD, ~/.pgpass or the URL) and pg_hba.conf" });
    case SqlState.InvalidCatalogName:
      return stateError(location, `${operation}: the database does not exist`, { ...opts, hint: "create it (CREATE DATABASE) and grant the store's role access" });
    case SqlState.InsufficientPrivilege:
      return stateError(location, `${operation}: permission denied`, { ...opts, hint: "grant the store's role what docs/state.md lists" });
    default:
      break;
  }
  if (retriedForMs !== undefined && isTransient(e)) {
    return new StoreUnavailableError(location, `${operation}: PostgreSQL was unreachable for ${Math.round(retriedForMs / 1000)} s`, {
      ...opts, hint: "check that the server is up and reachable from the agent",
    });
  }
  return stateError(location, `${operation} failed`, opts);
}
