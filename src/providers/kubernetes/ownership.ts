import type { KObject } from "../../core/object.ts";
import { getPath } from "../../core/object.ts";
import type { StackRef } from "../provider.ts";

/**
 * How gitward marks what it owns on a live object: the stack and environment labels the engine
 * puts on every desired object, and the annotation that keeps an object from being pruned.
 */

/** The label naming the stack that owns an object. */
export const stackLabel = "gitward.dev/stack";
/** The label naming the environment that owns an object. */
export const environmentLabel = "gitward.dev/environment";
/** The annotation that, set to `disabled`, keeps an object when its stack no longer has it. */
export const pruneAnnotation = "gitward.dev/prune";

/** The label selector of a stack's objects: `gitward.dev/stack=web,gitward.dev/environment=dev`. */
export function stackSelector(stack: StackRef): string {
  return `${stackLabel}=${stack.stack},${environmentLabel}=${stack.environment}`;
}

/** Why a live object is not the stack's to delete, or undefined when it is. */
export function notOwnedReason(live: KObject, stack: StackRef): string | undefined {
  const labels = getPath(live, ["metadata", "labels"]);
  const owner = (key: string): unknown => (labels !== null && typeof labels === "object" && !Array.isArray(labels) ? labels[key] : undefined);
  if (owner(stackLabel) !== stack.stack || owner(environmentLabel) !== stack.environment) {
    const found = `${stackLabel}=${describe(owner(stackLabel))}, ${environmentLabel}=${describe(owner(environmentLabel))}`;
    return `not owned by stack ${stack.stack} in environment ${stack.environment} (labels ${found}); left in place`;
  }
  return undefined;
}

/** True when the object asks not to be pruned. */
export function pruneDisabled(live: KObject): boolean {
  return getPath(live, ["metadata", "annotations", pruneAnnotation]) === "disabled";
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : "absent";
}
