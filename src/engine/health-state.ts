import { formatRef } from "../core/objref.ts";
import type { HealthReport } from "../providers/provider.ts";
import type { HealthState } from "../store/store.ts";

/** A stack's health from its objects' health: what history and status show. */
export interface StackHealth {
  readonly state: HealthState;
  /** The first objects that are not healthy, and why. */
  readonly message?: string;
}

/**
 * One state for a stack's objects: degraded when one is, healthy when all are, otherwise
 * progressing, or timed out when the report says the wait ended before that.
 */
export function stackHealth(report: HealthReport, deadlinePassed = report.timedOut): StackHealth {
  const unhealthy = report.entries.filter((e) => e.health !== "healthy");
  const message = unhealthy.slice(0, 3).map((e) => `${formatRef(e.ref)}: ${e.health}${e.message === undefined || e.message === "" ? "" : ` (${e.message})`}`).join("; ")
    + (unhealthy.length > 3 ? `; and ${unhealthy.length - 3} more` : "");
  const withMessage = message === "" ? {} : { message };
  if (report.entries.some((e) => e.health === "degraded")) return { state: "degraded", ...withMessage };
  if (unhealthy.length === 0) return { state: "healthy" };
  return { state: deadlinePassed ? "timed-out" : "progressing", ...withMessage };
}
