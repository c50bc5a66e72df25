import { isDeepStrictEqual } from "node:util";
import type { KObject } from "../../src/core/object.ts";
import { refKey } from "../../src/core/objref.ts";
import type {
  ChangeSetEntry, DesiredObject, DiffEntry, Health, Inventory, Provider, StackRef, TargetSession,
} from "../../src/providers/provider.ts";

/**
 * A provider whose targets are maps in memory, for unit tests of the engine's lifecycle and
 * the agent's scheduling. It follows the provider contract: apply writes only what differs,
 * a failed delete leaves the object, the inventory lives in the target. Tests change
 * `objects` to make drift and set `failApply` to make applies fail.
 */
export class MemoryTarget {
  readonly objects = new Map<string, KObject>();
  readonly inventories = new Map<string, Inventory>();
  /** Applies left to fail (each failing apply fails every object). */
  failApply = 0;
  /** Opens left to fail. */
  failOpen = 0;
  /** The message of a failed object: default "injected failure"; a test may quote the object, as an API server's validation error does. */
  failMessage: (d: DesiredObject) => string = () => "injected failure";
  /** Health of objects by refKey; unlisted objects are healthy. */
  readonly health = new Map<string, Health>();
  /** Health reads, each one call for all the refs asked. */
  healthReads = 0;
  applies = 0;
  opens = 0;
  closes = 0;

  provider(name = "memory"): Provider {
    return {
      name,
      open: () => {
        this.opens++;
        if (this.failOpen > 0) {
          this.failOpen--;
          return Promise.reject(new Error("target unreachable"));
        }
        return Promise.resolve(this.#session());
      },
    };
  }

  #session(): TargetSession {
    return {
      diff: (desired, opts) => Promise.resolve({ entries: this.#diff(desired, opts.inventory) }),
      apply: (desired, opts) => {
        this.applies++;
        if (!opts.dryRun && this.failApply > 0) {
          this.failApply--;
          return Promise.resolve(desired.map((d): ChangeSetEntry => ({ ref: d.ref, apiVersion: d.apiVersion, action: "failed", message: this.failMessage(d) })));
        }
        return Promise.resolve(desired.map((d): ChangeSetEntry => {
          const k = refKey(d.ref);
          const live = this.objects.get(k);
          const action = live === undefined ? "created" : isDeepStrictEqual(live, d.object) ? "unchanged" : "configured";
          if (!opts.dryRun) this.objects.set(k, structuredClone(d.object));
          return { ref: d.ref, apiVersion: d.apiVersion, action };
        }));
      },
      remove: (refs, opts) => Promise.resolve(refs.map((r): ChangeSetEntry => {
        if (!opts.dryRun) this.objects.delete(refKey(r.ref));
        return { ref: r.ref, apiVersion: r.apiVersion, action: "deleted" };
      })),
      wait: (refs, opts) => {
        this.healthReads++;
        const entries = refs.map((ref) => ({ ref, health: this.health.get(refKey(ref)) ?? ("healthy" as const) }));
        return Promise.resolve({ entries, timedOut: opts.timeoutMs <= 0 && entries.some((e) => e.health !== "healthy") });
      },
      readInventory: (stack: StackRef) => Promise.resolve(this.inventories.get(`${stack.environment}/${stack.stack}`)),
      listInventories: (environment: string) => Promise.resolve([...this.inventories.values()]
        .filter((inv) => inv.stack.environment === environment)
        .map((inv) => ({ stack: inv.stack.stack, revision: inv.revision, objects: inv.entries.length }))),
      writeInventory: (inv) => {
        this.inventories.set(`${inv.stack.environment}/${inv.stack.stack}`, inv);
        return Promise.resolve();
      },
      close: () => {
        this.closes++;
        return Promise.resolve();
      },
    };
  }

  #diff(desired: readonly DesiredObject[], inventory: Inventory | undefined): DiffEntry[] {
    const wanted = new Set(desired.map((d) => refKey(d.ref)));
    const out: DiffEntry[] = desired.map((d) => {
      const live = this.objects.get(refKey(d.ref));
      const action = live === undefined ? "create" : isDeepStrictEqual(live, d.object) ? "no-op" : "update";
      return { ref: d.ref, apiVersion: d.apiVersion, action, ...(action === "update" ? { drift: [{ field: "(changed)", manager: "test" }] } : {}) };
    });
    for (const e of inventory?.entries ?? []) {
      if (!wanted.has(refKey(e.ref)) && this.objects.has(refKey(e.ref))) out.push({ ref: e.ref, apiVersion: e.apiVersion, action: "delete" });
    }
    return out;
  }
}
