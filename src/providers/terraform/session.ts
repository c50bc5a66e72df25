import { createHash } from "node:crypto";
import { basename } from "node:path";
import type { CommandRunner } from "../../core/command-runner.ts";
import { GitwardError } from "../../core/errors.ts";
import { maskSecretsInText } from "../../core/mask-secrets.ts";
import type { ObjRef } from "../../core/objref.ts";
import { terraformApiVersion, terraformGroup, type ModuleSpec } from "../../core/terraform-objects.ts";
import type {
  ApplyOptions, ChangeSetEntry, CommandOutput, DesiredObject, DiffEntry, DiffOptions, DiffSet, HealthReport, Inventory, InventorySummary, ListInventoriesOptions,
  OutputsOptions, PlanReview, RemoveOptions, StackOutput, StackRef, TargetSession, TransactOptions, TransactResult, WaitOptions,
} from "../provider.ts";
import { StalePlanError } from "./errors.ts";
import type { OperationLocks } from "./locks.ts";
import { appliedEntry, diffEntryOf, effectiveChanges, planSignature, reviewObjects } from "./planned.ts";
import {
  deleteTerraformInventory, listTerraformInventories, materializeModule, moduleOf, readTerraformInventory, stackOfObject, writeTerraformInventory,
  type TerraformInventory,
} from "./stack-state.ts";
import { sensitiveMarker, type ResourceChange, type TerraformApply, type TerraformOutput, type TerraformPlan, type TerraformTarget } from "./types.ts";
import { TerraformWorkspace } from "./workspace.ts";

/** What a {@link TerraformSession} is opened with. */
export interface TerraformSessionOptions {
  readonly targetName: string;
  readonly target: TerraformTarget;
  /** `<cache>/terraform`: working directories, module copies, inventories. */
  readonly cacheDir: string;
  readonly runner: CommandRunner;
  /** Serializes plan-review-apply per stack among the provider's sessions. */
  readonly locks: OperationLocks;
}

/** A plan made by a diff, kept for the transact of the same reconcile. */
interface KeptPlan {
  readonly key: string;
  readonly at: number;
  readonly plan: TerraformPlan;
  /** The workspace that made it, which knows the plan's sensitive values: applying through it reads no `show -json` again. */
  readonly ws: TerraformWorkspace;
}

/** How long a plan made by a diff may be applied by a later transact of the same module and variables. */
const keptPlanMs = 5 * 60_000;

/**
 * A session on one Terraform target. The one desired object of a stack is its Module; `diff`
 * runs `terraform plan` and answers per resource address; `transact` applies the saved plan
 * after the engine reviewed its changes (policies), re-planning and reviewing again when the
 * state moved since. Inventories (the addresses in the state, the outputs) live under the cache.
 */
export class TerraformSession implements TargetSession {
  readonly #o: TerraformSessionOptions;
  readonly #kept = new Map<string, KeptPlan>();
  /** Addresses in the state after this session's last sync of a stack, for the inventory the engine writes next. */
  readonly #addresses = new Map<string, { entries: Inventory["entries"]; outputs?: TerraformInventory["outputs"]; module?: TerraformInventory["module"] }>();

  constructor(opts: TerraformSessionOptions) {
    this.#o = opts;
  }

  /** `terraform plan` of the module: one entry per resource address; never writes (the plan is kept for a transact). */
  async diff(desired: readonly DesiredObject[], opts: DiffOptions): Promise<DiffSet> {
    const module = moduleOf(desired);
    if (module === undefined) return { entries: [] };
    const stack = stackOfObject(module.object);
    return this.#o.locks.run(key(stack), async () => {
      const { plan } = await this.#plan(stack, module.spec, opts.signal);
      return { entries: plan.changes.filter((c) => c.action !== "read").map((c) => withAttributes(diffEntryOf(c), c)) };
    }, opts.signal);
  }

  /** Plans, has the engine review the planned changes, and applies exactly the plan reviewed. */
  async transact(desired: readonly DesiredObject[], _stale: Inventory["entries"], opts: TransactOptions): Promise<TransactResult> {
    const module = moduleOf(desired);
    if (module === undefined) return { entries: [], commands: [], error: "a terraform stack needs its Module object; nothing was planned" };
    return this.#o.locks.run(key(opts.stack), () => this.#sync(opts.stack, module.spec, opts), opts.signal);
  }

  async #sync(stack: StackRef, spec: ModuleSpec, opts: TransactOptions): Promise<TransactResult> {
    const kept = this.#kept.get(key(stack));
    const fresh = await this.#workspace(stack, spec);
    const made = kept !== undefined && kept.key === fresh.key && Date.now() - kept.at < keptPlanMs ? kept : await this.#plan(stack, spec, opts.signal, fresh);
    let { plan, ws } = made;
    this.#kept.delete(key(stack));
    const denied = await review(plan, opts.review);
    if (denied !== undefined) return denied;
    if (opts.dryRun) return { entries: effectiveChanges(plan.changes).map((c) => ({ ...appliedEntry(c), message: "dry run" })), commands: [] };
    let applied: TerraformApply;
    const started = performance.now();
    try {
      applied = await ws.apply(plan, opts.signal);
    } catch (e: unknown) {
      if (!(e instanceof StalePlanError)) throw e;
      // The state moved since the plan: plan again, review again, and apply only if the changes are the ones reviewed.
      const remade = await this.#plan(stack, spec, opts.signal, fresh);
      const again = remade.plan;
      this.#kept.delete(key(stack));
      const deniedAgain = await review(again, opts.review);
      if (deniedAgain !== undefined) return deniedAgain;
      if (planSignature(again.changes) !== planSignature(plan.changes)) {
        return {
          entries: effectiveChanges(again.changes).map((c) => ({ ...appliedEntry(c), action: "skipped" as const, message: "not applied: the plan changed since it was reviewed" })),
          commands: [],
          error: `the state changed after the plan was reviewed and a new plan differs (now: ${planSignature(again.changes).replaceAll("\n", ", ") || "no changes"}); nothing was applied, the next sync plans and reviews again`,
        };
      }
      plan = again;
      ws = remade.ws;
      applied = await ws.apply(plan, opts.signal);
    }
    const commands = [this.#applyOutput(plan, applied, performance.now() - started)];
    const moduleRecord = { dir: fresh.moduleDir, path: spec.path, vars: spec.vars };
    if (!applied.ok) {
      // What is left to do after the failure, from a new plan: those changes failed, the others were made.
      const after = await this.#plan(stack, spec, opts.signal, fresh).then((p) => p.plan, () => undefined);
      this.#kept.delete(key(stack));
      const left = new Set(effectiveChanges(after?.changes ?? plan.changes).map((c) => c.address));
      const error = `terraform apply failed: ${maskSecretsInText(applied.error ?? "no reason given")}`;
      if (after !== undefined) this.#addresses.set(key(stack), { entries: stateEntries(after), module: moduleRecord });
      return { entries: effectiveChanges(plan.changes).map((c) => appliedEntry(c, left.has(c.address) ? error : undefined)), commands, error };
    }
    const outputs = maskedOutputs(applied.outputs);
    this.#addresses.set(key(stack), { entries: stateEntries(plan), outputs, module: moduleRecord });
    return { entries: [...effectiveChanges(plan.changes).map((c) => appliedEntry(c)), ...outputEntries(outputs)], commands };
  }

  /** Terraform's own output of an apply, for the sync's record: capped and masked by the workspace. */
  #applyOutput(plan: TerraformPlan, applied: TerraformApply, ms: number): CommandOutput {
    return {
      phase: "terraform-apply",
      command: [this.#o.target.binary, "apply", basename(plan.planFile)],
      // Terraform's apply exits 1 on any error.
      exitCode: applied.ok ? 0 : 1,
      output: applied.log,
      durationMs: Math.round(ms),
    };
  }

  async #workspace(stack: StackRef, spec: ModuleSpec): Promise<{ ws: TerraformWorkspace; key: string; moduleDir: string }> {
    const moduleDir = await materializeModule(this.#o.cacheDir, stack, spec);
    const ws = new TerraformWorkspace(this.#o.target, { ...stack, moduleDir, vars: spec.vars, cacheDir: this.#o.cacheDir }, { runner: this.#o.runner });
    const planKey = createHash("sha256").update(JSON.stringify([spec.filesHash, spec.vars])).digest("hex");
    return { ws, key: planKey, moduleDir };
  }

  /** Plans with `made` (the module already materialized for this spec), or materializes it first. */
  async #plan(stack: StackRef, spec: ModuleSpec, signal: AbortSignal | undefined, made?: { ws: TerraformWorkspace; key: string; moduleDir: string }): Promise<{ plan: TerraformPlan; ws: TerraformWorkspace }> {
    const { ws, key: planKey, moduleDir } = made ?? await this.#workspace(stack, spec);
    const plan = await ws.plan(signal === undefined ? {} : { signal }).catch((e: unknown) => {
      // Errors name the module as the repository has it, not gitward's private copy of it.
      if (!(e instanceof GitwardError)) throw e;
      throw new GitwardError(e.code, e.detail.replaceAll(moduleDir, spec.path), { ...(e.hint === undefined ? {} : { hint: e.hint }), cause: e });
    });
    this.#kept.set(key(stack), { key: planKey, at: Date.now(), plan, ws });
    return { plan, ws };
  }

  /**
   * The stack's outputs from its state (`terraform output -json`), raw; with `planned`, as the
   * plan of `desired` would leave them (the plan is kept for a transact, as a diff's is).
   */
  async outputs(stack: StackRef, desired: readonly DesiredObject[], opts: OutputsOptions = {}): Promise<Readonly<Record<string, StackOutput>>> {
    const module = moduleOf(desired);
    if (module === undefined) throw new Error(`stack ${stack.stack} has no Module object: its outputs cannot be read`);
    return this.#o.locks.run(key(stack), async () => {
      const made = await this.#workspace(stack, module.spec);
      const state = await made.ws.outputs(opts.signal);
      const current = Object.fromEntries(Object.entries(state).map(([name, o]) => [name, { ...o, known: true }]));
      if (opts.planned !== true) return current;
      const { plan } = await this.#plan(stack, module.spec, opts.signal, made);
      return plannedOutputs(current, plan);
    }, opts.signal);
  }

  /** A plain apply is a transact without pruning: Terraform deletes what the module no longer declares either way. */
  async apply(desired: readonly DesiredObject[], opts: ApplyOptions): Promise<readonly ChangeSetEntry[]> {
    return (await this.transact(desired, [], { ...opts, prune: true })).entries;
  }

  /**
   * Destroys the stack (its whole state) with a destroy plan of the last module synced: the
   * only removal a Terraform stack has. With `review`, the destroy plan is applied only when
   * the review allows it. Refs that are not the stack's resources are ignored.
   */
  async remove(refs: readonly { readonly ref: ObjRef; readonly apiVersion: string }[], opts: RemoveOptions): Promise<readonly ChangeSetEntry[]> {
    if (refs.length === 0) return [];
    const inv = await readTerraformInventory(this.#o.cacheDir, opts.stack);
    if (inv?.module === undefined) return refs.map((r) => ({ ...r, action: "skipped" as const, message: "no module was synced for this stack here: nothing to destroy" }));
    const mod = inv.module;
    return this.#o.locks.run(key(opts.stack), async () => {
      const ws = new TerraformWorkspace(this.#o.target, { ...opts.stack, moduleDir: mod.dir, vars: mod.vars, cacheDir: this.#o.cacheDir }, { runner: this.#o.runner });
      await ws.init(opts.signal);
      const plan = await ws.plan({ destroy: true, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
      // The destroy plan is reviewed as a sync's plan is, and only the plan reviewed is applied.
      const verdict = opts.review === undefined ? undefined : await opts.review(reviewObjects(plan.changes));
      if (verdict?.allowed === false) {
        return effectiveChanges(plan.changes).map((c) => ({ ...appliedEntry(c), action: "skipped" as const, message: `not destroyed: ${verdict.message ?? "the destroy plan was refused"}` }));
      }
      if (opts.dryRun) return effectiveChanges(plan.changes).map((c) => ({ ...appliedEntry(c), message: "dry run" }));
      const applied = await ws.apply(plan, opts.signal);
      const error = applied.ok ? undefined : `terraform destroy failed: ${maskSecretsInText(applied.error ?? "no reason given")}`;
      this.#addresses.set(key(opts.stack), { entries: applied.ok ? [] : inv.entries });
      return effectiveChanges(plan.changes).map((c) => appliedEntry(c, error));
    }, opts.signal);
  }

  /** A Terraform apply has finished when it returns: everything it made is as healthy as Terraform knows. */
  wait(refs: readonly ObjRef[], _opts: WaitOptions): Promise<HealthReport> {
    return Promise.resolve({ entries: refs.map((ref) => ({ ref, health: "healthy" as const })), timedOut: false });
  }

  /** The stack's inventory: the addresses in its state after the last sync, and its outputs. */
  readInventory(stack: StackRef): Promise<Inventory | undefined> {
    return readTerraformInventory(this.#o.cacheDir, stack);
  }

  /** The environment's Terraform stacks with an inventory on this target. */
  listInventories(environment: string, opts: ListInventoriesOptions = {}): Promise<readonly InventorySummary[]> {
    return listTerraformInventories(this.#o.cacheDir, environment, this.#o.targetName, opts.except);
  }

  /** Writes the inventory with the addresses and outputs of the sync just made (the engine knows only the Module). */
  async writeInventory(inventory: Inventory): Promise<void> {
    const known = this.#addresses.get(key(inventory.stack));
    const previous = await readTerraformInventory(this.#o.cacheDir, inventory.stack);
    const entries = known?.entries ?? previous?.entries ?? inventory.entries.filter((e) => e.ref.kind !== "Module");
    const outputs = known?.outputs ?? previous?.outputs;
    const module = known?.module ?? previous?.module;
    await writeTerraformInventory(this.#o.cacheDir, { ...inventory, target: this.#o.targetName, entries, ...(outputs === undefined ? {} : { outputs }), ...(module === undefined ? {} : { module }) });
  }

  /** Forgets the stack's inventory (after a destroy). */
  deleteInventory(stack: StackRef): Promise<void> {
    return deleteTerraformInventory(this.#o.cacheDir, stack);
  }

  /** Nothing is held open between calls. */
  async close(): Promise<void> {
    // Nothing to close.
  }
}

function key(stack: StackRef): string {
  return `${stack.environment}/${stack.stack}`;
}

/**
 * An update's changed attributes as the entry's drift fields (the paths of its attribute diff),
 * so a drift check records which attributes of which address differ, not only the address.
 */
function withAttributes(entry: DiffEntry, change: ResourceChange): DiffEntry {
  if (entry.action !== "update") return entry;
  const fields = [...new Set(change.diff.split("\n").map((l) => /^[+~-] ([^\s:=]+)/.exec(l)?.[1]).filter((f): f is string => f !== undefined))];
  return fields.length === 0 ? entry : { ...entry, drift: fields.map((field) => ({ field })) };
}

/** The engine's review of a plan; a denial is a failed transaction that changed nothing. */
async function review(plan: TerraformPlan, reviewer: TransactOptions["review"]): Promise<TransactResult | undefined> {
  if (reviewer === undefined) return undefined;
  const verdict: PlanReview = await reviewer(reviewObjects(plan.changes));
  if (verdict.allowed) return undefined;
  const message = verdict.message ?? "the planned changes were refused";
  return {
    entries: effectiveChanges(plan.changes).map((c) => ({ ...appliedEntry(c), action: "skipped" as const, message: "not applied: the plan was refused" })),
    commands: [],
    error: `plan refused: ${message}; nothing was applied`,
  };
}

/** The outputs once `plan` is applied: unchanged ones as they are, changed ones as planned (not known when the plan does not know them, or they are sensitive). */
function plannedOutputs(current: Readonly<Record<string, StackOutput>>, plan: TerraformPlan): Record<string, StackOutput> {
  const out: Record<string, StackOutput> = { ...current };
  for (const c of plan.outputChanges) {
    if (c.action === "no-op") continue;
    if (c.action === "delete") delete out[c.name];
    else out[c.name] = c.after === undefined || c.sensitive ? { value: undefined, sensitive: c.sensitive, known: false } : { value: c.after, sensitive: false, known: true };
  }
  return out;
}

/** The addresses that exist once a plan is applied: everything but deletes and data sources. */
function stateEntries(plan: TerraformPlan): Inventory["entries"] {
  return plan.changes
    .filter((c) => c.action !== "delete" && c.action !== "read" && !/(^|\.)data\./.test(c.address))
    .map((c) => ({ ref: { group: terraformGroup, kind: c.type, name: c.address }, apiVersion: terraformApiVersion }));
}

function maskedOutputs(outputs: Readonly<Record<string, TerraformOutput>>): Readonly<Record<string, TerraformOutput>> {
  return Object.fromEntries(Object.entries(outputs).map(([name, o]) => [name, { value: o.sensitive ? sensitiveMarker : o.value, sensitive: o.sensitive }]));
}

/** The outputs as entries of the sync, so its history shows them (masked): kind Output, named by the output. */
function outputEntries(outputs: Readonly<Record<string, TerraformOutput>>): ChangeSetEntry[] {
  return Object.entries(outputs).map(([name, o]) => ({
    ref: { group: terraformGroup, kind: "Output", name },
    apiVersion: terraformApiVersion,
    action: "unchanged" as const,
    message: `output ${name} = ${o.sensitive ? sensitiveMarker : JSON.stringify(o.value)}`.slice(0, 2000),
  }));
}
