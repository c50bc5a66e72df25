import { formatRef, refKey } from "../../core/objref.ts";
import type { DiffEntry, Inventory } from "../provider.ts";
import { displayPath } from "./fs/paths.ts";
import { hostApiVersion } from "./kinds.ts";
import { hostRefOfKey, type OrphanPath, type StaleOnDisk } from "./orphans.ts";
import type { ResolvedObject } from "./resolved-object.ts";

/** What {@link orphanDiffEntries} reports on. */
export interface OrphanDiffInput {
  readonly objects: readonly ResolvedObject[];
  /** The inventory's objects that are no longer desired. */
  readonly stale: Inventory["entries"];
  /** Every path of the stack that no desired object holds. */
  readonly orphans: readonly OrphanPath[];
  /** What is on disk at each orphan path. */
  readonly onDisk: ReadonlyMap<string, StaleOnDisk>;
}

/**
 * The deletes a diff shows: one per stale object (with its paths), one per desired object
 * whose `spec.path` changed and whose previous path is still on disk, and one per path whose
 * object the inventory lost. Each is a `delete`; where the environment does not prune, the
 * plan shows it as an orphan, as apply leaves it.
 */
export function orphanDiffEntries(input: OrphanDiffInput): DiffEntry[] {
  const byKey = new Map<string, OrphanPath[]>();
  for (const o of input.orphans) byKey.set(o.record.ref, [...(byKey.get(o.record.ref) ?? []), o]);
  const entries: DiffEntry[] = [];
  for (const e of input.stale) {
    const lines = (byKey.get(refKey(e.ref)) ?? []).map((o) => line(o, input.onDisk.get(o.path), undefined));
    entries.push({ ref: e.ref, apiVersion: e.apiVersion, action: "delete", ...(lines.length === 0 ? {} : { diff: lines.join("\n") }) });
    byKey.delete(refKey(e.ref));
  }
  const desired = new Map(input.objects.map((o) => [refKey(o.desired.ref), o]));
  for (const [key, orphans] of byKey) {
    const present = orphans.filter((o) => input.onDisk.get(o.path)?.present === true);
    const object = desired.get(key);
    const ref = object?.desired.ref ?? hostRefOfKey(key);
    if (present.length === 0 || ref === undefined) continue;
    const why = object === undefined ? "its object is in no inventory" : `previous path of ${formatRef(ref)}, now ${displayPath(object.spec.path)}`;
    const lines = present.map((o) => line(o, input.onDisk.get(o.path), why));
    entries.push({ ref, apiVersion: object?.desired.apiVersion ?? hostApiVersion, action: "delete", diff: lines.join("\n") });
  }
  return entries;
}

function line(o: OrphanPath, disk: StaleOnDisk | undefined, why: string | undefined): string {
  const notes = [
    ...(why === undefined ? [] : [why]),
    ...(o.record.created ? [] : ["existed before gitward: prune leaves it in place"]),
    ...(disk?.present === false ? ["already gone"] : []),
  ];
  return `- ${displayPath(o.path)}${o.record.kind === "Directory" ? "/" : ""}${notes.length === 0 ? "" : ` (${notes.join("; ")})`}`;
}
