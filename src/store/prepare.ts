import type { ObjRef } from "../core/objref.ts";
import type { Action, ChangeSetEntry, CommandOutput, Drift } from "../providers/provider.ts";
import { canonicalJson } from "./audit-hash.ts";
import { redact, redactArgs, redactJson } from "./redact.ts";
import { invalidCall } from "./store-error.ts";
import type {
  ActionSummary, FinishedOutcome, NewAuditEvent, NewDrift, NewSync, RevisionInfo, SyncResult, SyncTrigger,
} from "./store.ts";
import { defaultListLimit, HealthState, maxListLimit, SyncOutcome, TriggerKind } from "./store.ts";
import type { SyncHealth } from "./store.ts";

/**
 * What every Store implementation does to data before writing it: validate, normalise
 * timestamps to UTC ISO 8601, keep only the known fields (so a richer object from the engine
 * cannot smuggle a diff or a secret in), and redact free text.
 */

/** A source of the current time, injected so tests control it. */
export type Now = () => Date;

/** A {@link NewSync} ready to write: start time set, fields projected and redacted. */
export type PreparedSync = Required<Pick<NewSync, "environment" | "stack" | "revision" | "trigger" | "startedAt">> & {
  readonly summary: ActionSummary;
  readonly objects: readonly ChangeSetEntry[];
};

/** A {@link SyncResult} ready to write. */
export type PreparedResult = SyncResult & { readonly finishedAt: string };

/** A {@link NewDrift} ready to write. */
export type PreparedDrift = NewDrift & { readonly detectedAt: string };

/** A {@link NewAuditEvent} ready to hash and write: time set, details redacted and JSON-normalised. */
export type PreparedAudit = NewAuditEvent & { readonly at: string; readonly details: Readonly<Record<string, unknown>> };

const finishedOutcomes: ReadonlySet<string> = new Set<FinishedOutcome>(["succeeded", "failed", "skipped", "cancelled"]);
const triggerKinds: ReadonlySet<string> = new Set(Object.values(TriggerKind));
// A record, not a list, so that a new Action fails to compile here until it is added
// (the store imports only types from the providers).
const actionNames: Readonly<Record<Action, true>> = { failed: true, created: true, configured: true, deleted: true, unchanged: true, skipped: true };
const actions: ReadonlySet<string> = new Set(Object.keys(actionNames));
const syncOutcomes: ReadonlySet<string> = new Set(Object.values(SyncOutcome));

/** Drops the properties whose value is undefined, so optional fields are absent rather than undefined. */
export function compact<T extends object>(value: { readonly [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Normalises a timestamp to `YYYY-MM-DDTHH:mm:ss.sssZ` (so text order is time order), or now when absent. */
export function isoTime(value: string | undefined, now: Now, what: string): string {
  const date = value === undefined ? now() : new Date(value);
  if (Number.isNaN(date.getTime())) throw invalidCall(`${what} ${JSON.stringify(value)} is not an ISO 8601 time`);
  return date.toISOString();
}

/** The row count of a list call: the default when absent; a positive integer up to {@link maxListLimit}. */
export function listLimit(limit: number | undefined): number {
  if (limit === undefined) return defaultListLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxListLimit) {
    throw invalidCall(`limit ${limit} is not an integer from 1 to ${maxListLimit}`);
  }
  return limit;
}

/** True for one of {@link SyncOutcome}. */
export function isSyncOutcome(value: string): value is SyncOutcome {
  return syncOutcomes.has(value);
}

/** True for one of {@link TriggerKind}. */
export function isTriggerKind(value: string): value is TriggerKind {
  return triggerKinds.has(value);
}

/** Validates and redacts a sync about to start. */
export function prepareNewSync(sync: NewSync, now: Now): PreparedSync {
  return {
    environment: name(sync.environment, "environment"),
    stack: name(sync.stack, "stack"),
    revision: prepareRevision(sync.revision),
    trigger: prepareTrigger(sync.trigger),
    startedAt: isoTime(sync.startedAt, now, "startedAt"),
    summary: projectSummary(sync.summary ?? {}),
    objects: projectEntries(sync.objects ?? []),
  };
}

/** Validates and redacts how a sync ended. */
export function prepareResult(result: SyncResult, now: Now): PreparedResult {
  if (!finishedOutcomes.has(result.outcome)) throw invalidCall(`a sync cannot be finished as ${JSON.stringify(result.outcome)}`);
  if (!Number.isFinite(result.durationMs) || result.durationMs < 0) throw invalidCall(`durationMs ${result.durationMs} is not a duration`);
  return compact<PreparedResult>({
    outcome: result.outcome,
    error: result.error === undefined ? undefined : redact(result.error),
    summary: projectSummary(result.summary),
    objects: projectEntries(result.objects),
    commands: result.commands === undefined ? undefined : projectCommands(result.commands),
    finishedAt: isoTime(result.finishedAt, now, "finishedAt"),
    durationMs: result.durationMs,
  });
}

const healthStates: ReadonlySet<string> = new Set(Object.values(HealthState));

/** True for one of {@link HealthState}. */
export function isHealthState(value: unknown): value is HealthState {
  return typeof value === "string" && healthStates.has(value);
}

/** Validates and redacts a health record. */
export function prepareHealth(health: SyncHealth): SyncHealth {
  if (!isHealthState(health.state)) throw invalidCall(`unknown health ${JSON.stringify(health.state)}`);
  return compact<SyncHealth>({
    state: health.state,
    at: isoTime(health.at, () => new Date(), "at"),
    message: health.message === undefined ? undefined : redact(health.message).slice(0, 2000),
  });
}

/** Validates one drift event. */
export function prepareDrift(event: NewDrift, now: Now): PreparedDrift {
  if (event.syncId !== undefined && event.syncId === "") throw invalidCall("syncId is empty");
  return compact<PreparedDrift>({
    environment: name(event.environment, "environment"),
    stack: name(event.stack, "stack"),
    detectedAt: isoTime(event.detectedAt, now, "detectedAt"),
    ref: projectRef(event.ref),
    apiVersion: name(event.apiVersion, "apiVersion"),
    fields: event.fields.map((f) => compact<Drift>({ field: f.field, manager: f.manager, time: f.time })),
    corrected: event.corrected,
    syncId: event.syncId,
  });
}

/** Validates an audit event and makes its details redacted, plain JSON (what is hashed is what is read back). */
export function prepareAudit(event: NewAuditEvent, now: Now): PreparedAudit {
  let text: string;
  try {
    text = canonicalJson(redactJson(event.details));
  } catch (e: unknown) {
    throw invalidCall(`audit details: ${e instanceof Error ? e.message : String(e)}`);
  }
  const details: unknown = JSON.parse(text);
  if (typeof details !== "object" || details === null || Array.isArray(details)) throw invalidCall("audit details must be an object");
  return compact<PreparedAudit>({
    kind: name(event.kind, "kind"),
    actor: name(event.actor, "actor"),
    at: isoTime(event.at, now, "at"),
    environment: event.environment,
    stack: event.stack,
    revision: event.revision,
    details: details as Record<string, unknown>,
  });
}

/** Keeps the known fields of per-object results and redacts their messages. */
export function projectEntries(entries: readonly ChangeSetEntry[]): ChangeSetEntry[] {
  return entries.map((e) => {
    if (!actions.has(e.action)) throw invalidCall(`unknown action ${JSON.stringify(e.action)}`);
    return compact<ChangeSetEntry>({
      ref: projectRef(e.ref),
      apiVersion: e.apiVersion,
      action: e.action,
      message: e.message === undefined ? undefined : redact(e.message),
    });
  });
}

/** Keeps the known fields of command outputs and redacts their command lines and output. */
export function projectCommands(commands: readonly CommandOutput[]): CommandOutput[] {
  return commands.map((c) => ({
    phase: c.phase,
    command: redactArgs(c.command),
    exitCode: c.exitCode,
    output: redact(c.output),
    durationMs: c.durationMs,
  }));
}

/** Keeps the counts of known actions. */
export function projectSummary(summary: ActionSummary): ActionSummary {
  const out: Partial<Record<Action, number>> = {};
  for (const [action, count] of Object.entries(summary)) {
    if (count === undefined) continue;
    if (!actions.has(action)) throw invalidCall(`unknown action ${JSON.stringify(action)} in summary`);
    if (!Number.isInteger(count) || count < 0) throw invalidCall(`summary count ${count} for ${action} is not a count`);
    out[action as Action] = count;
  }
  return out;
}

function projectRef(ref: ObjRef): ObjRef {
  return compact<ObjRef>({ group: ref.group, kind: ref.kind, namespace: ref.namespace, name: ref.name });
}

function prepareRevision(rev: RevisionInfo): RevisionInfo {
  return compact<RevisionInfo>({
    sha: name(rev.sha, "revision.sha"),
    author: rev.author,
    authorEmail: rev.authorEmail,
    committer: rev.committer,
    message: redact(rev.message),
    committedAt: rev.committedAt,
  });
}

function prepareTrigger(trigger: SyncTrigger): SyncTrigger {
  if (!triggerKinds.has(trigger.kind)) throw invalidCall(`unknown trigger kind ${JSON.stringify(trigger.kind)}`);
  return compact<SyncTrigger>({
    kind: trigger.kind,
    by: trigger.by,
    detail: trigger.detail === undefined ? undefined : redact(trigger.detail),
  });
}

function name(value: string, what: string): string {
  if (typeof value !== "string" || value === "") throw invalidCall(`${what} is empty`);
  return value;
}

/** The integer key of a sync id, or undefined for an id neither store can have issued. */
export function rowId(id: string): number | undefined {
  return /^[1-9][0-9]{0,15}$/.test(id) ? Number(id) : undefined;
}
