import { existsSync } from "node:fs";
import { join } from "node:path";
import { errorDiagnostics, hasDiagnostic, logOf, maskText, TerraformCli, type TerraformRun } from "./cli.ts";
import { StalePlanError, TerraformError, type TerraformErrorSubject } from "./errors.ts";
import { processLocks, type OperationLocks } from "./locks.ts";
import { outputChanges, parsePlanJson, resourceChanges, sensitiveStrings, type PlanJson } from "./plan-json.ts";
import { applySummary, outputSecrets, parseOutputs, targetSecrets } from "./results.ts";
import type {
  ResourceChange, TerraformApply, TerraformOutput, TerraformPlan, TerraformStack, TerraformTarget, TerraformValidation, TerraformWorkspaceOptions,
} from "./types.ts";
import { validateModule } from "./validate.ts";
import {
  clearInitHash, initInputsHash, prunePlans, storedInitHash, storeInitHash, syncWorkingCopy, workingPaths, type WorkingPaths,
} from "./working-copy.ts";

// Diagnostics that mean the working directory needs `init` again (a module or provider added
// since the last one): the plan is retried once after it.
const needsInit = [
  "Module not installed", "Module source has changed", "Missing required provider", "Required plugins are not installed",
  "Inconsistent dependency lock file", "Backend initialization required", "Backend configuration changed",
];
const stalePlan = ["Saved plan is stale"];
const keptPlans = 8;

/** Options of {@link TerraformWorkspace.plan}. */
export interface PlanOptions {
  /** Plan the destruction of everything in the state (`plan -destroy`). */
  readonly destroy?: boolean;
  /** Only bring the state up to date with the real resources (`plan -refresh-only`); changes are then what drifted. */
  readonly refreshOnly?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * Runs Terraform (or OpenTofu) for one stack instance in its private working directory under
 * the cache: a copy of the root module with gitward's variables, initialized once per lock
 * file and backend configuration. Operations on one working directory run one at a time;
 * Terraform's state lock keeps other processes out. Everything returned for display is masked.
 */
export class TerraformWorkspace {
  readonly #target: TerraformTarget;
  readonly #stack: TerraformStack;
  readonly #paths: WorkingPaths;
  readonly #cli: TerraformCli;
  readonly #locks: OperationLocks;
  readonly #lockTimeout: string;
  readonly #targetSecrets: ReadonlySet<string>;
  // The secrets of each saved plan, to mask its apply's output without reading the plan again.
  readonly #planSecrets = new Map<string, ReadonlySet<string>>();
  #initRuns = 0;

  constructor(target: TerraformTarget, stack: TerraformStack, opts: TerraformWorkspaceOptions) {
    this.#target = target;
    this.#stack = stack;
    this.#paths = workingPaths(stack);
    this.#locks = opts.locks ?? processLocks;
    this.#lockTimeout = `${Math.ceil((opts.lockTimeoutMs ?? 60_000) / 1000)}s`;
    this.#targetSecrets = targetSecrets(target);
    this.#cli = new TerraformCli({
      runner: opts.runner,
      binary: target.binary,
      env: {
        ...target.env,
        TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1",
        TF_DATA_DIR: this.#paths.dataDir, TF_PLUGIN_CACHE_DIR: this.#paths.pluginCache,
      },
      timeoutMs: opts.timeoutMs ?? 3_600_000,
      logger: opts.logger,
      label: `${stack.environment}/${stack.stack}`,
    });
  }

  /** The private working directory of this stack instance. */
  get workingDir(): string {
    return this.#paths.dir;
  }

  /** How many times this workspace ran `terraform init` (it runs only when its inputs changed). */
  get initRuns(): number {
    return this.#initRuns;
  }

  /**
   * Copies the module into the working directory (without `.terraform`), writes the variables,
   * and runs `init` when the lock file, backend settings, binary or workspace changed since the
   * last successful one. A module that does not init is a {@link TerraformError} naming it.
   */
  init(signal?: AbortSignal): Promise<void> {
    return this.#exclusive(() => this.#prepare(false, signal), signal);
  }

  /** Makes a saved plan (`plan -out`) and reads it (`show -json`): its changes, masked. */
  plan(opts: PlanOptions = {}): Promise<TerraformPlan> {
    const mode = opts.destroy === true ? ["-destroy"] : opts.refreshOnly === true ? ["-refresh-only"] : [];
    const file = join(this.#paths.plans, `${Date.now().toString().padStart(15, "0")}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.tfplan`);
    return this.#exclusive(async () => {
      await this.#prepare(false, opts.signal);
      const made = await this.#planWithInitRetry(file, mode, opts.signal);
      await prunePlans(this.#paths, keptPlans);
      return made.plan;
    }, opts.signal);
  }

  /**
   * Applies exactly the saved plan. A failed apply is a result (`ok: false`, the error and what
   * completed); a plan made stale by a change of the state since is a {@link StalePlanError}.
   */
  apply(plan: TerraformPlan, signal?: AbortSignal): Promise<TerraformApply> {
    return this.#exclusive(async () => {
      const secrets = await this.#secretsOfPlan(plan.planFile, signal);
      const run = await this.#cli.run(["apply", "-json", "-input=false", "-no-color", "-lock=true", `-lock-timeout=${this.#lockTimeout}`, plan.planFile], this.#paths.root, signal);
      if (hasDiagnostic(run, stalePlan)) throw new StalePlanError(this.#subject(), plan.planFile, this.#diagnostics(run, secrets));
      const ok = run.exitCode === 0;
      const outputs = await this.#readOutputs(signal);
      const all = new Set([...secrets, ...outputSecrets(outputs)]);
      this.#planSecrets.delete(plan.planFile);
      return {
        ok,
        ...(ok ? {} : { error: this.#diagnostics(run, all).join("; ") }),
        outputs,
        log: logOf([run], all),
        summary: applySummary(plan.changes, run.events, ok),
      };
    }, signal);
  }

  /**
   * What differs between the real resources and the configuration: a plan with
   * `-detailed-exitcode`, whose changes (configuration against refreshed state) and drift
   * (changes made outside Terraform) are reported per address, masked.
   */
  drift(signal?: AbortSignal): Promise<ResourceChange[]> {
    return this.#exclusive(async () => {
      await this.#prepare(false, signal);
      const file = join(this.#paths.plans, "drift.plan");
      const made = await this.#planWithInitRetry(file, ["-detailed-exitcode"], signal);
      const changed = made.plan.changes.filter((c) => c.action !== "no-op" && c.action !== "read");
      const seen = new Set(changed.map((c) => c.address));
      const outside = resourceChanges(made.json, true, made.secrets).filter((c) => !seen.has(c.address) && c.action !== "no-op");
      return [...changed, ...outside];
    }, signal);
  }

  /** The current outputs with their raw values (callers mask the sensitive ones before showing them). */
  outputs(signal?: AbortSignal): Promise<Record<string, TerraformOutput>> {
    return this.#exclusive(async () => {
      await this.#prepare(false, signal);
      return this.#readOutputs(signal);
    }, signal);
  }

  /** Checks the module without a backend: `init -backend=false`, `validate -json` and `fmt -check`. */
  validate(signal?: AbortSignal): Promise<TerraformValidation> {
    return this.#exclusive(async () => {
      await syncWorkingCopy(this.#stack, this.#paths);
      return validateModule(this.#cli, this.#paths, this.#targetSecrets, signal);
    }, signal);
  }

  #exclusive<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#locks.run(this.#paths.dir, fn, signal);
  }

  #subject(): TerraformErrorSubject {
    return { environment: this.#stack.environment, stack: this.#stack.stack, moduleDir: this.#stack.moduleDir };
  }

  #diagnostics(run: TerraformRun, secrets: ReadonlySet<string>): string[] {
    return errorDiagnostics(run).map((d) => maskText(d, secrets));
  }

  async #prepare(force: boolean, signal?: AbortSignal): Promise<void> {
    await syncWorkingCopy(this.#stack, this.#paths);
    const hash = await initInputsHash(this.#target, this.#stack);
    if (!force && existsSync(this.#paths.dataDir) && (await storedInitHash(this.#paths)) === hash) return;
    await clearInitHash(this.#paths);
    this.#initRuns++;
    const backend = [
      ...Object.entries(this.#target.backendConfig ?? {}).map(([k, v]) => `-backend-config=${k}=${v}`),
      ...(this.#target.backendConfigFile === undefined ? [] : [`-backend-config=${this.#target.backendConfigFile}`]),
    ];
    const run = await this.#cli.run(["init", "-input=false", "-no-color", "-reconfigure", ...backend], this.#paths.root, signal);
    if (run.exitCode !== 0) throw new TerraformError(this.#subject(), "init", this.#diagnostics(run, this.#targetSecrets));
    if (this.#target.workspace !== undefined) {
      const ws = await this.#cli.run(["workspace", "select", "-or-create=true", this.#target.workspace], this.#paths.root, signal);
      if (ws.exitCode !== 0) throw new TerraformError(this.#subject(), `workspace select ${this.#target.workspace}`, this.#diagnostics(ws, this.#targetSecrets));
    }
    await storeInitHash(this.#paths, hash);
  }

  async #planWithInitRetry(file: string, mode: readonly string[], signal?: AbortSignal): Promise<{ plan: TerraformPlan; json: PlanJson; secrets: ReadonlySet<string> }> {
    const args = ["plan", "-json", "-input=false", "-no-color", "-lock=true", `-lock-timeout=${this.#lockTimeout}`, `-out=${file}`, ...mode];
    let run = await this.#cli.run(args, this.#paths.root, signal);
    if (run.exitCode === 1 && hasDiagnostic(run, needsInit)) {
      await this.#prepare(true, signal);
      run = await this.#cli.run(args, this.#paths.root, signal);
    }
    // 2 is "changes present" under -detailed-exitcode.
    if (run.exitCode !== 0 && !(run.exitCode === 2 && mode.includes("-detailed-exitcode"))) {
      throw new TerraformError(this.#subject(), `plan${mode.length === 0 ? "" : ` ${mode.join(" ")}`}`, this.#diagnostics(run, this.#targetSecrets));
    }
    const json = await this.#show(file, signal);
    const secrets = new Set([...this.#targetSecrets, ...sensitiveStrings(json)]);
    this.#planSecrets.set(file, secrets);
    const drift = mode.includes("-refresh-only");
    const changes = resourceChanges(json, drift, secrets);
    const outputs = outputChanges(json, secrets);
    const hasChanges = changes.some((c) => c.action !== "no-op" && c.action !== "read") || outputs.some((o) => o.action !== "no-op");
    return { plan: { planFile: file, changes, outputChanges: outputs, hasChanges, log: logOf([run], secrets) }, json, secrets };
  }

  async #show(file: string, signal?: AbortSignal): Promise<PlanJson> {
    const run = await this.#cli.run(["show", "-json", "-no-color", file], this.#paths.root, signal);
    if (run.exitCode !== 0) throw new TerraformError(this.#subject(), "show", this.#diagnostics(run, this.#targetSecrets));
    return parsePlanJson(run.stdout);
  }

  async #secretsOfPlan(file: string, signal?: AbortSignal): Promise<ReadonlySet<string>> {
    const known = this.#planSecrets.get(file);
    if (known !== undefined) return known;
    // A plan made by another workspace object (or before a restart): read its secrets from it.
    if (!existsSync(file)) throw new TerraformError(this.#subject(), "apply", [`the saved plan ${file} does not exist`]);
    return new Set([...this.#targetSecrets, ...sensitiveStrings(await this.#show(file, signal))]);
  }

  async #readOutputs(signal?: AbortSignal): Promise<Record<string, TerraformOutput>> {
    const run = await this.#cli.run(["output", "-json", "-no-color"], this.#paths.root, signal);
    if (run.exitCode !== 0) throw new TerraformError(this.#subject(), "output", this.#diagnostics(run, this.#targetSecrets));
    return parseOutputs(run.stdout);
  }
}
