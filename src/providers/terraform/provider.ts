import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { ProcessRunner, type CommandRunner } from "../../core/command-runner.ts";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import type { Provider, ProviderContext, TargetSession } from "../provider.ts";
import { OperationLocks } from "./locks.ts";
import { TerraformSession } from "./session.ts";
import type { TerraformTarget } from "./types.ts";

/** gitward's default cache directory, as the engine's workspace computes it: $GITWARD_CACHE_DIR, else $XDG_CACHE_HOME/gitward, else ~/.cache/gitward. */
function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env["GITWARD_CACHE_DIR"];
  if (own !== undefined && own !== "") return own;
  const xdg = env["XDG_CACHE_HOME"];
  return join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".cache"), "gitward");
}

/** Options of {@link terraformProvider}. */
export interface TerraformProviderOptions {
  readonly runner?: CommandRunner;
}

/** Why a Terraform target's credentials are not all there, or undefined when they are. */
export async function missingCredentials(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): Promise<string | undefined> {
  const names = Array.isArray(target["env"]) ? target["env"].filter((n): n is string => typeof n === "string") : [];
  const given = ctx.targetEnv?.[targetName] ?? {};
  const missing = names.filter((n) => given[n] === undefined && process.env[n] === undefined);
  if (missing.length > 0) {
    return `target ${targetName}: environment variable${missing.length === 1 ? "" : "s"} ${missing.join(", ")} named in env ${missing.length === 1 ? "is" : "are"} set neither in the agent configuration (targets.${targetName}.env) nor in the runner's environment`;
  }
  const file = backendConfigFile(targetName, target, ctx);
  if (file !== undefined && !(await stat(file).then((s) => s.isFile(), () => false))) {
    return `target ${targetName}: backendConfigFile ${file} is not a file on this runner`;
  }
  return undefined;
}

/** The backend configuration file: the runner's (the agent configuration's) over gitward.yaml's. */
function backendConfigFile(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): string | undefined {
  const own = ctx.backendConfigFiles?.[targetName];
  if (own !== undefined) return own;
  return typeof target["backendConfigFile"] === "string" ? target["backendConfigFile"] : undefined;
}

/** The target as the workspace runs it: gitward.yaml's settings and the runner's values of the names in `env`. */
export function resolveTerraformTarget(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): TerraformTarget {
  const names = Array.isArray(target["env"]) ? target["env"].filter((n): n is string => typeof n === "string") : [];
  const given = ctx.targetEnv?.[targetName] ?? {};
  const env: Record<string, string> = {};
  for (const n of names) {
    const value = given[n] ?? process.env[n];
    if (value !== undefined) env[n] = value;
  }
  const backendConfig = target["backendConfig"];
  const file = backendConfigFile(targetName, target, ctx);
  return {
    binary: typeof target["binary"] === "string" ? target["binary"] : "terraform",
    ...(typeof backendConfig === "object" && backendConfig !== null ? { backendConfig: backendConfig as Record<string, string> } : {}),
    ...(file === undefined ? {} : { backendConfigFile: file }),
    ...(typeof target["workspace"] === "string" ? { workspace: target["workspace"] } : {}),
    ...(names.length === 0 ? {} : { env }),
  };
}

/**
 * The Terraform provider: each stack of a `provider: terraform` target is a root module,
 * planned and applied by the `terraform` (or `tofu`) program in a private working directory
 * under `<cache>/terraform`. gitward.yaml names the environment variables Terraform needs;
 * their values come from the runner, and a target missing one cannot be opened.
 */
export function terraformProvider(options: TerraformProviderOptions = {}): Provider {
  const runner = options.runner ?? new ProcessRunner();
  // Shared by every session: two sessions of one target (a definition change) never plan one stack at once.
  const locks = new OperationLocks();
  return {
    name: "terraform",
    async open(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): Promise<TargetSession> {
      const missing = await missingCredentials(targetName, target, ctx);
      if (missing !== undefined) throw new GitwardError(ErrorCode.Config, missing, { subject: { keyPath: `targets.${targetName}` } });
      const cacheDir = join(ctx.cacheDir ?? defaultCacheDir(), "terraform");
      return new TerraformSession({ targetName, target: resolveTerraformTarget(targetName, target, ctx), cacheDir, runner, locks });
    },
  };
}
