import type { SourceLocation } from "../core/location.ts";
import { getPath, type KObject } from "../core/object.ts";
import type { Snapshot } from "../source/types.ts";
import type { KustomizeInputs } from "./kustomize-inputs.ts";
import { kustomizationNames } from "./kustomize-inputs.ts";
import { isManifestFile, parseManifestFile } from "./parse-manifests.ts";

/** Finds, for an object kustomize produced, the file and line that defined it. */
export type SourceFinder = (obj: KObject) => SourceLocation | undefined;

/**
 * Indexes the documents of a kustomization's input files by kind and name, so findings
 * about kustomize output can name the file a person edits rather than the kustomization.
 * Name prefixes and suffixes are matched when exactly one candidate of the kind fits.
 */
export async function kustomizeSourceFinder(snapshot: Snapshot, inputs: KustomizeInputs, signal?: AbortSignal): Promise<SourceFinder> {
  const files = [
    ...inputs.dirs.flatMap((d) => snapshot.listFiles(d).map((f) => f.path)),
    ...inputs.files,
  ].filter((p) => isManifestFile(p) && !(kustomizationNames as readonly string[]).includes(p.slice(p.lastIndexOf("/") + 1)));
  const contents = await snapshot.readFiles(files, signal);
  const byKind = new Map<string, { name: string; location: SourceLocation }[]>();
  for (const [file, content] of contents) {
    for (const entry of documentsOf(file, content)) {
      const list = byKind.get(entry.kind) ?? [];
      list.push(entry);
      byKind.set(entry.kind, list);
    }
  }
  return (obj) => {
    const kind = obj["kind"];
    const name = getPath(obj, ["metadata", "name"]);
    if (typeof kind !== "string" || typeof name !== "string") return undefined;
    const candidates = byKind.get(kind) ?? [];
    const exact = candidates.filter((c) => c.name === name);
    if (exact.length > 0) return exact[0]?.location;
    const affixed = candidates.filter((c) => c.name !== "" && name.includes(c.name));
    return affixed.length === 1 ? affixed[0]?.location : undefined;
  };
}

/**
 * The kind, name and location of each object of an input file, read as manifests are (a few
 * documents at a time); a file that is not valid manifests (a generator's data file, a patch
 * with errors) is skipped: kustomize reports its own errors.
 */
function documentsOf(file: string, content: Buffer): { kind: string; name: string; location: SourceLocation }[] {
  let manifests;
  try {
    manifests = parseManifestFile(file, content, { vars: undefined });
  } catch {
    return [];
  }
  const out: { kind: string; name: string; location: SourceLocation }[] = [];
  for (const { object, location } of manifests) {
    const kind = object["kind"];
    const name = getPath(object, ["metadata", "name"]);
    if (typeof kind === "string" && typeof name === "string") out.push({ kind, name, location });
  }
  return out;
}
