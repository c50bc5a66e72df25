import type { Cluster } from "./cluster.ts";
import { Scheduler } from "./controller-kit.ts";
import { crdController } from "./crd-controller.ts";
import type { WorkloadMode } from "./deployment-controller.ts";
import { deploymentController } from "./deployment-controller.ts";
import { garbageCollector } from "./gc.ts";
import { namespaceController } from "./namespace-controller.ts";

/** The running simulated controllers. */
export interface Controllers {
  /** Errors thrown by controller work, for tests that want to check none happened. */
  readonly errors: readonly unknown[];
  stop(): void;
}

/**
 * Starts the controllers the recorded cluster ran that the fake simulates: namespace lifecycle,
 * garbage collection, CRD establishment and cleanup, and Deployment status.
 */
export function startControllers(cluster: Cluster, workloads: WorkloadMode): Controllers {
  const scheduler = new Scheduler();
  const handlers = [
    namespaceController(cluster, scheduler),
    garbageCollector(cluster, scheduler),
    crdController(cluster, scheduler),
    deploymentController(cluster, scheduler, workloads),
  ];
  const unsubscribe = cluster.store.subscribe((event) => {
    for (const handle of handlers) {
      try {
        handle(event);
      } catch (err: unknown) {
        scheduler.errors.push(err);
      }
    }
  });
  return {
    errors: scheduler.errors,
    stop() {
      unsubscribe();
      scheduler.stop();
    },
  };
}
