import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ProcessRunner, type CommandResult, type CommandRunner, type CommandSpec } from "../../src/core/command-runner.ts";
import type { TerraformStack, TerraformTarget, TerraformVarValue } from "../../src/providers/terraform/types.ts";
import { TerraformWorkspace } from "../../src/providers/terraform/workspace.ts";

/** The Terraform binary the tests run: `$GITWARD_TEST_TERRAFORM`, else `terraform` on PATH. */
export const terraformBinary = process.env["GITWARD_TEST_TERRAFORM"] ?? "terraform";

/**
 * Throws, with what to do, when the Terraform binary cannot run: these tests need the real
 * one and fail (never skip) without it.
 */
export function requireTerraform(): string {
  try {
    return execFileSync(terraformBinary, ["version"], { encoding: "utf8", env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null" } }).split("\n")[0] ?? "";
  } catch (e: unknown) {
    throw new Error(`the Terraform tests need the terraform binary (${terraformBinary}), which cannot run: ${(e as Error).message}. Install Terraform 1.11 or set GITWARD_TEST_TERRAFORM.`);
  }
}

/** A command runner that counts the Terraform subcommands it runs (`init`, `plan`, ...). */
export class CountingRunner implements CommandRunner {
  readonly counts = new Map<string, number>();
  readonly #inner = new ProcessRunner();

  run(spec: CommandSpec): Promise<CommandResult> {
    const sub = spec.args[0] ?? "";
    this.counts.set(sub, (this.counts.get(sub) ?? 0) + 1);
    return this.#inner.run(spec);
  }

  /** How many times `sub` ran. */
  count(sub: string): number {
    return this.counts.get(sub) ?? 0;
  }
}

/** A temporary place for Terraform tests: modules, a cache, state and side effects outside any repository, and an empty CLI configuration. */
export interface TfSandbox {
  readonly dir: string;
  /** An empty CLI configuration file (the machine's may point at a missing file, which Terraform warns about). */
  readonly cliConfig: string;
  readonly cacheDir: string;
  /** Where local-exec provisioners write their side effects. */
  readonly effects: string;
  /** Writes a module's files under `modules/<name>` and returns its directory. */
  module(name: string, files: Readonly<Record<string, string>>): string;
  /** A target with the local backend keeping its state at `state/<name>.tfstate`. */
  target(stateName: string, extra?: Partial<TerraformTarget>): TerraformTarget;
  /** The state file a target of {@link target} uses. */
  statePath(stateName: string): string;
  stack(moduleDir: string, vars?: Readonly<Record<string, TerraformVarValue>>, name?: string): TerraformStack;
  workspace(target: TerraformTarget, stack: TerraformStack, runner?: CommandRunner): TerraformWorkspace;
  /**
   * Runs terraform outside gitward, in a module directory of its own initialized on the same
   * state (an operator's `terraform apply` beside the agent). Returns its output; throws on failure.
   */
  outOfBand(moduleDir: string, stateName: string, args: readonly string[]): string;
  remove(): void;
}

/** Makes a {@link TfSandbox} under the system's temporary directory. */
export function makeTfSandbox(): TfSandbox {
  const dir = mkdtempSync(join(tmpdir(), "gitward-tf-"));
  const cliConfig = join(dir, "terraform.rc");
  writeFileSync(cliConfig, "");
  const cacheDir = join(dir, "cache", "terraform");
  const effects = join(dir, "effects");
  mkdirSync(effects, { recursive: true });
  mkdirSync(join(dir, "state"), { recursive: true });
  const env = { TF_CLI_CONFIG_FILE: cliConfig };
  const statePath = (name: string): string => join(dir, "state", `${name}.tfstate`);
  const sb: TfSandbox = {
    dir, cliConfig, cacheDir, effects,
    module(name, files) {
      const m = join(dir, "modules", name);
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(dirname(join(m, file)), { recursive: true });
        writeFileSync(join(m, file), text);
      }
      return m;
    },
    target: (stateName, extra = {}) => ({ binary: terraformBinary, backendConfig: { path: statePath(stateName) }, env, ...extra }),
    statePath,
    stack: (moduleDir, vars = {}, name = "net") => ({ environment: "dev", stack: name, moduleDir, vars, cacheDir }),
    workspace: (target, stack, runner = new ProcessRunner()) => new TerraformWorkspace(target, stack, { runner, timeoutMs: 120_000, lockTimeoutMs: 5_000 }),
    outOfBand(moduleDir, stateName, args) {
      const work = mkdtempSync(join(dir, "oob-"));
      execFileSync("cp", ["-r", `${moduleDir}/.`, work]);
      const run = (a: readonly string[]): string =>
        execFileSync(terraformBinary, [...a], { cwd: work, encoding: "utf8", env: { ...process.env, ...env, TF_IN_AUTOMATION: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      run(["init", "-input=false", "-no-color", `-backend-config=path=${statePath(stateName)}`]);
      return run([...args]);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  return sb;
}

/** A backend block for the local backend, whose path gitward passes as backend configuration. */
export const localBackend = `terraform {
  backend "local" {}
}
`;
