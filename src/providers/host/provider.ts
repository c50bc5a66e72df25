import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { ProcessRunner, type CommandRunner } from "../../core/command-runner.ts";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import type { Provider, ProviderContext, TargetSession } from "../provider.ts";
import { resolveHostCommands } from "./resolve-commands.ts";
import { RootLocks } from "./root-locks.ts";
import { HostSession } from "./session.ts";

/** Options of {@link hostProvider}. */
export interface HostProviderOptions {
  readonly runner?: CommandRunner;
  /** Serializes syncs per root; default a new one for this provider. Providers given the same instance queue with each other. */
  readonly locks?: RootLocks;
}

/**
 * The host provider: files and directories under a target's `root` on the machine gitward runs
 * on, with the target's `check`, `reload` and `health` commands around each change. The root
 * must exist: gitward does not guess where a service's configuration lives. gitward.yaml only
 * names the commands; their argument arrays come from `ctx.hostCommands` (the runner's own
 * configuration), and a target whose names do not resolve can be read (diff) but not synced.
 */
export function hostProvider(options: HostProviderOptions = {}): Provider {
  const runner = options.runner ?? new ProcessRunner();
  // Shared by every session this provider opens: their syncs of one root queue instead of failing on the lock.
  const locks = options.locks ?? new RootLocks();
  return {
    name: "host",
    async open(targetName: string, target: Readonly<Record<string, unknown>>, ctx: ProviderContext): Promise<TargetSession> {
      const rootField = ctx.hostRoots?.[targetName] ?? target["root"];
      if (typeof rootField !== "string" || rootField === "") {
        throw new GitwardError(ErrorCode.Config, `target ${targetName}: root must be a non-empty path`, { subject: { keyPath: `targets.${targetName}.root` } });
      }
      const root = resolve(rootField);
      const info = await stat(root).catch((e: NodeJS.ErrnoException) => {
        throw new GitwardError(ErrorCode.Config, `target ${targetName}: root ${root} cannot be used: ${e.code ?? e.message}`, {
          subject: { keyPath: `targets.${targetName}.root` }, hint: "create the directory first; gitward does not create a target's root",
        });
      });
      if (!info.isDirectory()) throw new GitwardError(ErrorCode.Config, `target ${targetName}: root ${root} is not a directory`);
      return new HostSession({ root, commands: resolveHostCommands(targetName, target, ctx.hostCommands?.[targetName]), runner, locks });
    },
  };
}
