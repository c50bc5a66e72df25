/**
 * What a revision renders, as rollback compares it: per stack instance (one stack as one
 * environment deploys it), its target and rendered objects, or why it cannot be rendered.
 * Rollback tells which environments a commit, or its revert, changes by rendering, not by
 * file paths: per-environment vars in gitward.yaml, a shared kustomize base or a stack's
 * path change what an environment renders without touching its directory.
 */
import { isDeepStrictEqual } from "node:util";
import type { TargetSpec } from "../config/schema.ts";
import type { InstanceFilter } from "../config/stack-instances.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { KObject } from "../core/object.ts";
import { refKey } from "../core/objref.ts";
import type { RenderResult } from "../render/renderer.ts";
import { evaluateRevision } from "./evaluate-revision.ts";
import type { Workspace } from "./workspace.ts";

/** What a rollback is limited to: an environment, or one stack of it. */
export interface RollbackScope {
  readonly environment: string;
  readonly stack: string | undefined;
}

/** One stack as one environment deploys it; {@link everywhere} for both when the change cannot be placed. */
export interface StackUnit {
  readonly environment: string;
  readonly stack: string;
}

/** The environment and stack of a change that cannot be placed: gitward.yaml is unreadable before and after. */
export const everywhere = "*";

/** What one stack instance renders: where it goes and its objects, or why it cannot be rendered. */
type UnitRender = { readonly targetName: string; readonly target: TargetSpec } & (
  | { readonly key: string; readonly objects: readonly KObject[] }
  | { readonly error: string }
);

/** What a revision renders per environment and stack, or why its gitward.yaml cannot be read. */
export interface RenderedTree {
  /** By environment and stack ({@link unitKey}). */
  readonly units: ReadonlyMap<string, UnitRender>;
  /** Why gitward.yaml cannot be read (invalid, or naming a missing directory); no unit is known then. */
  readonly invalid: string | undefined;
}

/** What a revision without gitward.yaml renders, such as the parent of a root commit: nothing. */
export const renderedNothing: RenderedTree = { units: new Map(), invalid: undefined };

/** What rendering revisions needs: the workspace over the rollback's clone, and where gitward.yaml is. */
export interface RenderContext {
  readonly workspace: Workspace;
  readonly configPath: string;
  readonly signal?: AbortSignal | undefined;
}

// Errors that say nothing about the revision: the rollback cannot tell what changed, so it stops.
const fatal = new Set<string>([ErrorCode.Tool, ErrorCode.Internal, ErrorCode.Git, ErrorCode.Cluster]);

/**
 * Renders a revision with the engine (gitward.yaml as the revision has it), every stack
 * instance of every environment, or only the scope's. A missing gitward.yaml, environment or
 * stack renders nothing; a render failure is that unit's state; a failure that says nothing
 * about the revision (no kustomize, a git error) throws.
 */
export async function renderTree(ctx: RenderContext, rev: string, scope?: RollbackScope): Promise<RenderedTree> {
  const { workspace: ws } = ctx;
  const filter: InstanceFilter =
    scope === undefined ? {} : { environments: [scope.environment], ...(scope.stack === undefined ? {} : { stacks: [scope.stack] }) };
  try {
    const ev = await evaluateRevision({
      source: ws.source, rev, configPath: ctx.configPath, filter, renderer: ws.renderer, check: ws.check,
      asBase: true, configCache: ws.configCache, ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
    });
    return { units: new Map(ev.renders.map((r) => [unitKey(r.instance), unitRender(r)])), invalid: undefined };
  } catch (e: unknown) {
    if (e instanceof GitwardError && e.code === ErrorCode.Config) return { units: new Map(), invalid: e.message };
    throw e;
  }
}

/** The stack instances whose render differs between two revisions; an unreadable gitward.yaml on one side changes every unit of the other. */
export function changedUnits(before: RenderedTree, after: RenderedTree): StackUnit[] {
  if (before.invalid !== undefined || after.invalid !== undefined) {
    if (before.invalid === after.invalid) return [];
    const known = [...before.units.keys(), ...after.units.keys()];
    const unplaced = before.invalid !== undefined && after.invalid !== undefined;
    return unplaced ? [{ environment: everywhere, stack: everywhere }] : [...new Set(known)].map(unitOf);
  }
  const keys = new Set([...before.units.keys(), ...after.units.keys()]);
  return [...keys].filter((k) => !sameRender(before.units.get(k), after.units.get(k))).map(unitOf);
}

/** True when a change to the unit is a change to the scope (an unplaced change is one to every scope). */
export function touches(unit: StackUnit, scope: RollbackScope): boolean {
  return unit.environment === everywhere || within(unit, scope);
}

/** True when the unit is part of the scope; an unplaced change is part of none. */
export function within(unit: StackUnit, scope: RollbackScope): boolean {
  return unit.environment === scope.environment && (scope.stack === undefined || unit.stack === scope.stack);
}

/** Names units for a message, from the scope's point of view: `prod` for another environment, `dev/api` for another stack of the scope's. */
export function unitNames(units: readonly StackUnit[], scope: RollbackScope): string[] {
  const names = units.map((u) => {
    if (u.environment === everywhere) return "every environment";
    return u.environment === scope.environment ? `${u.environment}/${u.stack}` : u.environment;
  });
  return [...new Set(names)].sort();
}

function unitKey(inst: { readonly environment: string; readonly stack: string }): string {
  return `${inst.environment}\u0000${inst.stack}`;
}

function unitOf(key: string): StackUnit {
  const [environment = "", stack = ""] = key.split("\u0000");
  return { environment, stack };
}

function unitRender(r: RenderResult): UnitRender {
  const where = { targetName: r.instance.targetName, target: r.instance.target };
  if (r.ok) {
    const sorted = r.objects.map((o) => ({ key: refKey(o.ref), object: o.object })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { ...where, key: r.key, objects: sorted.map((o) => o.object) };
  }
  if (fatal.has(r.error.code)) throw r.error;
  return { ...where, error: `${r.error.code}: ${r.error.message}` };
}

/** Same target, and the same objects (the same render key, else equal objects) or the same failure. */
function sameRender(a: UnitRender | undefined, b: UnitRender | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.targetName !== b.targetName || !isDeepStrictEqual(a.target, b.target)) return false;
  if ("error" in a || "error" in b) return "error" in a && "error" in b && a.error === b.error;
  return (a.key !== "" && a.key === b.key) || isDeepStrictEqual(a.objects, b.objects);
}
