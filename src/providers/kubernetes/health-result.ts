import type { KObject } from "../../core/object.ts";
import { Health } from "../provider.ts";
import { optionalNumberAt } from "./object-status.ts";

/** The health of one object and why, in one line (e.g. `updated 1 of 2 replicas`). */
export interface HealthResult {
  readonly health: Health;
  readonly message: string;
}

/** A healthy result. */
export function healthy(message: string): HealthResult {
  return { health: Health.Healthy, message };
}

/** A progressing result. */
export function progressing(message: string): HealthResult {
  return { health: Health.Progressing, message };
}

/** A degraded result. */
export function degraded(message: string): HealthResult {
  return { health: Health.Degraded, message };
}

/**
 * `progressing` when the controller has not yet seen the latest spec, else undefined. With
 * `required`, a missing `status.observedGeneration` also counts as not seen: workload
 * controllers always write it, and an apply response carries `status: {}` (07-status/01).
 */
export function generationBehind(obj: KObject, required: boolean): HealthResult | undefined {
  const generation = optionalNumberAt(obj, ["metadata", "generation"]);
  if (generation === undefined) return undefined;
  const observed = optionalNumberAt(obj, ["status", "observedGeneration"]);
  if (observed === undefined) {
    return required ? progressing(`waiting for the controller to observe generation ${generation}`) : undefined;
  }
  if (observed < generation) return progressing(`waiting for the controller to observe generation ${generation} (at ${observed})`);
  return undefined;
}
