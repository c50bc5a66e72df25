import { refKey } from "../../core/objref.ts";
import type { ChangeSetEntry, Inventory, StackRef } from "../provider.ts";
import type { FileState } from "./fs/scan.ts";
import type { Operation } from "./fs/transaction.ts";
import { hostApiVersion } from "./kinds.ts";
import {
  decideOrphans, hostRefOfKey, orphanPaths, pathsToInspect, type OrphanDecision, type OrphanPath, type StaleOnDisk, type StalePath,
} from "./orphans.ts";
import { idsOf, type ResolvedObject } from "./resolved-object.ts";
import { ownerOf, type PathRecord, type PathRegistry } from "./state.ts";

/** What the planner decided for one sync: the operations, and each object's outcome if they succeed. */
export interface HostPlan {
  readonly ops: Operation[];
  readonly entries: ChangeSetEntry[];
  /** The registry after the change. */
  readonly registry: PathRegistry;
  /** The registry during the change: the old one plus every path about to be created. */
  readonly interim: PathRegistry;
}

/** Everything {@link planSync} decides from, read by the caller (under the root's lock). */
export interface PlanInput {
  readonly stack: StackRef;
  readonly objects: readonly ResolvedObject[];
  /** The scan of every object's path, by path. */
  readonly states: ReadonlyMap<string, FileState>;
  readonly registry: PathRegistry;
  /** Objects in the inventory that are no longer desired (for a bare remove: the objects to remove). */
  readonly stale: Inventory["entries"];
  /** For each Directory object, by path: the files under it that nothing manages. */
  readonly unmanaged: ReadonlyMap<string, readonly string[]>;
  /** True for a bare remove: only the paths of `stale` objects are touched. */
  readonly partial: boolean;
  /**
   * Delete the paths gitward created that no desired object holds any more (see {@link OrphanPath});
   * false keeps them, still owned, so a later sync with prune deletes them.
   */
  readonly prune: boolean;
  /** What is on disk at each path {@link orphanPathsToInspect} names. */
  readonly staleOnDisk: ReadonlyMap<string, StaleOnDisk>;
}

/** The orphan paths {@link planSync} needs to see on disk. */
export function orphanPathsToInspect(input: Omit<PlanInput, "staleOnDisk">): StalePath[] {
  const { orphans, prunes } = orphansOf(input, failedKeys(input));
  return pathsToInspect(orphans, prunes);
}

/** The plan being built: operations by kind (they run in that order), entries, and both registries. */
interface Draft {
  readonly owner: string;
  readonly entries: ChangeSetEntry[];
  readonly mkdirs: Operation[];
  readonly writes: Operation[];
  readonly removes: Operation[];
  readonly rmdirs: Operation[];
  readonly paths: Record<string, PathRecord>;
  readonly interim: Record<string, PathRecord>;
}

/**
 * Decides the operations of a sync from a scan: write what is missing or differs, create and
 * fix directories, purge unmanaged files where asked, and delete the paths no desired object
 * holds any more (a dropped object's, or an object's previous path), but only paths gitward
 * created. Paths another stack manages are refused. A pure function: everything it needs from
 * the disk is in its input.
 */
export function planSync(input: PlanInput): HostPlan {
  const draft: Draft = {
    owner: ownerOf(input.stack), entries: [], mkdirs: [], writes: [], removes: [], rmdirs: [],
    paths: { ...input.registry.paths }, interim: { ...input.registry.paths },
  };
  for (const o of input.objects) planObject(input, o, draft);
  planOrphans(input, draft);
  const depth = (p: string): number => p.split("/").length;
  draft.mkdirs.sort((a, b) => depth(a.path) - depth(b.path));
  draft.rmdirs.sort((a, b) => depth(b.path) - depth(a.path));
  return {
    ops: [...draft.mkdirs, ...draft.writes, ...draft.removes, ...draft.rmdirs],
    entries: draft.entries,
    registry: { version: 1, paths: sortedPaths(draft.paths) },
    interim: { version: 1, paths: sortedPaths(draft.interim) },
  };
}

/** One desired object: refused, unchanged, or written (a File) or created and fixed, and purged (a Directory). */
function planObject(input: PlanInput, o: ResolvedObject, draft: Draft): void {
  const { ref, apiVersion } = o.desired;
  const previous = input.registry.paths[o.spec.path];
  if (previous !== undefined && previous.owner !== draft.owner) {
    draft.entries.push({ ref, apiVersion, action: "failed", message: `${o.spec.path} is managed by stack ${previous.owner}` });
    return;
  }
  const state = input.states.get(o.spec.path);
  const record: PathRecord = { kind: o.spec.kind, owner: draft.owner, ref: refKey(ref), created: previous?.created ?? state?.state === "missing" };
  draft.paths[o.spec.path] = record;
  draft.interim[o.spec.path] = record;
  if (state?.diffs.includes("type") === true) {
    draft.entries.push({ ref, apiVersion, action: "failed", message: `${o.spec.path} exists and is not a ${o.spec.kind === "File" ? "regular file" : "directory"}; gitward does not replace it` });
    return;
  }
  const missing = state === undefined || state.state === "missing";
  const changed = state?.state === "changed";
  let purged = false;
  if (o.spec.kind === "File") {
    if (missing || changed) draft.writes.push({ op: "write", path: o.spec.path, content: o.spec.content, mode: o.spec.mode, ...idsOf(o) });
  } else {
    if (missing || changed) draft.mkdirs.push({ op: "mkdir", path: o.spec.path, mode: o.spec.mode, ...idsOf(o) });
    if (o.spec.purge) {
      for (const file of input.unmanaged.get(o.spec.path) ?? []) {
        draft.removes.push({ op: "remove", path: file });
        purged = true;
      }
    }
  }
  draft.entries.push({ ref, apiVersion, action: missing ? "created" : changed || purged ? "configured" : "unchanged" });
}

/** The ref keys of desired objects refused at their new path: their previous paths stay until they can move. */
function failedKeys(input: Pick<PlanInput, "objects" | "registry" | "stack" | "states">): Set<string> {
  const owner = ownerOf(input.stack);
  return new Set(input.objects.filter((o) => {
    const previous = input.registry.paths[o.spec.path];
    return (previous !== undefined && previous.owner !== owner) || input.states.get(o.spec.path)?.diffs.includes("type") === true;
  }).map((o) => refKey(o.desired.ref)));
}

/** The orphan paths this sync may touch, and which of them it deletes. */
function orphansOf(input: Omit<PlanInput, "staleOnDisk">, failed: ReadonlySet<string>): { orphans: OrphanPath[]; prunes: (key: string) => boolean } {
  const desiredPaths = new Set(input.objects.map((o) => o.spec.path));
  const scope = input.partial ? new Set(input.stale.map((e) => refKey(e.ref))) : undefined;
  return { orphans: orphanPaths(input.registry, input.stack, desiredPaths, scope), prunes: (key) => input.prune && !failed.has(key) };
}

/**
 * The orphan paths: deleted, left in place or kept (see {@link decideOrphans}), and the
 * outcome of each object they belonged to. An object whose previous path was deleted is
 * configured; a stale object is deleted, or skipped with what was left in place; an object the
 * inventory lost is reported under its ref. Without prune, stale objects have no outcome.
 */
function planOrphans(input: PlanInput, draft: Draft): void {
  const { orphans, prunes } = orphansOf(input, failedKeys(input));
  const orphaned = new Set(orphans.map((o) => o.path));
  const managed = new Set(Object.keys(draft.paths).filter((p) => !orphaned.has(p)));
  const decisions = decideOrphans({ orphans, prunes, onDisk: input.staleOnDisk, removed: new Set(draft.removes.map((op) => op.path)), managed });
  const byKey = new Map<string, OrphanDecision[]>();
  for (const d of decisions) {
    byKey.set(d.record.ref, [...(byKey.get(d.record.ref) ?? []), d]);
    const kind = d.outcome.kind;
    if (kind === "remove") draft.removes.push({ op: "remove", path: d.path });
    if (kind === "rmdir") draft.rmdirs.push({ op: "rmdir", path: d.path });
    if (kind !== "kept") delete draft.paths[d.path];
  }
  const deleted = (ds: readonly OrphanDecision[]): boolean => ds.some((d) => d.outcome.kind === "remove" || d.outcome.kind === "rmdir");
  for (const [i, e] of draft.entries.entries()) {
    if (e.action === "unchanged" && deleted(byKey.get(refKey(e.ref)) ?? [])) draft.entries[i] = { ...e, action: "configured" };
  }
  if (!input.prune) return;
  const desiredKeys = new Set(input.objects.map((o) => refKey(o.desired.ref)));
  const staleKeys = new Set(input.stale.map((e) => refKey(e.ref)));
  for (const e of input.stale) draft.entries.push(staleEntry(e, byKey.get(refKey(e.ref)) ?? []));
  for (const [key, ds] of byKey) {
    const ref = desiredKeys.has(key) || staleKeys.has(key) ? undefined : hostRefOfKey(key);
    const acted = ds.filter((d) => d.outcome.kind !== "gone" && d.outcome.kind !== "kept");
    if (ref !== undefined && acted.length > 0) draft.entries.push(staleEntry({ ref, apiVersion: hostApiVersion }, acted));
  }
}

/** A stale object's outcome: skipped when any of its paths was left in place, saying which and why; else deleted. */
function staleEntry(e: Inventory["entries"][number], decisions: readonly OrphanDecision[]): ChangeSetEntry {
  const left = decisions.flatMap((d) => (d.outcome.kind === "left" ? [d.outcome.message] : []));
  return left.length === 0
    ? { ref: e.ref, apiVersion: e.apiVersion, action: "deleted" }
    : { ref: e.ref, apiVersion: e.apiVersion, action: "skipped", message: left.join("; ") };
}

function sortedPaths(paths: Record<string, PathRecord>): Record<string, PathRecord> {
  return Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
