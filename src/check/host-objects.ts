import { formatLocation } from "../core/location.ts";
import type { RenderedObject } from "../core/object.ts";
import { formatRef } from "../core/objref.ts";
import { hostGroup, parseHostObject } from "../providers/host/kinds.ts";
import type { StackObjects } from "./duplicates.ts";
import type { Finding } from "./finding.ts";

/**
 * Findings for one object of a stack, by the kind of target it deploys to. For a host target,
 * every issue {@link parseHostObject} finds is an error on its field (so the location is the
 * field's line): the schema, paths with control characters, and setuid, setgid or sticky
 * modes (`host.special-mode`).
 */
export function checkTargetKind(obj: RenderedObject, provider: string): Finding[] {
  if (provider === "host") {
    return parseHostObject(obj.object).issues.map((i) => ({
      severity: "error" as const, rule: i.rule ?? "schema", field: i.field,
      message: i.field === "" ? i.message : `${i.field}: ${i.message}`,
      ref: obj.ref, location: obj.source,
    }));
  }
  if (obj.ref.group === hostGroup) {
    return [{
      severity: "error", rule: "schema", ref: obj.ref, location: obj.source,
      message: `${formatRef(obj.ref)} is a host object, but this stack deploys to a ${provider} target`,
      hint: "move it to a stack whose target has provider: host",
    }];
  }
  return [];
}

/**
 * Two host objects that claim the same path in one target (in one stack or in two stacks
 * sharing the target) would overwrite each other: an error naming both places.
 */
export function findHostPathClashes(stacks: readonly (StackObjects & { readonly provider: string })[]): Finding[] {
  const seen = new Map<string, { stack: string; obj: RenderedObject }>();
  const out: Finding[] = [];
  for (const s of stacks) {
    if (s.provider !== "host") continue;
    for (const obj of s.objects) {
      const spec = parseHostObject(obj.object).spec;
      if (spec === undefined) continue;
      const key = `${s.environment}\u0000${s.targetName}\u0000${spec.path}`;
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, { stack: s.stack, obj });
        continue;
      }
      // The same object twice is already a duplicate finding; a directory and a file at one path are not.
      if (first.obj.ref.kind === obj.ref.kind && first.obj.ref.name === obj.ref.name) continue;
      out.push({
        severity: "error", rule: "host.path-clash", ref: obj.ref, location: obj.source, environment: s.environment, stack: s.stack,
        message: `${formatRef(obj.ref)} manages path ${spec.path}, already managed by ${formatRef(first.obj.ref)} (stack ${first.stack}) at ${formatLocation(first.obj.source)}`,
      });
    }
  }
  return out;
}
