import { ErrorCode, GitwardError } from "../../core/errors.ts";
import type { HostCommandDefinition } from "../provider.ts";
import { defaultCommandTimeoutSeconds } from "./command-definitions.ts";
import type { HealthCommand, HostCommand, HostCommands } from "./commands.ts";

/**
 * The commands of a host target, or why it has none it may run. gitward.yaml names them; only
 * the runner's definitions (agent configuration, `--host-commands`) give them an argument array.
 */
export type CommandsResolution =
  | { readonly ok: true; readonly commands: HostCommands }
  | { readonly ok: false; readonly error: GitwardError };

type Phase = "check" | "reload" | "health";

/** How a health command is tried when gitward.yaml gives only its name. */
const healthDefaults = { attempts: 10, intervalSeconds: 1, timeoutSeconds: 10 } as const;

/**
 * Resolves the names in a host target's `check`, `reload` and `health` against the runner's
 * definitions for that target. An argument array written in gitward.yaml, or a name the runner
 * does not define, resolves to an error that names the target, the field and the command, and
 * says where to define it: the caller then runs nothing.
 */
export function resolveHostCommands(
  targetName: string,
  target: Readonly<Record<string, unknown>>,
  definitions: Readonly<Record<string, HostCommandDefinition>> | undefined,
): CommandsResolution {
  const missing: { phase: Phase; name: string }[] = [];
  const lookup = (phase: Phase, name: string): HostCommandDefinition | undefined => {
    const def = definitions !== undefined && Object.hasOwn(definitions, name) ? definitions[name] : undefined;
    if (def === undefined) missing.push({ phase, name });
    return def;
  };
  try {
    const plain = (phase: "check" | "reload"): HostCommand | undefined => {
      const name = nameIn(targetName, phase, target[phase]);
      const def = name === undefined ? undefined : lookup(phase, name);
      return name === undefined || def === undefined ? undefined : { name, argv: def.command, timeoutMs: seconds(def.timeoutSeconds ?? defaultCommandTimeoutSeconds) };
    };
    const check = plain("check");
    const reload = plain("reload");
    const health = healthOf(targetName, target["health"], lookup);
    if (missing.length > 0) return { ok: false, error: undefinedNames(targetName, missing) };
    return { ok: true, commands: { ...(check === undefined ? {} : { check }), ...(reload === undefined ? {} : { reload }), ...(health === undefined ? {} : { health }) } };
  } catch (e: unknown) {
    if (e instanceof GitwardError) return { ok: false, error: e };
    throw e;
  }
}

function healthOf(targetName: string, value: unknown, lookup: (phase: Phase, name: string) => HostCommandDefinition | undefined): HealthCommand | undefined {
  if (value === undefined) return undefined;
  const o: Readonly<Record<string, unknown>> = typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : { command: value };
  const name = nameIn(targetName, "health", o["command"]);
  if (name === undefined) return undefined;
  const def = lookup("health", name);
  if (def === undefined) return undefined;
  const num = (key: keyof typeof healthDefaults): number => (typeof o[key] === "number" ? o[key] : healthDefaults[key]);
  // The runner's limit bounds a try too: gitward.yaml may ask for less, never for more.
  const trySeconds = Math.min(num("timeoutSeconds"), def.timeoutSeconds ?? Number.POSITIVE_INFINITY);
  return { command: { name, argv: def.command, timeoutMs: seconds(trySeconds) }, attempts: num("attempts"), intervalMs: seconds(num("intervalSeconds")) };
}

/** The command name a field holds; an argument array or anything else is refused. */
function nameIn(targetName: string, phase: Phase, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && value !== "") return value;
  if (Array.isArray(value)) throw inlineCommandError(targetName, phase, value);
  throw new GitwardError(ErrorCode.Config, `target ${targetName}: ${phase} must be the name of a command the runner defines, not ${typeof value}`);
}

/** The commands, or the error that keeps the target from running any (thrown before anything is changed). */
export function requireCommands(resolution: CommandsResolution): HostCommands {
  if (!resolution.ok) throw resolution.error;
  return resolution.commands;
}

/** The migration error for an argument array written in gitward.yaml. */
export function inlineCommandError(targetName: string, phase: Phase, argv: readonly unknown[]): GitwardError {
  return new GitwardError(ErrorCode.Config,
    `target ${targetName}: ${phase} is an argument array (${JSON.stringify(argv)}); gitward.yaml only names commands, and nothing was run`, {
      hint: `write a name (${phase}: my-${phase}) in gitward.yaml and define my-${phase}: ${JSON.stringify(argv)} under targets.${targetName}.commands in the agent configuration, or under ${targetName}: in the --host-commands file of gitward apply (docs/host.md#commands)`,
    });
}

function undefinedNames(targetName: string, missing: readonly { phase: Phase; name: string }[]): GitwardError {
  const what = missing.map((m) => `${m.phase} names the command "${m.name}"`).join(", ");
  const names = [...new Set(missing.map((m) => m.name))].join(", ");
  return new GitwardError(ErrorCode.Config,
    `target ${targetName}: ${what}, which this runner does not define; nothing was run`, {
      hint: `define ${names} under targets.${targetName}.commands in the agent configuration (gitward agent), or under ${targetName}: in the file given to --host-commands (gitward apply), e.g. ${missing[0]?.name ?? "name"}: [program, arg]`,
    });
}

function seconds(s: number): number {
  return Math.round(s * 1000);
}
