import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { refKey } from "../../core/objref.ts";
import type { DiffEntry, Drift, StackRef } from "../provider.ts";
import { changedContent, createdContent, octal } from "./diff-content.ts";
import { displayPath } from "./fs/paths.ts";
import type { FileState } from "./fs/scan.ts";
import type { ResolvedObject } from "./resolved-object.ts";
import { ownerOf, type PathRegistry } from "./state.ts";

/** What {@link hostDiffEntries} compares. */
export interface ObjectDiffInput {
  readonly root: string;
  readonly objects: readonly ResolvedObject[];
  /** The scan of every object's path, by path. */
  readonly states: ReadonlyMap<string, FileState>;
  /** For each Directory object, by path: the files under it that nothing manages. */
  readonly unmanaged: ReadonlyMap<string, readonly string[]>;
  readonly registry: PathRegistry;
  /** The stack, when it has an inventory: only then is a difference drift. */
  readonly stack: StackRef | undefined;
}

/**
 * Diff entries for the desired objects of a host stack: the content of each file (live →
 * desired, masked where it must not be shown: see diff-content.ts), mode and owner changes,
 * and unmanaged files in directories. A difference in a path gitward already applied for this
 * object is drift, stamped with the file's modification time (a host cannot tell who wrote it).
 */
export async function hostDiffEntries(input: ObjectDiffInput): Promise<DiffEntry[]> {
  const entries: DiffEntry[] = [];
  for (const o of input.objects) entries.push(await objectEntry(input, o));
  return entries;
}

async function objectEntry(input: ObjectDiffInput, o: ResolvedObject): Promise<DiffEntry> {
  const { ref, apiVersion } = o.desired;
  const state = input.states.get(o.spec.path);
  const record = input.registry.paths[o.spec.path];
  // Drift only where gitward applied this object at this path: a new path (a rename) is not drift yet.
  const managed = input.stack !== undefined && record?.owner === ownerOf(input.stack) && record.ref === refKey(ref);
  const path = displayPath(o.spec.path);
  const extra = o.spec.kind === "Directory" ? (input.unmanaged.get(o.spec.path) ?? []) : [];
  if (state === undefined || state.state === "missing") {
    const diff = o.spec.kind === "File" ? `${header(o)}\n${createdContent(o.spec)}` : header(o);
    return { ref, apiVersion, action: "create", diff, ...(managed ? { drift: [{ field: `${path}: deleted outside gitward` }] } : {}) };
  }
  const lines: string[] = [];
  const drift: Drift[] = [];
  const time = state.live === undefined ? undefined : await modified(input.root, o.spec.path);
  const stamp = time === undefined ? {} : { time };
  if (state.diffs.includes("type")) lines.push(`# ${path} is not a ${o.spec.kind === "File" ? "regular file" : "directory"}`);
  if (state.diffs.includes("mode") && state.live !== undefined) {
    lines.push(`# mode ${octal(state.live.mode)} → ${octal(o.spec.mode)}`);
    drift.push({ field: "mode", ...stamp });
  }
  if (state.diffs.includes("owner") && state.live !== undefined) {
    lines.push(`# owner ${state.live.uid}:${state.live.gid} → ${o.uid ?? state.live.uid}:${o.gid ?? state.live.gid}`);
    drift.push({ field: "owner", ...stamp });
  }
  if (state.diffs.includes("content") && o.spec.kind === "File" && state.live !== undefined) {
    lines.push(changedContent(o.spec, state.live.content, state.live.mode));
    drift.push({ field: "content", ...stamp });
  }
  const purging = o.spec.kind === "Directory" && o.spec.purge && extra.length > 0;
  for (const file of extra) {
    if (purging) lines.push(`- ${displayPath(file)} (not in Git: purge removes it)`);
    drift.push({ field: `unmanaged file ${displayPath(file)}` });
  }
  const changed = state.state === "changed" || purging;
  return {
    ref, apiVersion, action: changed ? "update" : "no-op",
    ...(lines.length === 0 ? {} : { diff: lines.join("\n") }),
    // Before gitward first applied an object, a difference is not drift: nobody changed what gitward wrote.
    ...(drift.length === 0 || (!managed && extra.length === 0) ? {} : { drift: managed ? drift : drift.filter((d) => d.field.startsWith("unmanaged")) }),
  };
}

function header(o: ResolvedObject): string {
  const who = o.spec.owner === undefined && o.spec.group === undefined ? "" : ` owner ${o.spec.owner ?? "-"}:${o.spec.group ?? "-"}`;
  return `# ${displayPath(o.spec.path)} mode ${octal(o.spec.mode)}${who}`;
}

async function modified(root: string, path: string): Promise<string | undefined> {
  try {
    return (await lstat(join(root, path))).mtime.toISOString();
  } catch {
    return undefined;
  }
}
