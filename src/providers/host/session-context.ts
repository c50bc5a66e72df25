import type { CommandRunner } from "../../core/command-runner.ts";
import type { OwnerResolver } from "./fs/owners.ts";
import type { RegistryCache } from "./registry-cache.ts";
import type { CommandsResolution } from "./resolve-commands.ts";
import type { RootLocks } from "./root-locks.ts";

/**
 * What every verb of a {@link HostSession} works with: the root, the target's commands (or why
 * it may run none), the command runner, the provider's root locks, and the session's caches.
 * One per open session; the verbs keep no state of their own.
 */
export interface HostSessionContext {
  /** The target root, absolute. */
  readonly root: string;
  /** Resolved when the session opened; a sync fails with its error before changing anything. */
  readonly commands: CommandsResolution;
  readonly runner: CommandRunner;
  /** Shared by the provider's sessions: one sync of a root at a time. */
  readonly locks: RootLocks;
  /** The root's path registry for read-only diffs. */
  readonly registry: RegistryCache;
  /** Owner and group names to ids, through getent; what it found is kept for the session. */
  readonly owners: OwnerResolver;
}
