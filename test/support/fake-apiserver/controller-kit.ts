import type { Cluster } from "./cluster.ts";
import type { ResourceType } from "./resources.ts";
import type { JsonObject } from "./values.ts";
import type { WriteResult } from "./write-pipeline.ts";
import { commit, withoutManagedFields } from "./write-pipeline.ts";

/**
 * Runs the simulated controllers' delayed work and owns its timers, so that stopping the server
 * cancels it. Failures are kept (not thrown into the event loop) for tests to inspect.
 */
export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Errors thrown by controller work. */
  readonly errors: unknown[] = [];

  /** Runs `work` after `ms` milliseconds, unless stopped first. */
  after(ms: number, work: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      try {
        work();
      } catch (err: unknown) {
        this.errors.push(err);
      }
    }, ms);
    this.timers.add(timer);
  }

  /** Cancels pending work. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/**
 * A controller's write through the API server: an Update by `manager` (recorded in
 * managedFields) of the main resource or its status. Returns undefined when the object is gone.
 */
export function controllerUpdate(
  cluster: Cluster,
  r: ResourceType,
  obj: { readonly namespace: string; readonly name: string },
  manager: string,
  subresource: "" | "status",
  mutate: (next: JsonObject) => void,
): WriteResult | undefined {
  const live = cluster.get(r, obj.namespace, obj.name);
  if (live === undefined) return undefined;
  const next = withoutManagedFields(live);
  mutate(next);
  return commit(cluster, { r, namespace: obj.namespace, name: obj.name, subresource, live, next, ownership: { op: "update", manager }, dryRun: false });
}

/** A controller's create of an object (an Update operation by `manager`). */
export function controllerCreate(cluster: Cluster, r: ResourceType, namespace: string, obj: JsonObject, manager: string): void {
  const meta = obj["metadata"] as { name: string };
  if (cluster.get(r, namespace, meta.name) !== undefined) return;
  commit(cluster, { r, namespace, name: meta.name, subresource: "", live: undefined, next: obj, ownership: { op: "update", manager }, dryRun: false });
}

/** Namespace and name of a stored object. */
export function identity(obj: JsonObject): { namespace: string; name: string } {
  const meta = (obj["metadata"] ?? {}) as { namespace?: unknown; name?: unknown };
  return { namespace: typeof meta.namespace === "string" ? meta.namespace : "", name: String(meta.name) };
}
