/**
 * gitward's programmatic API: the engine's entry points (what `gitward validate`, `plan`,
 * `apply`, `diff` and the agent run), the lifecycle of one stack, and the provider contract a
 * new kind of target implements. See docs/api.md. Everything else under src/ is internal.
 */

// Workspace: a repository opened with its renderer, checks and caches.
export { openWorkspace, defaultCacheDir } from "./engine/workspace.ts";
export type { Workspace, WorkspaceOptions } from "./engine/workspace.ts";

// Source, Render, Check of a revision; the plan between two revisions.
export { evaluateRevision } from "./engine/evaluate-revision.ts";
export type { EvaluateOptions, RevisionEvaluation } from "./engine/evaluate-revision.ts";
export { planRevisions } from "./engine/plan-revisions.ts";
export type { PlanOptions, PlanOutcome } from "./engine/plan-revisions.ts";

// The Gate.
export { decideGate } from "./engine/gate.ts";
export type { GateOutcome, GateOverride } from "./engine/gate.ts";

// Push mode and the live diff.
export { syncEnvironment, dependencyOrder, revisionInfo } from "./engine/sync-environment.ts";
export type { SyncOptions, SyncResult } from "./engine/sync-environment.ts";
export { diffEnvironment } from "./engine/diff-environment.ts";
export type { DiffEnvironmentOptions, DiffOutcome } from "./engine/diff-environment.ts";

// The lifecycle of one stack, shared by push and pull.
export { reconcileStack } from "./engine/reconcile-stack.ts";
export type { ApplySettings, ReconcileInput, ReconcileOutcome, ReconcileResult, SyncPolicy } from "./engine/reconcile-stack.ts";
export { decide, dependencyState, Job } from "./engine/decide.ts";
export type { DecideInput, Decision, DependencyState, NoneReason } from "./engine/decide.ts";
export { TargetPool } from "./engine/target-pool.ts";
export type { TargetPoolOptions } from "./engine/target-pool.ts";
export { noopRecorder, storeRecorder } from "./engine/recorder.ts";
export type { RecordObserver, RecordedSyncs, Recorder } from "./engine/recorder.ts";
export type { StackSyncResult } from "./engine/sync-stack.ts";
export { defaultProviders } from "./engine/providers.ts";
export type { KubernetesTuning } from "./engine/providers.ts";

// Rollback through Git.
export { rollback } from "./engine/rollback.ts";
export type { RollbackOptions, RollbackResult } from "./engine/rollback.ts";

// The provider contract.
export { Action, Health } from "./providers/provider.ts";
export type {
  ChangeSetEntry, CommandOutput, DesiredObject, DiffEntry, DiffOptions, DiffSet, Drift, HealthReport, Inventory,
  Provider, ProviderContext, RemoveOptions, StackRef, SyncRecord, TargetSession, TransactOptions, TransactResult, WaitOptions,
  ApplyOptions,
} from "./providers/provider.ts";

// State: history, drift and audit.
export { openStore, parseStateUrl } from "./store/open.ts";
export type { AuditEvent, DriftRow, Store, SyncRow, SyncTrigger } from "./store/store.ts";

// Ports and shared vocabulary.
export { systemClock } from "./core/clock.ts";
export type { Clock } from "./core/clock.ts";
export { ProcessRunner } from "./core/command-runner.ts";
export type { CommandRunner } from "./core/command-runner.ts";
export { ErrorCode, GitwardError } from "./core/errors.ts";
export { formatRef, refKey } from "./core/objref.ts";
export type { ObjRef } from "./core/objref.ts";
export { maskSecrets } from "./core/mask-secrets.ts";
