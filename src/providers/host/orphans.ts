import { ErrorCode, GitwardError } from "../../core/errors.ts";
import type { ObjRef } from "../../core/objref.ts";
import type { StackRef } from "../provider.ts";
import { displayPath } from "./fs/paths.ts";
import { hostGroup } from "./kinds.ts";
import { ownerOf, type PathRecord, type PathRegistry } from "./state.ts";

/**
 * A path a stack holds in the registry that no desired object holds any more: the path of an
 * object Git dropped, the previous path of an object whose `spec.path` changed (its ref stays
 * the same), or a path whose object the inventory lost.
 */
export interface OrphanPath {
  readonly path: string;
  readonly record: PathRecord;
}

/** A path to look at on disk before deciding about it. */
export interface StalePath {
  readonly path: string;
  readonly kind: PathRecord["kind"];
}

/** What is on disk at a {@link StalePath}: nothing, or something (for a Directory, with the names in it). */
export type StaleOnDisk =
  | { readonly present: false }
  | { readonly present: true; readonly children: readonly string[] };

/**
 * The stack's orphan paths, in path order. `scope`, when given, keeps only those of these ref
 * keys (a bare remove touches only the objects it removes).
 */
export function orphanPaths(registry: PathRegistry, stack: StackRef, desiredPaths: ReadonlySet<string>, scope?: ReadonlySet<string>): OrphanPath[] {
  const owner = ownerOf(stack);
  return Object.entries(registry.paths)
    .filter(([path, record]) => record.owner === owner && !desiredPaths.has(path) && (scope === undefined || scope.has(record.ref)))
    .map(([path, record]) => ({ path, record }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** What becomes of one orphan path. `left` and `gone` are forgotten; `kept` stays owned. */
export type OrphanOutcome =
  | { readonly kind: "remove" | "rmdir" | "gone" | "kept" }
  | { readonly kind: "left"; readonly message: string };

/** An orphan path and what becomes of it. */
export interface OrphanDecision extends OrphanPath {
  readonly outcome: OrphanOutcome;
}

/** What {@link decideOrphans} decides from. */
export interface OrphanInput {
  readonly orphans: readonly OrphanPath[];
  /** Whether an orphan of this ref key is deleted (prune on, and its object not failed); else it is kept, still owned. */
  readonly prunes: (refKey: string) => boolean;
  /** What is on disk at each path {@link pathsToInspect} named. */
  readonly onDisk: ReadonlyMap<string, StaleOnDisk>;
  /** Paths the plan removes anyway (a purged Directory's unmanaged files). */
  readonly removed: ReadonlySet<string>;
  /** Paths that stay managed (desired, or another stack's), to word why a directory stays. */
  readonly managed: ReadonlySet<string>;
}

/** The orphans {@link decideOrphans} needs to see on disk: all of them, except those it leaves in place without looking (not created by gitward, pruned). */
export function pathsToInspect(orphans: readonly OrphanPath[], prunes: (refKey: string) => boolean): StalePath[] {
  return orphans.filter((o) => o.record.created || !prunes(o.record.ref)).map((o) => ({ path: o.path, kind: o.record.kind }));
}

/**
 * Decides each orphan, deepest first so a directory knows whether what is in it goes: gitward
 * deletes only what it created (a directory only once nothing else is left in it) and leaves
 * the rest in place; without prune it keeps every orphan still on disk, owned, for a later prune.
 * Results are in path order.
 */
export function decideOrphans(input: OrphanInput): OrphanDecision[] {
  const going = new Set(input.removed);
  const depth = (p: string): number => p.split("/").length;
  const out: OrphanDecision[] = [];
  for (const o of [...input.orphans].sort((a, b) => depth(b.path) - depth(a.path))) {
    const outcome = decide(o, input, going);
    if (outcome.kind === "remove" || outcome.kind === "rmdir" || outcome.kind === "gone") going.add(o.path);
    out.push({ ...o, outcome });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function decide(o: OrphanPath, input: OrphanInput, going: ReadonlySet<string>): OrphanOutcome {
  const prunes = input.prunes(o.record.ref);
  const what = `${o.record.kind === "File" ? "file" : "directory"} ${displayPath(o.path)}`;
  if (prunes && !o.record.created) return { kind: "left", message: `${what} left in place: it existed before gitward managed it` };
  const disk = input.onDisk.get(o.path);
  if (disk === undefined) throw new GitwardError(ErrorCode.Internal, `${o.path}: planned without knowing what is on disk there`);
  if (!disk.present) return { kind: "gone" };
  if (!prunes) return { kind: "kept" };
  if (o.record.kind === "File") return { kind: "remove" };
  const others = disk.children.map((name) => `${o.path}/${name}`).filter((p) => !going.has(p));
  if (others.length === 0) return { kind: "rmdir" };
  const names = others.map((p) => displayPath(p.slice(o.path.length + 1)));
  const list = `${names.slice(0, 3).join(", ")}${names.length > 3 ? ", …" : ""}`;
  const why = others.some((p) => input.managed.has(p)) ? `it holds paths gitward manages for other objects (${list})` : `it holds files gitward does not manage (${list})`;
  return { kind: "left", message: `${what} left in place: ${why}` };
}

/** The ref of a host object from its ref key (`group_Kind__name`), for an orphan whose object the inventory lost. */
export function hostRefOfKey(key: string): ObjRef | undefined {
  const m = /^([^_]*)_(File|Directory)__(.+)$/s.exec(key);
  return m === null || m[1] !== hostGroup ? undefined : { group: hostGroup, kind: m[2] as string, name: m[3] as string };
}
