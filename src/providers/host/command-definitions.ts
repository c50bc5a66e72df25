import { z } from "zod";
import type { HostCommandDefinition } from "../provider.ts";

/**
 * The shapes in which a runner defines the commands its host targets may run: in the agent
 * configuration (`targets.<target>.commands`) and in the file of `gitward apply --host-commands`.
 * gitward.yaml only names them; these are the only place an argument array comes from.
 */

/** A command name, as gitward.yaml writes it in `check`, `reload` and `health`. */
export const commandNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The message for a name that is not one. */
export const commandNameMessage = "must be a command name (letters, digits, '.', '_', '-'; at most 63)";

/** A key of a runner's targets: `target`, or `environment/target` for one environment only. */
export const targetKeyPattern = /^(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\/)?[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

/** Seconds a check or reload may run when its definition does not say. */
export const defaultCommandTimeoutSeconds = 60;

const argv = z.array(z.string().min(1)).min(1).describe("A program and its arguments; never a shell string. {staged} and {root} are replaced.");

/** One definition: an argument array, or `{command, timeoutSeconds}`. */
export const hostCommandDefinitionSchema = z
  .union([
    argv,
    z.strictObject({
      command: argv,
      timeoutSeconds: z.number().positive().max(3600).optional()
        .describe(`Seconds one run may take before it and every process it started are killed; default ${defaultCommandTimeoutSeconds}.`),
    }),
  ], { error: "must be an argument array ([program, arg, ...], never a shell string) or {command: [program, arg, ...], timeoutSeconds}" })
  .transform((d): HostCommandDefinition => {
    if (Array.isArray(d)) return { command: d };
    return d.timeoutSeconds === undefined ? { command: d.command } : { command: d.command, timeoutSeconds: d.timeoutSeconds };
  });

/** The commands of one target, by name. */
export const hostCommandSetSchema = z.record(z.string().regex(commandNamePattern, commandNameMessage), hostCommandDefinitionSchema);

/** The file of `--host-commands`: target (or `environment/target`) → command name → definition. */
export const hostCommandsFileSchema = z.record(
  z.string().regex(targetKeyPattern, "must be a target name, or environment/target"),
  hostCommandSetSchema,
);

/** A runner's command definitions by target key, as {@link hostCommandsFileSchema} parses them. */
export type HostCommandsByTarget = Readonly<Record<string, Readonly<Record<string, HostCommandDefinition>>>>;

/**
 * The definitions for the targets of one environment: an `environment/target` entry replaces the
 * `target` entry as a whole (as the agent's credentials do), and entries of other environments
 * are left out.
 */
export function commandsForEnvironment(all: HostCommandsByTarget, environment: string): HostCommandsByTarget {
  const out: Record<string, Readonly<Record<string, HostCommandDefinition>>> = {};
  for (const [key, set] of Object.entries(all)) if (!key.includes("/")) out[key] = set;
  for (const [key, set] of Object.entries(all)) {
    const [env, target] = key.split("/");
    if (env === environment && target !== undefined) out[target] = set;
  }
  return out;
}
