/**
 * The shapes the UI reads from the agent's API v1: the types inferred from the API's own zod
 * schemas (`src/agent/http/schemas.ts`, imported as types only, so no zod reaches the bundle),
 * plus the few the UI narrows or names for itself.
 */
import type {
  AuditEvent, AuditPage, DriftRow, Environment, Gate, Me as ApiMe, ObjectHealth, RollbackAccepted, Stack, StackDetail, StackDiff,
  SyncAccepted, SyncRow, TokenInfo,
} from "../../src/agent/http/schemas.ts";

export type { AuditEvent, AuditPage, DriftRow, Environment, Gate, ObjectHealth, Stack, StackDetail, StackDiff, SyncAccepted, SyncRow, TokenInfo };

/** `GET /me`: who the browser acts as; `oidc` says whether the agent offers OIDC login. */
export type Me = ApiMe;

/** A field changed outside gitward. */
export type DriftField = DriftRow["fields"][number];

/** One entry of the live diff. */
export type DiffEntry = StackDiff["entries"][number];

/** An object's identity as the API names it. */
export type ApiRef = DriftRow["ref"] & { readonly provider?: string };

/** A page of a list endpoint. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | null;
}

/** The audit chain's verification. */
export type AuditVerification = AuditPage["verification"];

/** `POST /tokens`: the new token, shown once. */
export interface CreatedToken extends TokenInfo {
  readonly token: string;
}

/** `POST /rollback`. */
export type RollbackDone = RollbackAccepted;

/** `GET /status` (the part the UI reads: the repository, for commit links, and the head). */
export interface AgentStatusLite {
  readonly repo: string;
  readonly branch: string;
  readonly head?: { readonly sha: string; readonly subject: string; readonly author: string; readonly seenAt: string };
}
