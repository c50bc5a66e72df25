import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { commandsForEnvironment, hostCommandsFileSchema, type HostCommandsByTarget } from "../providers/host/command-definitions.ts";

/**
 * Reads the file of `--host-commands`: what the host targets of a push may run, defined by
 * whoever runs the push, never by the repository. Its shape is the agent configuration's
 * `targets.<target>.commands`, one level up:
 *
 * ```yaml
 * edge:                      # a target, or environment/target
 *   nginx-test: [nginx, -t, -q, -c, "{staged}/nginx.conf"]
 *   nginx-reload: { command: [nginx, -s, reload], timeoutSeconds: 30 }
 * ```
 *
 * Returns the definitions for `environment`'s targets. Errors name the file and the key.
 */
export async function loadHostCommandsFile(path: string, environment: string): Promise<HostCommandsByTarget> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e: unknown) {
    throw new GitwardError(ErrorCode.Config, `--host-commands ${path}: cannot read it: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new GitwardError(ErrorCode.Config, `--host-commands ${path}: ${doc.errors[0]?.message ?? "invalid YAML"}`);
  const parsed = hostCommandsFileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GitwardError(ErrorCode.Config, `--host-commands ${path}: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`, {
      hint: "a map of target (or environment/target) to command name to an argument array or {command, timeoutSeconds}; see docs/host.md#commands",
    });
  }
  return commandsForEnvironment(parsed.data, environment);
}
