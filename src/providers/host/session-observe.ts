import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { DesiredObject } from "../provider.ts";
import { PathGuard } from "./fs/paths.ts";
import { listUnmanaged, scanDirectories, scanFiles, type FileState } from "./fs/scan.ts";
import { parseHostObject } from "./kinds.ts";
import type { StaleOnDisk, StalePath } from "./orphans.ts";
import { idsOf, type InvalidObject, type ResolvedObject } from "./resolved-object.ts";
import type { HostSessionContext } from "./session-context.ts";
import type { PathRegistry } from "./state.ts";

/**
 * Parses each desired object and resolves its owner and group with the session's resolver. An
 * object is invalid when its spec is, when its path goes through a symlinked directory, or when
 * its owner or group does not exist; results are in the order given, and each invalid one
 * says why (the caller names the object).
 */
export async function resolveObjects(
  ctx: Pick<HostSessionContext, "root" | "owners">,
  desired: readonly DesiredObject[],
): Promise<(ResolvedObject | InvalidObject)[]> {
  const guard = new PathGuard(ctx.root);
  const { owners } = ctx;
  return Promise.all(desired.map(async (d) => {
    const parsed = parseHostObject(d.object);
    if (parsed.spec === undefined) return { desired: d, error: parsed.issues.map((i) => (i.field === "" ? i.message : `${i.field}: ${i.message}`)).join("; ") };
    try {
      // Refused here, before anything is scanned or written: a path through a symlinked directory.
      // A symlink as the last component is a type difference the planner refuses to replace.
      guard.parents(parsed.spec.path);
      const uid = parsed.spec.owner === undefined ? undefined : await owners.user(parsed.spec.owner);
      const gid = parsed.spec.group === undefined ? undefined : await owners.group(parsed.spec.group);
      return { desired: d, spec: parsed.spec, ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }) };
    } catch (e: unknown) {
      return { desired: d, error: e instanceof Error ? e.message : String(e) };
    }
  }));
}

/** True for an object that could not be resolved. */
export function isInvalid(r: ResolvedObject | InvalidObject): r is InvalidObject {
  return "error" in r;
}

/** How each object's path compares with what it should be, by path. */
export async function scanObjects(root: string, objects: readonly ResolvedObject[]): Promise<Map<string, FileState>> {
  const files = objects.flatMap((o) => o.spec.kind === "File" ? [{ path: o.spec.path, content: o.spec.content, mode: o.spec.mode, ...idsOf(o) }] : []);
  const dirs = objects.flatMap((o) => o.spec.kind === "Directory" ? [{ path: o.spec.path, mode: o.spec.mode, ...idsOf(o) }] : []);
  const [f, d] = await Promise.all([scanFiles(root, files), scanDirectories(root, dirs)]);
  return new Map([...f, ...d].map((s) => [s.path, s]));
}

/** For each Directory object, by path: the files under it that neither the registry nor the objects manage. */
export async function unmanagedFiles(root: string, objects: readonly ResolvedObject[], registry: PathRegistry): Promise<Map<string, string[]>> {
  const dirs = objects.filter((o) => o.spec.kind === "Directory");
  const out = new Map<string, string[]>();
  if (dirs.length === 0) return out;
  const managed = new Set([...Object.keys(registry.paths), ...objects.map((o) => o.spec.path)]);
  for (const d of dirs) out.set(d.spec.path, await listUnmanaged(root, d.spec.path, managed));
  return out;
}

/**
 * What is on disk at each stale path, one after the other: whether anything is there (lstat,
 * never following a symlink), and for a Directory the names in it (none when it cannot be read).
 */
export async function inspectStalePaths(root: string, paths: readonly StalePath[]): Promise<Map<string, StaleOnDisk>> {
  const out = new Map<string, StaleOnDisk>();
  for (const p of paths) {
    const abs = join(root, p.path);
    if (!(await present(abs))) out.set(p.path, { present: false });
    else out.set(p.path, { present: true, children: p.kind === "Directory" ? await readdir(abs).catch(() => []) : [] });
  }
  return out;
}

async function present(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}
