import type { ObjRef } from "../../core/objref.ts";
import type {
  ApplyOptions, ChangeSetEntry, InventorySummary, ListInventoriesOptions, DesiredObject, DiffOptions, DiffSet, HealthReport, Inventory, RemoveOptions, StackRef, TargetSession, WaitOptions,
} from "../provider.ts";
import { inventoryLocation, listInventories, readInventory, writeInventory } from "./inventory.ts";
import { applyObjects } from "./session-apply.ts";
import type { SessionContext } from "./session-context.ts";
import { diffAgainstLive } from "./session-diff.ts";
import type { RemoveRef } from "./session-remove.ts";
import { removeObjects } from "./session-remove.ts";
import { waitForHealth } from "./session-wait.ts";

/**
 * An open Kubernetes target: one client (keep-alive connections, rate limit, retries) and one
 * discovery cache shared by every verb. Each verb lives in its own file; this class only routes.
 */
export class KubernetesSession implements TargetSession {
  /** The kubeconfig context and server, for messages. */
  readonly context: string;
  readonly server: string;
  private readonly ctx: SessionContext;

  constructor(ctx: SessionContext) {
    this.ctx = ctx;
    this.context = ctx.client.context;
    this.server = ctx.client.server;
  }

  /** Live state against desired; never writes. */
  diff(desired: readonly DesiredObject[], opts: DiffOptions): Promise<DiffSet> {
    return diffAgainstLive(this.ctx, desired, opts);
  }

  /** Server-side applies what drifted, in phase and wave order; per-object failures are entries. */
  apply(desired: readonly DesiredObject[], opts: ApplyOptions): Promise<readonly ChangeSetEntry[]> {
    return applyObjects(this.ctx, desired, opts);
  }

  /** Deletes what the stack still owns, in reverse order; a failed delete means the object still exists. */
  remove(refs: readonly RemoveRef[], opts: RemoveOptions): Promise<readonly ChangeSetEntry[]> {
    return removeObjects(this.ctx, refs, opts);
  }

  /** Polls until every ref is healthy or one is degraded, or the timeout ends it. */
  wait(refs: readonly ObjRef[], opts: WaitOptions): Promise<HealthReport> {
    return waitForHealth(this.ctx, refs, opts);
  }

  /** The stack's inventory ConfigMap, validated; undefined when there is none. */
  readInventory(stack: StackRef, signal?: AbortSignal): Promise<Inventory | undefined> {
    return readInventory(this.ctx, stack, signal);
  }

  /** The environment's inventories in the inventory namespace. */
  listInventories(environment: string, opts: ListInventoriesOptions = {}): Promise<readonly InventorySummary[]> {
    return listInventories(this.ctx, environment, opts.signal);
  }

  /** Writes the stack's inventory ConfigMap (and its namespace when missing). */
  writeInventory(inventory: Inventory, signal?: AbortSignal): Promise<void> {
    return writeInventory(this.ctx, inventory, signal);
  }

  /** Deletes the stack's inventory ConfigMap; one already gone is fine. */
  async deleteInventory(stack: StackRef, signal?: AbortSignal): Promise<void> {
    await this.ctx.client.delete(inventoryLocation(this.ctx.settings.inventoryNamespace, stack), signal === undefined ? {} : { signal });
  }

  /** Closes the client's kept-alive connections. */
  close(): Promise<void> {
    this.ctx.client.close();
    return Promise.resolve();
  }
}
