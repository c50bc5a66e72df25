import type { CommandRunner } from "../../core/command-runner.ts";
import type { ObjRef } from "../../core/objref.ts";
import type {
  ApplyOptions, ChangeSetEntry, DesiredObject, DiffOptions, DiffSet, HealthReport, Inventory, InventorySummary, ListInventoriesOptions, RemoveOptions,
  StackRef, TargetSession, TransactOptions, TransactResult, WaitOptions,
} from "../provider.ts";
import { createOwnerResolver } from "./fs/owners.ts";
import { RegistryCache } from "./registry-cache.ts";
import type { CommandsResolution } from "./resolve-commands.ts";
import type { RootLocks } from "./root-locks.ts";
import type { HostSessionContext } from "./session-context.ts";
import { diffObjects } from "./session-diff.ts";
import { removeObjects, transactObjects } from "./session-transact.ts";
import { waitForHealth } from "./session-wait.ts";
import { listHostInventories } from "./inventory-list.ts";
import { readHostInventory, writeHostInventory } from "./state.ts";

/** What a {@link HostSession} is opened with. */
export interface HostSessionOptions {
  readonly root: string;
  /** The target's commands, or why it may run none. */
  readonly commands: CommandsResolution;
  readonly runner: CommandRunner;
  /** The provider's root locks, shared by its sessions. */
  readonly locks: RootLocks;
}

/**
 * A session on one host root. A sync is one transaction: plan the operations from a scan of
 * the root, stage the new tree and run `check` against it, swap the files in with backups,
 * run `reload` and `health`, and put everything back (and reload again) if either fails.
 * The provider's {@link RootLocks} queue the syncs of one root and keep other processes out,
 * and a journal lets the next run roll back a sync that was killed half-way. Each verb lives
 * in its own file; this class only routes.
 */
export class HostSession implements TargetSession {
  readonly #ctx: HostSessionContext;

  constructor(opts: HostSessionOptions) {
    this.#ctx = { ...opts, registry: new RegistryCache(opts.root), owners: createOwnerResolver({ runner: opts.runner }) };
  }

  /** The root against the desired objects and the inventory; never writes. */
  diff(desired: readonly DesiredObject[], opts: DiffOptions): Promise<DiffSet> {
    return diffObjects(this.#ctx, desired, opts);
  }

  /** A transaction that writes the desired objects and deletes nothing. */
  async apply(desired: readonly DesiredObject[], opts: ApplyOptions): Promise<readonly ChangeSetEntry[]> {
    return (await transactObjects(this.#ctx, desired, [], { ...opts, prune: false })).entries;
  }

  /** A transaction that deletes the given objects (only files gitward created) and keeps the rest of the stack. */
  async remove(refs: readonly { readonly ref: ObjRef; readonly apiVersion: string }[], opts: RemoveOptions): Promise<readonly ChangeSetEntry[]> {
    return (await removeObjects(this.#ctx, refs, opts)).entries;
  }

  /** One transaction: every change of the stack, or none. */
  transact(desired: readonly DesiredObject[], stale: Inventory["entries"], opts: TransactOptions): Promise<TransactResult> {
    return transactObjects(this.#ctx, desired, stale, opts);
  }

  /** The target's health command, once (with its tries). */
  wait(refs: readonly ObjRef[], opts: WaitOptions): Promise<HealthReport> {
    return waitForHealth(this.#ctx, refs, opts);
  }

  /** The stack's inventory under the root, or undefined before its first sync. */
  readInventory(stack: StackRef): Promise<Inventory | undefined> {
    return readHostInventory(this.#ctx.root, stack);
  }

  /** The environment's inventories under the root. */
  listInventories(environment: string, opts: ListInventoriesOptions = {}): Promise<readonly InventorySummary[]> {
    return listHostInventories(this.#ctx.root, environment, opts.except);
  }

  /** Writes the stack's inventory atomically. */
  writeInventory(inventory: Inventory): Promise<void> {
    return writeHostInventory(this.#ctx.root, inventory);
  }

  /** Nothing is held open between calls. */
  async close(): Promise<void> {
    // Nothing to close.
  }
}
