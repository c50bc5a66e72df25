/**
 * The agent's HTTP API v1 as zod schemas: every request (params, query, body) and every response.
 * The same schemas validate requests, serialize responses and generate `/api/openapi.json`;
 * the web UI imports the inferred types (`import type`). Field meanings follow
 * `src/store/store.ts` and `src/agent/status.ts`, whose shapes these mirror.
 */
import { z } from "zod";

// ---------------------------------------------------------------- building blocks

/** Environment and stack names, as gitward.yaml allows them (a DNS label). */
export const NameSchema = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "a lowercase DNS label (a-z, 0-9, '-'; at most 63)");

/** A full commit SHA (SHA-1 or SHA-256). */
export const ShaSchema = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "a full commit SHA");

/** An ISO 8601 time. Responses carry what the store recorded, so they are not re-validated strictly. */
export const TimeSchema = z.string().describe("ISO 8601 time");

/** An ISO 8601 time given by a client, with a zone (`Z` or an offset). */
export const TimeInputSchema = z.iso.datetime({ offset: true, message: "an ISO 8601 time with a zone, e.g. 2026-01-02T03:04:05Z" });

/** Text a client sends that ends in logs and the audit log: no control characters or line separators. */
export const SafeTextSchema = z.string().regex(/^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$/, "no control characters or line separators");

/** Page size of a list: default 50, at most 200. */
export const LimitSchema = z.coerce.number().int("a whole number").min(1).max(200).default(50);

/** An opaque cursor, as a list answered it in `next`. */
export const CursorSchema = z.string().min(1).max(200).regex(/^[A-Za-z0-9_-]+$/, "a cursor as returned in next");

/** The one error shape of the API. */
export const ErrorCodeSchema = z.enum(["bad_request", "unauthenticated", "forbidden", "not_found", "conflict", "payload_too_large", "too_many_requests", "internal", "unavailable"]);
/** One of {@link ErrorCodeSchema}. */
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;
/** `{error: {code, message}}`: every non-2xx answer. */
export const ErrorBodySchema = z.object({ error: z.object({ code: ErrorCodeSchema, message: z.string() }) });
/** See {@link ErrorBodySchema}. */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** An object's identity: provider-neutral group, kind, namespace and name. */
export const ObjRefSchema = z.object({ group: z.string(), kind: z.string(), namespace: z.string().optional(), name: z.string() });
/** A field changed outside Git, and by whom when known. */
export const DriftFieldSchema = z.object({ field: z.string(), manager: z.string().optional(), time: z.string().optional() });
/** What a sync did to an object (`Action` of the providers). */
export const ObjectActionSchema = z.enum(["failed", "created", "configured", "deleted", "unchanged", "skipped"]);

// ---------------------------------------------------------------- access

/** A role; see `access.ts`. */
export const RoleSchema = z.enum(["viewer", "operator", "admin"]);
/** A role on environments (`["*"]`: all). */
export const GrantSchema = z.object({ role: RoleSchema, environments: z.array(z.string()) });
/** GET /me. */
export const MeSchema = z.object({
  name: z.string(),
  kind: z.enum(["token", "legacy-token", "oidc", "anonymous"]),
  grants: z.array(GrantSchema),
  csrfToken: z.string().optional().describe("Send it as x-csrf-token on writes authenticated by the session cookie."),
  oidc: z.boolean().describe("Whether the agent offers OIDC login at /auth/login."),
});
/** GET /auth/providers: how a browser may sign in (public). */
export const ProvidersSchema = z.object({ oidc: z.boolean(), token: z.boolean() });
/** See {@link MeSchema}. */
export type Me = z.infer<typeof MeSchema>;

// ---------------------------------------------------------------- environments and stacks

/** Where an environment stands at the gate. */
export const GateSchema = z.object({
  state: z.enum(["open", "held", "refused", "overridden"]),
  reasons: z.array(z.string()),
  approvals: z.array(z.object({ ref: z.string(), url: z.string(), approvers: z.array(z.string()) })).optional(),
});
/** See {@link GateSchema}. */
export type Gate = z.infer<typeof GateSchema>;

/** Health of a sync's objects as followed after it. */
export const SyncHealthSchema = z.object({ state: z.enum(["progressing", "healthy", "degraded", "timed-out"]), at: TimeSchema, message: z.string().optional() });

/** How a sync ended (`running` until it does). */
export const OutcomeSchema = z.enum(["running", "succeeded", "failed", "skipped", "cancelled", "interrupted"]);
/** What started a sync. */
export const TriggerKindSchema = z.enum(["poll", "webhook", "manual", "drift", "startup", "push", "rollback"]);

/** One stack: the agent's `StackStatus` plus its environment's gate. */
export const StackSchema = z.object({
  environment: z.string(),
  stack: z.string(),
  target: z.string(),
  desired: z.string().optional().describe("The revision Git wants (the branch head)."),
  current: z.string().optional().describe("The revision last synced successfully."),
  inSync: z.boolean(),
  health: SyncHealthSchema.optional(),
  lastSync: z.object({ id: z.string(), outcome: OutcomeSchema, at: TimeSchema, error: z.string().optional(), revision: z.string() }).optional(),
  drift: z.number().int().describe("Objects differing from Git at the last drift check."),
  driftCheckedAt: TimeSchema.optional(),
  queued: z.boolean(),
  owner: z.object({
    agent: z.string(), expiresAt: TimeSchema, valid: z.boolean().describe("The lease has not expired."), here: z.boolean().describe("The answering agent holds it."),
  }).optional().describe("Several agents on one PostgreSQL state: the agent holding the stack's lease."),
  gate: GateSchema,
});
/** See {@link StackSchema}. */
export type Stack = z.infer<typeof StackSchema>;

/** One environment with counts of its stacks. */
export const EnvironmentSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  auto: z.boolean(),
  prune: z.boolean(),
  selfHeal: z.boolean(),
  stacks: z.number().int(),
  inSync: z.number().int(),
  failed: z.number().int(),
  drifted: z.number().int(),
  gate: GateSchema,
});
/** See {@link EnvironmentSchema}. */
export type Environment = z.infer<typeof EnvironmentSchema>;

/** GET /environments. */
export const EnvironmentListSchema = z.object({ items: z.array(EnvironmentSchema) });
/** GET /stacks query. */
export const StackQuerySchema = z.strictObject({ environment: NameSchema.optional(), q: z.string().max(200).optional().describe("Substring of the stack or target name.") });
/** GET /stacks. */
export const StackListSchema = z.object({ items: z.array(StackSchema) });

/** Health of one object of a stack. */
export const ObjectHealthSchema = z.object({
  ref: ObjRefSchema, apiVersion: z.string(), health: z.enum(["healthy", "progressing", "degraded", "missing", "unknown"]), message: z.string().optional(),
});
/** See {@link ObjectHealthSchema}. */
export type ObjectHealth = z.infer<typeof ObjectHealthSchema>;
/** Path of one stack. */
export const StackParamsSchema = z.strictObject({ env: NameSchema, stack: NameSchema });
/** GET /environments/{env}/stacks/{stack}. */
export const StackDetailSchema = StackSchema.extend({ objects: z.array(ObjectHealthSchema) });
/** See {@link StackDetailSchema}. */
export type StackDetail = z.infer<typeof StackDetailSchema>;

/** GET /environments/{env}/stacks/{stack}/diff. */
export const StackDiffSchema = z.object({
  revision: z.string(),
  entries: z.array(z.object({
    ref: ObjRefSchema.extend({ provider: z.string() }),
    apiVersion: z.string(),
    action: z.enum(["create", "update", "no-op", "delete"]),
    diff: z.string().optional().describe("Unified diff, live → desired, secrets masked."),
    drift: z.array(DriftFieldSchema).optional(),
  })),
});
/** See {@link StackDiffSchema}. */
export type StackDiff = z.infer<typeof StackDiffSchema>;

// ---------------------------------------------------------------- history, drift, audit

/** One sync as history remembers it (`SyncRow` of the store). */
export const SyncRowSchema = z.object({
  id: z.string(),
  environment: z.string(),
  stack: z.string(),
  revision: z.object({
    sha: z.string(), author: z.string(), authorEmail: z.string().optional(), committer: z.string().optional(), message: z.string(), committedAt: z.string().optional(),
  }),
  trigger: z.object({ kind: TriggerKindSchema, by: z.string().optional(), detail: z.string().optional().describe("Free text: approvers, a delivery id, a reason.") }),
  startedAt: TimeSchema,
  finishedAt: TimeSchema.optional(),
  durationMs: z.number().optional(),
  outcome: OutcomeSchema,
  error: z.string().optional(),
  summary: z.partialRecord(ObjectActionSchema, z.number()).describe("Counts of objects by action."),
  objects: z.array(z.object({ ref: ObjRefSchema, apiVersion: z.string(), action: ObjectActionSchema, message: z.string().optional() })),
  commands: z.array(z.object({
    phase: z.enum(["check", "reload", "health", "rollback-reload", "terraform-apply"]), command: z.array(z.string()), exitCode: z.number().int(), output: z.string(), durationMs: z.number(),
  })).optional().describe("Commands run (a host target's; Terraform's apply), with their output (capped, masked)."),
  health: SyncHealthSchema.optional(),
});
/** See {@link SyncRowSchema}. */
export type SyncRow = z.infer<typeof SyncRowSchema>;

/** GET /history query. */
export const HistoryQuerySchema = z.strictObject({
  environment: NameSchema.optional(),
  stack: NameSchema.optional(),
  outcome: OutcomeSchema.optional(),
  trigger: TriggerKindSchema.optional(),
  since: TimeInputSchema.optional().describe("Syncs started at or after this time."),
  until: TimeInputSchema.optional().describe("Syncs started before this time."),
  limit: LimitSchema,
  cursor: CursorSchema.optional(),
});
/** See {@link HistoryQuerySchema}. */
export type HistoryQuery = z.input<typeof HistoryQuerySchema>;
/** A page of a list: `next` is the cursor of the following page, null on the last. */
export function pageOf<T extends z.ZodType>(item: T): z.ZodObject<{ items: z.ZodArray<T>; next: z.ZodNullable<z.ZodString> }> {
  return z.object({ items: z.array(item), next: z.string().nullable() });
}
/** GET /history. */
export const HistoryPageSchema = pageOf(SyncRowSchema);
/** See {@link HistoryPageSchema}. */
export type HistoryPage = z.infer<typeof HistoryPageSchema>;

/** One object changed outside Git (`DriftRow` of the store). */
export const DriftRowSchema = z.object({
  id: z.string(), environment: z.string(), stack: z.string(), detectedAt: TimeSchema, ref: ObjRefSchema, apiVersion: z.string(),
  fields: z.array(DriftFieldSchema), corrected: z.boolean(), syncId: z.string().optional(),
});
/** See {@link DriftRowSchema}. */
export type DriftRow = z.infer<typeof DriftRowSchema>;
/** GET /drift query. */
export const DriftQuerySchema = z.strictObject({ environment: NameSchema.optional(), stack: NameSchema.optional(), limit: LimitSchema, cursor: CursorSchema.optional() });
/** GET /drift. */
export const DriftPageSchema = pageOf(DriftRowSchema);
/** See {@link DriftPageSchema}. */
export type DriftPage = z.infer<typeof DriftPageSchema>;

/** One record of the hash-chained audit log. */
export const AuditEventSchema = z.object({
  seq: z.number().int(), at: TimeSchema, kind: z.string(), actor: z.string(), environment: z.string().optional(), stack: z.string().optional(),
  revision: z.string().optional(), details: z.record(z.string(), z.unknown()), prevHash: z.string(), hash: z.string(),
});
/** See {@link AuditEventSchema}. */
export type AuditEvent = z.infer<typeof AuditEventSchema>;
/** The chain's verification: ok with the head hash, or the first broken record and why. */
export const AuditVerificationSchema = z.object({
  ok: z.boolean(), count: z.number().int(), head: z.string().optional(), seq: z.number().int().optional(), reason: z.string().optional(),
});
/** GET /audit query. */
export const AuditQuerySchema = z.strictObject({ limit: LimitSchema, cursor: CursorSchema.optional() });
/** GET /audit. */
export const AuditPageSchema = pageOf(AuditEventSchema).extend({ verification: AuditVerificationSchema });
/** See {@link AuditPageSchema}. */
export type AuditPage = z.infer<typeof AuditPageSchema>;

/** GET /gate. */
export const GateOverviewSchema = z.object({
  refused: z.object({ revision: z.string(), reasons: z.array(z.string()) }).optional(),
  environments: z.array(z.object({ name: z.string(), gate: GateSchema })),
});
/** See {@link GateOverviewSchema}. */
export type GateOverview = z.infer<typeof GateOverviewSchema>;

/** GET /status: the agent's status as `gitward status` reads it; open objects, documented by `src/agent/status.ts`. */
export const StatusSchema = z.looseObject({
  repo: z.string(),
  branch: z.string(),
  environments: z.array(z.looseObject({ name: z.string(), stacks: z.array(z.looseObject({ environment: z.string(), stack: z.string() })) })),
  queue: z.object({ depth: z.number(), inFlight: z.number() }),
  agentId: z.string().optional().describe("Several agents: the answering agent's id."),
  agents: z.array(z.object({
    id: z.string(), hostname: z.string(), pid: z.number().int(), url: z.string().optional(), startedAt: TimeSchema,
    heartbeatAt: TimeSchema.describe("The last heartbeat, by the database's clock."), live: z.boolean().describe("Heartbeat within its lease time."),
    self: z.boolean(), stacks: z.number().int().describe("Stacks whose lease it holds."),
  })).optional().describe("Several agents on one PostgreSQL state: every agent the store knows."),
});

// ---------------------------------------------------------------- writes

/** POST /sync body. */
export const SyncRequestSchema = z.strictObject({
  environment: NameSchema.optional(),
  stack: NameSchema.optional(),
  reason: SafeTextSchema.max(500).optional(),
  by: SafeTextSchema.max(200).optional().describe("Who the caller says asked; recorded as a claim apart from the authenticated actor."),
  overrideApproval: SafeTextSchema.min(3).max(500).optional().describe("Sync past the approval gate, for this reason (audited); needs environment."),
});
/** See {@link SyncRequestSchema}. */
export type SyncRequest = z.infer<typeof SyncRequestSchema>;
/** POST /sync answer (202). */
export const SyncAcceptedSchema = z.object({ revision: z.string().optional(), queued: z.number().int() });
/** See {@link SyncAcceptedSchema}. */
export type SyncAccepted = z.infer<typeof SyncAcceptedSchema>;

/** POST /rollback body. */
export const RollbackRequestSchema = z.strictObject({
  environment: NameSchema,
  stack: NameSchema.optional(),
  steps: z.number().int().min(1).max(50).default(1),
  reason: SafeTextSchema.min(3).max(500),
});
/** See {@link RollbackRequestSchema}. */
export type RollbackRequest = z.input<typeof RollbackRequestSchema>;
/** POST /rollback answer (202). */
export const RollbackAcceptedSchema = z.object({ revertCommit: z.string(), reverted: z.array(z.object({ sha: z.string(), subject: z.string() })), pushed: z.literal(true) });
/** See {@link RollbackAcceptedSchema}. */
export type RollbackAccepted = z.infer<typeof RollbackAcceptedSchema>;

/** A token as listed: never the token or its hash. */
export const TokenInfoSchema = z.object({
  id: z.string(), name: z.string(), role: RoleSchema, environments: z.array(z.string()), createdAt: TimeSchema,
  expiresAt: TimeSchema.optional(), lastUsedAt: TimeSchema.optional(), revokedAt: TimeSchema.optional(),
});
/** See {@link TokenInfoSchema}. */
export type TokenInfo = z.infer<typeof TokenInfoSchema>;
/** GET /tokens. */
export const TokenListSchema = z.object({ items: z.array(TokenInfoSchema) });
/** POST /tokens body. */
export const TokenCreateSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, "letters, digits and . _ @ -, at most 64"),
  role: RoleSchema,
  environments: z.array(z.union([NameSchema, z.literal("*")])).min(1).max(100).optional(),
  expiresIn: z.string().regex(/^[0-9]{1,5}[mhdw]$/, "a duration such as 30d, 12h").optional(),
});
/** See {@link TokenCreateSchema}. */
export type TokenCreate = z.infer<typeof TokenCreateSchema>;
/** POST /tokens answer (201): the token, shown once. */
export const TokenCreatedSchema = TokenInfoSchema.extend({ token: z.string() });
/** See {@link TokenCreatedSchema}. */
export type TokenCreated = z.infer<typeof TokenCreatedSchema>;
/** Path of one token. */
export const TokenParamsSchema = z.strictObject({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/) });

// ---------------------------------------------------------------- events

/** Payloads of the event stream, by event type. */
export const EventPayloadSchemas = {
  sync: z.object({ environment: z.string(), stack: z.string(), id: z.string(), revision: z.string(), outcome: OutcomeSchema, at: TimeSchema }),
  drift: z.object({ environment: z.string(), stack: z.string(), objects: z.number().int(), corrected: z.boolean(), at: TimeSchema }),
  gate: z.object({ environment: z.string(), revision: z.string(), gate: GateSchema }),
  status: z.object({ environment: z.string(), stack: z.string() }),
} as const;
/** One event of `/api/v1/events`, by type. */
export type ApiEvent = { [K in keyof typeof EventPayloadSchemas]: { type: K; data: z.infer<(typeof EventPayloadSchemas)[K]> } }[keyof typeof EventPayloadSchemas];
