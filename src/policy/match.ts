import type { KObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import type { ObjRef } from "../core/objref.ts";
import type { LabelSelector, PolicyMatch } from "./document-schema.ts";

/**
 * A policy's `match`, prepared for cheap tests: the resource rules as a set of `group/Kind`
 * keys (with `*` wildcards), the namespace list as a set, the label selector as a predicate.
 * Environment and stack filters are applied once per evaluation, not per object.
 */
export interface CompiledMatch {
  /** True when the policy applies in this environment and stack. */
  appliesTo(environment: string, stack: string): boolean;
  /** True when the resource rules admit this group and kind (no rules: every object). */
  matchesKind(group: string, kind: string): boolean;
  /** True when the namespace list and label selector admit the object. */
  matchesObject(ref: ObjRef, object: KObject): boolean;
}

/** Compiles a policy's `match`. */
export function compileMatch(match: PolicyMatch): CompiledMatch {
  const rules = match.resources?.map((r) => ({ groups: new Set(r.apiGroups), kinds: new Set(r.kinds) }));
  const namespaces = match.namespaces === undefined ? undefined : new Set(match.namespaces);
  const environments = match.environments === undefined ? undefined : new Set(match.environments);
  const stacks = match.stacks === undefined ? undefined : new Set(match.stacks);
  const selector = match.labelSelector === undefined ? undefined : compileSelector(match.labelSelector);
  return {
    appliesTo: (environment, stack) =>
      (environments === undefined || environments.has(environment)) && (stacks === undefined || stacks.has(stack)),
    matchesKind: (group, kind) =>
      rules === undefined ||
      rules.some((r) => (r.groups.has("*") || r.groups.has(group)) && (r.kinds.has("*") || r.kinds.has(kind))),
    matchesObject: (ref, object) =>
      (namespaces === undefined || (ref.namespace !== undefined && namespaces.has(ref.namespace))) &&
      (selector === undefined || selector(labelsOf(object))),
  };
}

function labelsOf(object: KObject): Readonly<Record<string, unknown>> {
  const metadata = object["metadata"];
  const labels = isRecord(metadata) ? metadata["labels"] : undefined;
  return isRecord(labels) ? labels : {};
}

/** A label selector with Kubernetes semantics: every matchLabels entry and every requirement holds. */
export function compileSelector(selector: LabelSelector): (labels: Readonly<Record<string, unknown>>) => boolean {
  const tests: ((labels: Readonly<Record<string, unknown>>) => boolean)[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) tests.push((l) => l[key] === value);
  for (const req of selector.matchExpressions ?? []) {
    const values = new Set(req.values ?? []);
    const { key } = req;
    switch (req.operator) {
      case "In":
        tests.push((l) => typeof l[key] === "string" && values.has(l[key]));
        break;
      case "NotIn":
        tests.push((l) => typeof l[key] !== "string" || !values.has(l[key]));
        break;
      case "Exists":
        tests.push((l) => Object.hasOwn(l, key));
        break;
      case "DoesNotExist":
        tests.push((l) => !Object.hasOwn(l, key));
        break;
    }
  }
  return (labels) => tests.every((t) => t(labels));
}
