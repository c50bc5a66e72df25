import type { CommandRunner } from "../../core/command-runner.ts";
import type { HostCommands } from "./commands.ts";
import type { OwnerResolver } from "./fs/owners.ts";
import type { RegistryCache } from "./registry-cache.ts";
import type { RootLocks } from "./root-locks.ts";

/**
 * What every verb of a {@link HostSession} works with: the root, the target's commands, the
 * command runner, the provider's root locks, and the session's caches. One per open session;
 * the verbs keep no state of their own.
 */
export interface HostSessionContext {
  /** The target root, absolute. */
  readonly root: string;
  readonly commands: HostCommands;
  readonly runner: CommandRunner;
  /** Shared by the provider's sessions: one sync of a root at a time. */
  readonly locks: RootLocks;
  /** The root's path registry for read-only diffs. */
  readonly registry: RegistryCache;
  /** Owner and group names to ids, through getent; what it found is kept for the session. */
  readonly owners: OwnerResolver;
}
