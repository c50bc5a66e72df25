import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { refKey } from "../../core/objref.ts";
import { unifiedHunks } from "../../core/text-diff.ts";
import type { DiffEntry, Drift, Inventory } from "../provider.ts";
import type { FileState } from "./fs/scan.ts";
import type { ResolvedObject } from "./resolved-object.ts";
import type { PathRecord } from "./state.ts";

/** Content larger than this is compared, not shown line by line. */
const maxDiffBytes = 256 * 1024;

/**
 * Diff entries for a host stack: a unified diff of each file's content (live → desired), mode
 * and owner changes, unmanaged files in directories, and deletes for what the inventory holds
 * and Git no longer does. Every difference in a path gitward already manages is drift, stamped
 * with the file's modification time (a host cannot tell who wrote it).
 */
export async function hostDiffEntries(
  root: string,
  objects: readonly ResolvedObject[],
  states: ReadonlyMap<string, FileState>,
  unmanaged: ReadonlyMap<string, readonly string[]>,
  stale: Inventory["entries"],
  previous: ReadonlyMap<string, { path: string; record: PathRecord }>,
): Promise<DiffEntry[]> {
  const entries: DiffEntry[] = [];
  for (const o of objects) {
    const { ref, apiVersion } = o.desired;
    const state = states.get(o.spec.path);
    const managed = previous.has(refKey(ref));
    const extra = o.spec.kind === "Directory" ? (unmanaged.get(o.spec.path) ?? []) : [];
    if (state === undefined || state.state === "missing") {
      const diff = o.spec.kind === "File" ? header(o) + unifiedHunks("", o.spec.content.toString("utf8")) : header(o).trimEnd();
      entries.push({ ref, apiVersion, action: "create", diff, ...(managed ? { drift: [{ field: `${o.spec.path}: deleted outside gitward` }] } : {}) });
      continue;
    }
    const lines: string[] = [];
    const drift: Drift[] = [];
    const time = state.live === undefined ? undefined : await modified(root, o.spec.path);
    const stamp = time === undefined ? {} : { time };
    if (state.diffs.includes("type")) lines.push(`# ${o.spec.path} is not a ${o.spec.kind === "File" ? "regular file" : "directory"}`);
    if (state.diffs.includes("mode") && state.live !== undefined) {
      lines.push(`# mode ${octal(state.live.mode)} → ${octal(o.spec.mode)}`);
      drift.push({ field: "mode", ...stamp });
    }
    if (state.diffs.includes("owner") && state.live !== undefined) {
      lines.push(`# owner ${state.live.uid}:${state.live.gid} → ${o.uid ?? state.live.uid}:${o.gid ?? state.live.gid}`);
      drift.push({ field: "owner", ...stamp });
    }
    if (state.diffs.includes("content") && o.spec.kind === "File") {
      const live = state.live?.content;
      lines.push(live === undefined || live.length > maxDiffBytes || o.spec.content.length > maxDiffBytes
        ? `# content differs (${live?.length ?? "?"} bytes live, ${o.spec.content.length} desired)`
        : unifiedHunks(live.toString("utf8"), o.spec.content.toString("utf8")));
      drift.push({ field: "content", ...stamp });
    }
    const purging = o.spec.kind === "Directory" && o.spec.purge && extra.length > 0;
    for (const file of extra) {
      if (purging) lines.push(`- ${file} (not in Git: purge removes it)`);
      drift.push({ field: `unmanaged file ${file}` });
    }
    const changed = state.state === "changed" || purging;
    entries.push({
      ref, apiVersion, action: changed ? "update" : "no-op",
      ...(lines.length === 0 ? {} : { diff: lines.join("\n") }),
      // Before gitward first applied an object, a difference is not drift: nobody changed what gitward wrote.
      ...(drift.length === 0 || (!managed && extra.length === 0) ? {} : { drift: managed ? drift : drift.filter((d) => d.field.startsWith("unmanaged")) }),
    });
  }
  for (const e of stale) {
    const entry = previous.get(refKey(e.ref));
    const diff = entry === undefined ? undefined : `- ${entry.path}${entry.record.created ? "" : " (existed before gitward: prune leaves it in place)"}`;
    entries.push({ ref: e.ref, apiVersion: e.apiVersion, action: "delete", ...(diff === undefined ? {} : { diff }) });
  }
  return entries;
}

function header(o: ResolvedObject): string {
  const who = o.spec.owner === undefined && o.spec.group === undefined ? "" : ` owner ${o.spec.owner ?? "-"}:${o.spec.group ?? "-"}`;
  return `# ${o.spec.path} mode ${octal(o.spec.mode)}${who}\n`;
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
}

async function modified(root: string, path: string): Promise<string | undefined> {
  try {
    return (await lstat(join(root, path))).mtime.toISOString();
  } catch {
    return undefined;
  }
}
