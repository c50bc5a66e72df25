import { formatLocation } from "../core/location.ts";
import { formatRef, refKey } from "../core/objref.ts";
import type { RenderedObject } from "../core/object.ts";
import type { Finding } from "./finding.ts";

/** The objects of one rendered stack instance, as duplicate detection sees them. */
export interface StackObjects {
  readonly environment: string;
  readonly stack: string;
  readonly targetName: string;
  readonly objects: readonly RenderedObject[];
}

/**
 * Finds objects defined twice in one environment's target: within one stack, or in two
 * stacks deploying to the same target. Each finding names both places.
 */
export function findDuplicates(stacks: readonly StackObjects[]): Finding[] {
  const seen = new Map<string, { stack: string; obj: RenderedObject }>();
  const out: Finding[] = [];
  for (const s of stacks) {
    for (const obj of s.objects) {
      if (obj.ref.kind === "" || obj.ref.name === "") continue;
      const key = `${s.environment}\u0000${s.targetName}\u0000${refKey(obj.ref)}`;
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, { stack: s.stack, obj });
        continue;
      }
      const where = first.stack === s.stack ? `in stack ${s.stack}` : `in stacks ${first.stack} and ${s.stack} (target ${s.targetName})`;
      out.push({
        severity: "error",
        rule: "structure.duplicate",
        message: `${formatRef(obj.ref)} is defined twice ${where}: first at ${formatLocation(first.obj.source)}`,
        ref: obj.ref,
        location: obj.source,
        environment: s.environment,
        stack: s.stack,
      });
    }
  }
  return out;
}
