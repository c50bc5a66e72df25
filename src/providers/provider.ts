import type { SourceLocation } from "../core/location.ts";
import type { KObject } from "../core/object.ts";
import type { ObjRef } from "../core/objref.ts";

/**
 * The boundary between the engine and the systems gitward manages. A provider knows nothing
 * of Git, rendering or policy: it receives desired objects and answers with what it did.
 */

/** What a provider did to one object. Ordered so that the worst wins when aggregating. */
export const Action = {
  Failed: "failed",
  Created: "created",
  Configured: "configured",
  Deleted: "deleted",
  Unchanged: "unchanged",
  Skipped: "skipped",
} as const;
/** One of {@link Action}. */
export type Action = (typeof Action)[keyof typeof Action];

/** Health of an object, ordered so that the worst one wins when aggregating. */
export const Health = {
  Degraded: "degraded",
  Missing: "missing",
  Progressing: "progressing",
  Unknown: "unknown",
  Healthy: "healthy",
} as const;
/** One of {@link Health}. */
export type Health = (typeof Health)[keyof typeof Health];

/** Which stack, in which environment: the owner of an inventory. */
export interface StackRef {
  readonly environment: string;
  readonly stack: string;
}

/** One desired object, with where it came from (for messages). */
export interface DesiredObject {
  readonly ref: ObjRef;
  readonly apiVersion: string;
  readonly object: KObject;
  readonly source?: SourceLocation;
  /** Fields that were SOPS-encrypted in Git (`a.b[0].c`): every diff masks them, live side included. */
  readonly secretFields?: readonly string[];
}

/** A field another writer changed, and who. */
export interface Drift {
  /** Field path, `a.b[0].c` or the managedFields form. */
  readonly field: string;
  /** The writer that owns it now (a field manager for Kubernetes), if known. */
  readonly manager?: string;
  /** When that writer last wrote, ISO 8601, if known. */
  readonly time?: string;
}

/** What a diff found for one object. */
export interface DiffEntry {
  readonly ref: ObjRef;
  readonly apiVersion: string;
  /** `create`: absent live; `update`: differs; `no-op`: as desired; `delete`: in the inventory, not desired. */
  readonly action: "create" | "update" | "no-op" | "delete";
  /** Unified diff, live → desired, secrets masked. */
  readonly diff?: string;
  /** Fields changed outside gitward since it last applied. */
  readonly drift?: readonly Drift[];
  /**
   * The planned change as an object policies can check, from targets that plan before they
   * change (Terraform: `kind` the resource type, `metadata.name` the address, `spec` the planned
   * values, the action in an annotation).
   */
  readonly planned?: KObject;
}

/** The result of a diff: one entry per desired object, plus deletes the inventory implies. */
export interface DiffSet {
  readonly entries: readonly DiffEntry[];
}

/** One object's outcome in an apply or remove. */
export interface ChangeSetEntry {
  readonly ref: ObjRef;
  readonly apiVersion: string;
  readonly action: Action;
  /** Why it failed, for `failed`; why it was skipped, for `skipped`. */
  readonly message?: string;
}

/** Options of {@link TargetSession.diff}. */
export interface DiffOptions {
  /** The inventory's refs, to report deletes for what is no longer desired. */
  readonly inventory?: Inventory;
  readonly signal?: AbortSignal;
}

/** Options of {@link TargetSession.apply}. */
export interface ApplyOptions {
  readonly stack: StackRef;
  readonly dryRun: boolean;
  /** Take over fields another applier owns (fields of Update-operation writers are taken back without it). */
  readonly force: boolean;
  /** Called after each object, for progress displays. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Called right before each object is written; what it throws ends the apply there (an agent
   * whose lease ran out while it was paused must not write on: its fence throws).
   */
  readonly beforeWrite?: () => void;
  readonly signal?: AbortSignal;
}

/** Options of {@link TargetSession.remove}. */
export interface RemoveOptions {
  readonly stack: StackRef;
  readonly dryRun: boolean;
  /** As {@link ApplyOptions.beforeWrite}, before each delete. */
  readonly beforeWrite?: () => void;
  /**
   * For targets that plan a removal before they make it (Terraform's destroy plan): checks the
   * planned deletes first; a refusal removes nothing (every entry skipped).
   */
  readonly review?: NonNullable<TransactOptions["review"]>;
  readonly signal?: AbortSignal;
}

/** Options of {@link TargetSession.wait}. */
export interface WaitOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Health of each object after a wait. */
export interface HealthReport {
  readonly entries: readonly { readonly ref: ObjRef; readonly health: Health; readonly message?: string }[];
  /** True when the wait ended because of the timeout. */
  readonly timedOut: boolean;
}

/**
 * One command a provider ran for a sync (a host target's check, reload or health; Terraform's
 * apply of the saved plan), its output size-capped and masked.
 */
export interface CommandOutput {
  /** `rollback-reload` is the reload after the previous files were put back; `terraform-apply` is Terraform's own output of the apply. */
  readonly phase: "check" | "reload" | "health" | "rollback-reload" | "terraform-apply";
  readonly command: readonly string[];
  /** -1 when it could not be started or was killed for its timeout. */
  readonly exitCode: number;
  /** stdout then stderr, capped; the cap is marked. */
  readonly output: string;
  readonly durationMs: number;
}

/** The engine's verdict on the changes a target planned: its policies and gate, run on the planned objects. */
export interface PlanReview {
  readonly allowed: boolean;
  /** Why not, naming the policies and objects; warnings when allowed. */
  readonly message?: string;
}

/** Options of {@link TargetSession.transact}. */
export interface TransactOptions extends ApplyOptions {
  /** Delete the stale entries; false keeps them in place. */
  readonly prune: boolean;
  /**
   * For targets that plan before they change (Terraform): checks the planned changes (each
   * {@link DiffEntry.planned}) before anything is applied, and again after a re-plan.
   */
  readonly review?: (planned: readonly DesiredObject[]) => Promise<PlanReview>;
}

/** What a transactional sync did: every change or none of them. */
export interface TransactResult {
  readonly entries: readonly ChangeSetEntry[];
  /** The commands run, in order. */
  readonly commands: readonly CommandOutput[];
  /** Why the sync failed as a whole (a check, reload or health failure, after rolling back). */
  readonly error?: string;
}

/** A sync as the target remembers it. */
export interface SyncRecord {
  readonly revision: string;
  readonly at: string;
  readonly result: "succeeded" | "failed";
  readonly summary: Readonly<Partial<Record<Action, number>>>;
  /** Set when a policy gate was overridden for this sync. */
  readonly gateOverride?: { readonly by: string; readonly reason?: string | undefined; readonly denials: number };
  /** Why it failed, when it did as a whole. */
  readonly error?: string;
  /** Commands the provider ran (host targets), output capped. */
  readonly commands?: readonly CommandOutput[];
}

/** What a stack owns in a target, stored in the target itself. */
export interface Inventory {
  readonly stack: StackRef;
  /** The revision last applied. */
  readonly revision: string;
  readonly entries: readonly { readonly ref: ObjRef; readonly apiVersion: string }[];
  /** The last few syncs, newest first. */
  readonly syncs: readonly SyncRecord[];
}

/** Options of {@link TargetSession.listInventories}. */
export interface ListInventoriesOptions {
  /** Stacks the caller already knows about: a provider may leave them out without reading them. */
  readonly except?: ReadonlySet<string>;
  readonly signal?: AbortSignal;
}

/** A stack's inventory in a target, in brief. */
export interface InventorySummary {
  readonly stack: string;
  readonly revision: string;
  readonly objects: number;
}

/** An open connection to one target (a cluster, a host root, a database). */
export interface TargetSession {
  /** Live state against desired; never writes. */
  diff(desired: readonly DesiredObject[], opts: DiffOptions): Promise<DiffSet>;
  /** Writes only what differs; per-object failures are entries, not exceptions. */
  apply(desired: readonly DesiredObject[], opts: ApplyOptions): Promise<readonly ChangeSetEntry[]>;
  /** Deletes; a failed delete means the object still exists. */
  remove(refs: readonly { readonly ref: ObjRef; readonly apiVersion: string }[], opts: RemoveOptions): Promise<readonly ChangeSetEntry[]>;
  /** Resolves when every ref is healthy or one failed, or the timeout or signal ends it. */
  wait(refs: readonly ObjRef[], opts: WaitOptions): Promise<HealthReport>;
  /**
   * Targets that change as one transaction (a host root: stage, check, swap, reload, health,
   * roll back) implement this; the engine then calls it instead of apply, remove and wait.
   */
  transact?(
    desired: readonly DesiredObject[],
    stale: Inventory["entries"],
    opts: TransactOptions,
  ): Promise<TransactResult>;
  readInventory(stack: StackRef, signal?: AbortSignal): Promise<Inventory | undefined>;
  /**
   * The stacks of an environment that have an inventory in this target, with how many objects
   * each owns: what the target remembers, whatever gitward.yaml says now (a stack removed from
   * it still owns its objects here). Optional; a provider without it reports no orphans.
   */
  listInventories?(environment: string, opts?: ListInventoriesOptions): Promise<readonly InventorySummary[]>;
  writeInventory(inventory: Inventory, signal?: AbortSignal): Promise<void>;
  /**
   * Deletes a stack's inventory (a preview destroyed, its objects removed first). Optional: a
   * provider without it keeps an inventory that owns nothing.
   */
  deleteInventory?(stack: StackRef, signal?: AbortSignal): Promise<void>;
  /**
   * The stack's outputs, for other stacks to use (`${outputs.<stack>.<name>}`), from targets
   * that have them (Terraform: the outputs in the stack's state). `desired` is the stack's
   * render at the revision (a Terraform target needs its Module to reach the state). With
   * `planned`, the values once the desired state would be applied: what the plan changes is
   * given when the plan knows it, else marked not known. Raw values: callers mask sensitive ones.
   */
  outputs?(stack: StackRef, desired: readonly DesiredObject[], opts?: OutputsOptions): Promise<Readonly<Record<string, StackOutput>>>;
  close(): Promise<void>;
}

/** One output of a stack (a Terraform output). */
export interface StackOutput {
  /** The raw value: never show a sensitive one. */
  readonly value: unknown;
  readonly sensitive: boolean;
  /** False when the value is known only after an apply (a planned value). */
  readonly known: boolean;
}

/** Options of {@link TargetSession.outputs}. */
export interface OutputsOptions {
  /** The values the stack would have once its desired state is applied (a plan), not the current ones. */
  readonly planned?: boolean;
  readonly signal?: AbortSignal;
}

/** Where credentials come from when a target is opened: never Git, always the runner's own environment. */
export interface ProviderContext {
  /** A kubeconfig file; default $KUBECONFIG or ~/.kube/config, or the in-cluster service account. */
  readonly kubeconfigPath?: string;
  /** Overrides the target's own context. */
  readonly context?: string;
  /** Host target roots by target name, overriding gitward.yaml's (an agent's own layout, tests). */
  readonly hostRoots?: Readonly<Record<string, string>>;
  /**
   * The commands a host target may run, by target name, then by the name gitward.yaml gives in
   * `check`, `reload` and `health`. Only the runner defines them (the agent configuration, or
   * `--host-commands` for a push); a name missing here runs nothing and fails the sync.
   */
  readonly hostCommands?: Readonly<Record<string, Readonly<Record<string, HostCommandDefinition>>>>;
  /**
   * Values of the environment variables a Terraform target names in `env`, by target name: the
   * runner's credentials (the agent configuration). A name missing here is read from the
   * runner's own environment.
   */
  readonly targetEnv?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** A Terraform target's backend configuration file, by target name, over gitward.yaml's `backendConfigFile` (the agent configuration's). */
  readonly backendConfigFiles?: Readonly<Record<string, string>>;
  /** gitward's cache directory (Terraform working directories live under it); default $GITWARD_CACHE_DIR or ~/.cache/gitward. */
  readonly cacheDir?: string;
  readonly signal?: AbortSignal;
}

/** One command a runner lets a host target run: an exact argument array, and how long one run may take. */
export interface HostCommandDefinition {
  /** The program and its arguments; `{staged}` and `{root}` are replaced, nothing else is interpreted. */
  readonly command: readonly string[];
  /** Seconds one run may take before it and everything it started are killed; default 60 (check, reload). */
  readonly timeoutSeconds?: number;
}

/** A kind of system gitward manages: opens sessions to its targets. */
export interface Provider {
  readonly name: string;
  /** Opens a target; `target` is its gitward.yaml definition (no credentials). */
  open(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): Promise<TargetSession>;
}
