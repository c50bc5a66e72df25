import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { refKey } from "../../core/objref.ts";
import type { ChangeSetEntry, Inventory, StackRef } from "../provider.ts";
import type { FileState } from "./fs/scan.ts";
import type { Operation } from "./fs/transaction.ts";
import { idsOf, type ResolvedObject } from "./resolved-object.ts";
import { ownerOf, pathsByRef, type PathRecord, type PathRegistry } from "./state.ts";

/** What the planner decided for one sync: the operations, and each object's outcome if they succeed. */
export interface HostPlan {
  readonly ops: Operation[];
  readonly entries: ChangeSetEntry[];
  /** The registry after the change. */
  readonly registry: PathRegistry;
  /** The registry during the change: the old one plus every path about to be created. */
  readonly interim: PathRegistry;
}

/** A path of a stale object that gitward created: prune deletes it if it is still there. */
export interface StalePath {
  readonly path: string;
  readonly kind: PathRecord["kind"];
}

/** What is on disk at a {@link StalePath}: nothing, or something (for a Directory, with the names in it). */
export type StaleOnDisk =
  | { readonly present: false }
  | { readonly present: true; readonly children: readonly string[] };

/** Everything {@link planSync} decides from, read by the caller (under the root's lock). */
export interface PlanInput {
  readonly stack: StackRef;
  readonly objects: readonly ResolvedObject[];
  /** The scan of every object's path, by path. */
  readonly states: ReadonlyMap<string, FileState>;
  readonly registry: PathRegistry;
  /** Objects to delete. */
  readonly stale: Inventory["entries"];
  /** Objects that stay owned without being in `objects` (a bare remove keeps the rest of the stack). */
  readonly keep: Inventory["entries"];
  /** For each Directory object, by path: the files under it that nothing manages. */
  readonly unmanaged: ReadonlyMap<string, readonly string[]>;
  /** True for a bare remove: the stack's other registry entries stay as they are. */
  readonly partial: boolean;
  /** What is on disk at each path {@link stalePathsToInspect} names. */
  readonly staleOnDisk: ReadonlyMap<string, StaleOnDisk>;
}

/** The stale paths {@link planSync} needs to see on disk: those of stale objects that gitward created and no desired object takes over. */
export function stalePathsToInspect(input: Pick<PlanInput, "stack" | "objects" | "registry" | "stale">): StalePath[] {
  if (input.stale.length === 0) return [];
  const current = pathsByRef(input.registry, input.stack);
  const desiredPaths = new Set(input.objects.map((o) => o.spec.path));
  return input.stale.flatMap((e) => {
    const entry = current.get(refKey(e.ref));
    return entry !== undefined && entry.record.created && !desiredPaths.has(entry.path) ? [{ path: entry.path, kind: entry.record.kind }] : [];
  });
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
 * fix directories, purge unmanaged files where asked, and delete what is stale, but only
 * paths gitward created. Paths another stack manages are refused. A pure function: everything
 * it needs from the disk is in its input.
 */
export function planSync(input: PlanInput): HostPlan {
  const draft: Draft = {
    owner: ownerOf(input.stack), entries: [], mkdirs: [], writes: [], removes: [], rmdirs: [],
    paths: { ...input.registry.paths }, interim: { ...input.registry.paths },
  };
  const desiredPaths = new Set(input.objects.map((o) => o.spec.path));
  for (const o of input.objects) planObject(input, o, draft);
  planStale(input, desiredPaths, draft);
  if (!input.partial) forgetDropped(input, desiredPaths, draft);
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

/** The stale objects, in order: deleted when gitward created them (a directory only when nothing unmanaged is left in it), else left in place. */
function planStale(input: PlanInput, desiredPaths: ReadonlySet<string>, draft: Draft): void {
  if (input.stale.length === 0) return;
  const current = pathsByRef(input.registry, input.stack);
  const staleKeys = new Set(input.stale.map((e) => refKey(e.ref)));
  for (const e of input.stale) {
    const entry = current.get(refKey(e.ref));
    const base = { ref: e.ref, apiVersion: e.apiVersion };
    if (entry === undefined || desiredPaths.has(entry.path)) {
      draft.entries.push({ ...base, action: "deleted" });
      continue;
    }
    delete draft.paths[entry.path];
    if (!entry.record.created) {
      draft.entries.push({ ...base, action: "skipped", message: `${entry.path} left in place: it existed before gitward managed it` });
      continue;
    }
    const disk = input.staleOnDisk.get(entry.path);
    if (disk === undefined) throw new GitwardError(ErrorCode.Internal, `${entry.path}: planned without knowing what is on disk there`);
    if (!disk.present) {
      draft.entries.push({ ...base, action: "deleted" });
    } else if (entry.record.kind === "Directory") {
      const removed = new Set(draft.removes.map((op) => op.path));
      const others = disk.children.filter((name) => !removed.has(`${entry.path}/${name}`) && !staleChild(`${entry.path}/${name}`, current, staleKeys));
      if (others.length > 0) {
        draft.entries.push({ ...base, action: "skipped", message: `${entry.path} left in place: it holds files gitward does not manage (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""})` });
      } else {
        draft.rmdirs.push({ op: "rmdir", path: entry.path });
        draft.entries.push({ ...base, action: "deleted" });
      }
    } else {
      draft.removes.push({ op: "remove", path: entry.path });
      draft.entries.push({ ...base, action: "deleted" });
    }
  }
}

/** Registry entries of this stack whose object is gone from the desired set and from the inventory are forgotten. */
function forgetDropped(input: PlanInput, desiredPaths: ReadonlySet<string>, draft: Draft): void {
  const keepKeys = new Set([...input.objects.map((o) => refKey(o.desired.ref)), ...input.keep.map((e) => refKey(e.ref)), ...input.stale.map((e) => refKey(e.ref))]);
  for (const [path, record] of Object.entries(input.registry.paths)) {
    if (record.owner === draft.owner && !keepKeys.has(record.ref) && !desiredPaths.has(path)) delete draft.paths[path];
  }
}

function staleChild(path: string, current: ReadonlyMap<string, { path: string; record: PathRecord }>, staleKeys: ReadonlySet<string>): boolean {
  for (const [key, entry] of current) if (entry.path === path && staleKeys.has(key) && entry.record.created) return true;
  return false;
}

function sortedPaths(paths: Record<string, PathRecord>): Record<string, PathRecord> {
  return Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
