import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
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

/** What {@link planSync} decides from. */
export interface PlanInput {
  readonly root: string;
  readonly stack: StackRef;
  readonly objects: readonly ResolvedObject[];
  readonly states: ReadonlyMap<string, FileState>;
  readonly registry: PathRegistry;
  readonly stale: Inventory["entries"];
  readonly keep: Inventory["entries"];
  readonly unmanaged: ReadonlyMap<string, readonly string[]>;
  /** True for a bare remove: the stack's other registry entries stay as they are. */
  readonly partial: boolean;
}

/**
 * Decides the operations of a sync from a scan: write what is missing or differs, create and
 * fix directories, purge unmanaged files where asked, and delete what is stale, but only
 * paths gitward created. Paths another stack manages are refused.
 */
export async function planSync(input: PlanInput): Promise<HostPlan> {
  const owner = ownerOf(input.stack);
  const entries: ChangeSetEntry[] = [];
  const mkdirs: Operation[] = [];
  const writes: Operation[] = [];
  const removes: Operation[] = [];
  const rmdirs: Operation[] = [];
  const paths: Record<string, PathRecord> = { ...input.registry.paths };
  const interim: Record<string, PathRecord> = { ...input.registry.paths };
  const desiredPaths = new Set(input.objects.map((o) => o.spec.path));
  for (const o of input.objects) {
    const { ref, apiVersion } = o.desired;
    const key = refKey(ref);
    const previous = input.registry.paths[o.spec.path];
    if (previous !== undefined && previous.owner !== owner) {
      entries.push({ ref, apiVersion, action: "failed", message: `${o.spec.path} is managed by stack ${previous.owner}` });
      continue;
    }
    const state = input.states.get(o.spec.path);
    const record: PathRecord = { kind: o.spec.kind, owner, ref: key, created: previous?.created ?? state?.state === "missing" };
    paths[o.spec.path] = record;
    interim[o.spec.path] = record;
    if (state?.diffs.includes("type") === true) {
      entries.push({ ref, apiVersion, action: "failed", message: `${o.spec.path} exists and is not a ${o.spec.kind === "File" ? "regular file" : "directory"}; gitward does not replace it` });
      continue;
    }
    const missing = state === undefined || state.state === "missing";
    const changed = state?.state === "changed";
    let purged = false;
    if (o.spec.kind === "File") {
      if (missing || changed) writes.push({ op: "write", path: o.spec.path, content: o.spec.content, mode: o.spec.mode, ...idsOf(o) });
    } else {
      if (missing || changed) mkdirs.push({ op: "mkdir", path: o.spec.path, mode: o.spec.mode, ...idsOf(o) });
      if (o.spec.purge) {
        for (const file of input.unmanaged.get(o.spec.path) ?? []) {
          removes.push({ op: "remove", path: file });
          purged = true;
        }
      }
    }
    entries.push({ ref, apiVersion, action: missing ? "created" : changed || purged ? "configured" : "unchanged" });
  }
  // Registry entries of this stack whose object is gone from the desired set and from the inventory are forgotten.
  const current = pathsByRef(input.registry, input.stack);
  const staleKeys = new Set(input.stale.map((e) => refKey(e.ref)));
  for (const e of input.stale) {
    const entry = current.get(refKey(e.ref));
    const base = { ref: e.ref, apiVersion: e.apiVersion };
    if (entry === undefined || desiredPaths.has(entry.path)) {
      entries.push({ ...base, action: "deleted" });
      continue;
    }
    if (!entry.record.created) {
      delete paths[entry.path];
      entries.push({ ...base, action: "skipped", message: `${entry.path} left in place: it existed before gitward managed it` });
      continue;
    }
    const live = await kindOnDisk(join(input.root, entry.path));
    if (live === "missing") {
      delete paths[entry.path];
      entries.push({ ...base, action: "deleted" });
    } else if (entry.record.kind === "Directory") {
      const left = await remainingEntries(join(input.root, entry.path));
      const removed = new Set([...removes, ...writes].filter((op) => op.op === "remove").map((op) => op.path));
      const others = left.filter((name) => !removed.has(`${entry.path}/${name}`) && !staleChild(`${entry.path}/${name}`, current, staleKeys));
      if (others.length > 0) {
        delete paths[entry.path];
        entries.push({ ...base, action: "skipped", message: `${entry.path} left in place: it holds files gitward does not manage (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""})` });
      } else {
        rmdirs.push({ op: "rmdir", path: entry.path });
        delete paths[entry.path];
        entries.push({ ...base, action: "deleted" });
      }
    } else {
      removes.push({ op: "remove", path: entry.path });
      delete paths[entry.path];
      entries.push({ ...base, action: "deleted" });
    }
  }
  if (!input.partial) {
    const keepKeys = new Set([...input.objects.map((o) => refKey(o.desired.ref)), ...input.keep.map((e) => refKey(e.ref)), ...staleKeys]);
    for (const [path, record] of Object.entries(input.registry.paths)) {
      if (record.owner === owner && !keepKeys.has(record.ref) && !desiredPaths.has(path)) delete paths[path];
    }
  }
  const depth = (p: string): number => p.split("/").length;
  mkdirs.sort((a, b) => depth(a.path) - depth(b.path));
  rmdirs.sort((a, b) => depth(b.path) - depth(a.path));
  return {
    ops: [...mkdirs, ...writes, ...removes, ...rmdirs],
    entries,
    registry: { version: 1, paths: sortedPaths(paths) },
    interim: { version: 1, paths: sortedPaths(interim) },
  };
}

function staleChild(path: string, current: ReadonlyMap<string, { path: string; record: PathRecord }>, staleKeys: ReadonlySet<string>): boolean {
  for (const [key, entry] of current) if (entry.path === path && staleKeys.has(key) && entry.record.created) return true;
  return false;
}

function sortedPaths(paths: Record<string, PathRecord>): Record<string, PathRecord> {
  return Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function kindOnDisk(path: string): Promise<"missing" | "present"> {
  try {
    await lstat(path);
    return "present";
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw e;
  }
}

async function remainingEntries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
