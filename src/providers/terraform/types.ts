import type { Logger } from "pino";
import type { CommandRunner } from "../../core/command-runner.ts";
import type { OperationLocks } from "./locks.ts";

/** A Terraform target, resolved: gitward.yaml's target settings plus the agent configuration's credentials. */
export interface TerraformTarget {
  /** The program: `terraform`, `tofu`, or a path to either. */
  readonly binary: string;
  /** Backend settings, each passed as `-backend-config=key=value`. The values are treated as secrets. */
  readonly backendConfig?: Readonly<Record<string, string>>;
  /** A backend configuration file, passed as `-backend-config=FILE`. */
  readonly backendConfigFile?: string;
  /** The Terraform workspace, selected (and created when missing) at init. */
  readonly workspace?: string;
  /** Environment variables for Terraform and its providers (credentials): never logged, masked wherever they appear. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A value gitward passes to Terraform as a variable. */
export type TerraformVarValue = string | number | boolean;

/** One stack instance of a Terraform target: which root module, with which variables, cached where. */
export interface TerraformStack {
  readonly environment: string;
  readonly stack: string;
  /** A materialized copy of the root module; it is copied again into the private working directory. */
  readonly moduleDir: string;
  /** Written as `gitward.auto.tfvars.json` in the private working copy, never in `moduleDir`. */
  readonly vars: Readonly<Record<string, TerraformVarValue>>;
  /** `<cache>/terraform`: one working directory per (environment, stack) and the shared plugin cache. */
  readonly cacheDir: string;
}

/** What a plan does to one resource, in gitward's words. */
export type ResourceAction = "create" | "update" | "delete" | "replace" | "no-op" | "read";

/** The planned change of one resource address, with its secrets masked. */
export interface ResourceChange {
  readonly address: string;
  readonly type: string;
  readonly name: string;
  /** The module address (`module.db`) when the resource is not in the root module. */
  readonly module?: string;
  readonly action: ResourceAction;
  /** The values before, with sensitive ones shown as {@link sensitiveMarker}. */
  readonly before: unknown;
  /** The planned values after, with sensitive ones shown as {@link sensitiveMarker}. */
  readonly after: unknown;
  /** Terraform's `after_unknown`: `true` where a value is known only after apply. */
  readonly afterUnknown: unknown;
  /** A readable attribute diff, masked: one line per changed attribute. */
  readonly diff: string;
  /** Why a replace is needed (Terraform's reason and the attributes that force it). */
  readonly replaceReason?: string;
}

/** What a plan does to one output. */
export interface OutputChange {
  readonly name: string;
  readonly action: string;
  readonly sensitive: boolean;
  /** The planned value; absent when sensitive or known only after apply. */
  readonly after?: unknown;
}

/** A saved plan and what it would change. */
export interface TerraformPlan {
  /** The saved plan (`plan -out`) in the working directory; {@link TerraformWorkspace.apply} applies exactly this. */
  readonly planFile: string;
  readonly changes: readonly ResourceChange[];
  readonly outputChanges: readonly OutputChange[];
  /** True when applying would change a resource or an output. */
  readonly hasChanges: boolean;
  /** Terraform's output, capped and masked. */
  readonly log: string;
}

/** An output's value as Terraform holds it: raw, so callers that show it must mask the sensitive ones. */
export interface TerraformOutput {
  readonly value: unknown;
  readonly sensitive: boolean;
}

/** How many resources an apply changed, by kind of change. */
export interface ApplySummary {
  readonly created: number;
  readonly updated: number;
  readonly replaced: number;
  readonly deleted: number;
}

/** The outcome of applying a saved plan. A failed apply is a result, not an exception (except a stale plan). */
export interface TerraformApply {
  readonly ok: boolean;
  /** Terraform's error diagnostics, masked, when the apply failed. */
  readonly error?: string;
  /** The outputs after the apply (raw values: mask the sensitive ones before showing them). */
  readonly outputs: Readonly<Record<string, TerraformOutput>>;
  /** Terraform's output, capped and masked. */
  readonly log: string;
  /** What was done, counting only the resources whose change completed. */
  readonly summary: ApplySummary;
}

/** The outcome of `terraform validate` and the format check. */
export interface TerraformValidation {
  readonly ok: boolean;
  /** One line per problem: `error: main.tf:3: Unsupported argument: ...`, `format: main.tf is not formatted`. */
  readonly diagnostics: readonly string[];
}

/** Options of {@link TerraformWorkspace}. */
export interface TerraformWorkspaceOptions {
  readonly runner: CommandRunner;
  readonly logger?: Logger;
  /** Milliseconds one Terraform command may run before it is killed; default 3 600 000 (one hour). */
  readonly timeoutMs?: number;
  /** How long to wait for Terraform's state lock, as `-lock-timeout`; default 60 000 ms. */
  readonly lockTimeoutMs?: number;
  /** The locks that serialize operations per working directory; default one shared by the whole process. */
  readonly locks?: OperationLocks;
}

/** What Terraform shows instead of a sensitive value, and what gitward shows too. */
export const sensitiveMarker = "(sensitive value)";
/** What gitward shows for a value known only after apply. */
export const unknownMarker = "(known after apply)";
