import { createHash } from "node:crypto";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { Snapshot, TreeEntry } from "../source/types.ts";
import { readKustomizationRefs, readPluginConfigRefs, type KustomizationEntry } from "./kustomization-file.ts";

/** The file names kustomize recognises, in its order of preference. */
export const kustomizationNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;

/** Everything a kustomize build of one directory reads from the repository. */
export interface KustomizeInputs {
  /** Directories to materialize whole (repository-relative). */
  readonly dirs: readonly string[];
  /** Single files outside those directories. */
  readonly files: readonly string[];
  /** Entries that are not paths in the repository, let through to kustomize because remote bases are allowed. */
  readonly remote: readonly { readonly file: string; readonly ref: string }[];
  /** A digest of the content of all inputs: the render cache key part. */
  readonly digest: string;
}

/** Options for {@link collectKustomizeInputs}. */
export interface CollectOptions {
  /** Let entries that are not paths in the repository through, for kustomize to fetch (`render.allowRemoteBases`). */
  readonly allowRemote: boolean;
  readonly signal?: AbortSignal;
}

/** The kustomization file in a directory of the snapshot, if any. */
export function findKustomization(snapshot: Snapshot, dir: string): string | undefined {
  for (const name of kustomizationNames) {
    const path = dir === "" ? name : `${dir}/${name}`;
    if (snapshot.entry(path)?.type === "blob") return path;
  }
  return undefined;
}

const remoteHint = "vendor what it names into the repository; a runner that may fetch it can pass --allow-remote-bases (gitward.yaml cannot allow network access by itself)";

/**
 * Walks a kustomization and every local kustomization it references, collecting the
 * directories and files it reads, so the build can run on exactly those and the result
 * can be cached by their content. Every path a kustomization names (resources, bases,
 * components, patches, generator files, plugin configurations and the paths in them) must be
 * a file or directory of the commit, inside the repository once resolved against the
 * kustomization's directory, symlinks included. Anything else is what kustomize would fetch
 * (a URL, `git@host:org/repo`, `github.com/o/r`, …, in any of the forms it accepts) and is
 * refused unless remote bases are allowed; a path leaving the repository is refused always.
 */
export async function collectKustomizeInputs(snapshot: Snapshot, dir: string, options: CollectOptions): Promise<KustomizeInputs> {
  const dirs = new Set<string>();
  const files = new Set<string>();
  const remote: { file: string; ref: string }[] = [];
  const queue = [dir];
  while (queue.length > 0) {
    const current = queue.shift() ?? "";
    if (dirs.has(current)) continue;
    dirs.add(current);
    const kfile = findKustomization(snapshot, current);
    if (kfile === undefined) continue;
    const refs = readKustomizationRefs(kfile, await snapshot.readFile(kfile, options.signal));
    const pending: KustomizationEntry[] = [...refs.entries];
    for (const inline of refs.inlineConfigs) pending.push(...readPluginConfigRefs(inline.location, Buffer.from(inline.text)));
    for (let i = 0; i < pending.length; i++) {
      const ref = pending[i];
      if (ref === undefined) continue;
      const found = resolveEntry(snapshot, current, ref, options.allowRemote);
      if (found === undefined) {
        remote.push({ file: kfile, ref: ref.path });
        continue;
      }
      if (found.entry.type === "tree") queue.push(found.path);
      else if (!isUnder(found.path, current)) files.add(found.path);
      // A generator or transformer file holds plugin configurations, whose paths kustomize reads too.
      if (ref.plugin && found.entry.type === "blob") {
        pending.push(...readPluginConfigRefs({ file: found.path }, await snapshot.readFile(found.path, options.signal)));
      }
    }
  }
  // Files rather than tree ids, so a symlinked file changed elsewhere changes the key.
  const parts = [...dirs].sort().flatMap((d) => snapshot.listFiles(d).map((f) => `d:${f.path}:${f.oid}`));
  for (const f of [...files].sort()) parts.push(`f:${f}:${snapshot.entry(f)?.oid ?? "-"}`);
  for (const r of remote) parts.push(`r:${r.file}:${r.ref}`);
  const digest = createHash("sha256").update(parts.join("\n")).digest("hex");
  return { dirs: outermost([...dirs]), files: [...files].sort(), remote, digest };
}

/**
 * The repository path and tree entry an entry names, or undefined when it is not a path of
 * the commit and remote references are allowed (kustomize is then left to fetch it).
 */
function resolveEntry(snapshot: Snapshot, dir: string, ref: KustomizationEntry, allowRemote: boolean): { path: string; entry: TreeEntry } | undefined {
  const fail = (code: ErrorCode, why: string, hint?: string): GitwardError =>
    new GitwardError(code, `${ref.field} "${ref.path}" ${why}`, { subject: { location: ref.location }, ...(hint === undefined ? {} : { hint }) });
  if (ref.path === "" || ref.path.includes("\0")) throw fail(ErrorCode.Render, "is not a path");
  if (ref.path.startsWith("/")) throw fail(ErrorCode.Limit, "is an absolute path: paths must stay inside the repository");
  // An empty segment (`a//b`) is not how a path is written, and kustomize reads `//` in remote forms.
  const clean = !ref.path.replace(/\/+$/, "").split("/").includes("");
  const target = clean ? resolveRelative(dir, ref.path) : undefined;
  if (target === null) throw fail(ErrorCode.Limit, "escapes the repository", "paths and symlinks must stay inside the repository");
  let entry: TreeEntry | undefined;
  try {
    entry = target === undefined ? undefined : snapshot.entry(target);
  } catch (e: unknown) {
    if (e instanceof GitwardError) throw fail(e.code, `leads out of the repository: ${e.message}`, e.hint);
    throw e;
  }
  if (target !== undefined && entry !== undefined && entry.type !== "commit") return { path: target, entry };
  if (allowRemote) return undefined;
  const what = entry?.type === "commit" ? "is a submodule, which gitward does not read" : "is not a file or directory in the repository at this commit";
  throw fail(ErrorCode.Render, what, entry?.type === "commit" ? undefined : remoteHint);
}

/** `ref` resolved against `dir`, lexically as kustomize joins paths; null when it climbs above the root. */
function resolveRelative(dir: string, ref: string): string | null {
  const parts = dir === "" ? [] : dir.split("/");
  for (const seg of ref.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join("/");
}

function isUnder(path: string, dir: string): boolean {
  return dir === "" || path === dir || path.startsWith(`${dir}/`);
}

function outermost(dirs: string[]): string[] {
  const sorted = dirs.sort();
  return sorted.filter((d) => !sorted.some((o) => o !== d && isUnder(d, o)));
}
