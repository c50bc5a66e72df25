import { createHash } from "node:crypto";
import { parse } from "yaml";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { isRecord, type JsonValue } from "../core/object.ts";
import type { Snapshot } from "../source/types.ts";

/** The file names kustomize recognises, in its order of preference. */
export const kustomizationNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;

/** Everything a kustomize build of one directory reads from the repository. */
export interface KustomizeInputs {
  /** Directories to materialize whole (repository-relative). */
  readonly dirs: readonly string[];
  /** Single files outside those directories. */
  readonly files: readonly string[];
  /** References to remote bases (URLs, git repositories), which are refused unless allowed. */
  readonly remote: readonly { readonly file: string; readonly ref: string }[];
  /** A digest of the content of all inputs: the render cache key part. */
  readonly digest: string;
}

/** The kustomization file in a directory of the snapshot, if any. */
export function findKustomization(snapshot: Snapshot, dir: string): string | undefined {
  for (const name of kustomizationNames) {
    const path = dir === "" ? name : `${dir}/${name}`;
    if (snapshot.entry(path)?.type === "blob") return path;
  }
  return undefined;
}

const pathFields = ["resources", "bases", "components", "crds", "patchesStrategicMerge", "generators", "transformers", "validators", "configurations"];
const nestedPathFields: Record<string, readonly string[]> = {
  patches: ["path"],
  patchesJson6902: ["path"],
  replacements: ["path"],
  configMapGenerator: ["files", "envs", "env"],
  secretGenerator: ["files", "envs", "env"],
  openapi: ["path"],
};

/**
 * Walks a kustomization and every local kustomization it references, collecting the
 * directories and files it reads, so the build can run on exactly those and the result
 * can be cached by their content.
 */
export async function collectKustomizeInputs(snapshot: Snapshot, dir: string, signal?: AbortSignal): Promise<KustomizeInputs> {
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
    const doc = parseKustomization(kfile, await snapshot.readFile(kfile, signal));
    for (const ref of referencedPaths(doc)) {
      if (isRemoteRef(ref)) {
        remote.push({ file: kfile, ref });
        continue;
      }
      const target = resolveRelative(current, ref, kfile);
      const entry = snapshot.entry(target);
      if (entry?.type === "tree") queue.push(target);
      else if (entry?.type === "blob" && !isUnder(target, current)) files.add(target);
    }
  }
  // Files rather than tree ids, so a symlinked file changed elsewhere changes the key.
  const parts = [...dirs].sort().flatMap((d) => snapshot.listFiles(d).map((f) => `d:${f.path}:${f.oid}`));
  for (const f of [...files].sort()) parts.push(`f:${f}:${snapshot.entry(f)?.oid ?? "-"}`);
  for (const r of remote) parts.push(`r:${r.file}:${r.ref}`);
  const digest = createHash("sha256").update(parts.join("\n")).digest("hex");
  return { dirs: outermost([...dirs]), files: [...files].sort(), remote, digest };
}

function parseKustomization(file: string, content: Buffer): { [key: string]: JsonValue } {
  let doc: unknown;
  try {
    doc = parse(content.toString("utf8"), { version: "1.2" });
  } catch (e: unknown) {
    throw new GitwardError(ErrorCode.Render, "invalid kustomization", { subject: { location: { file } }, cause: e });
  }
  if (!isRecord(doc)) throw new GitwardError(ErrorCode.Render, "kustomization is not an object", { subject: { location: { file } } });
  return doc;
}

function referencedPaths(doc: { [key: string]: JsonValue }): string[] {
  const out: string[] = [];
  const addString = (v: JsonValue | undefined): void => {
    // Inline patches are multi-line YAML, not paths.
    if (typeof v === "string" && !v.includes("\n")) out.push(v);
  };
  // Generator file entries may be `key=path`.
  const addFileEntry = (v: JsonValue | undefined): void => addString(typeof v === "string" && v.includes("=") ? v.slice(v.indexOf("=") + 1) : v);
  for (const field of pathFields) {
    const v = doc[field];
    if (Array.isArray(v)) v.forEach(addString);
  }
  for (const [field, keys] of Object.entries(nestedPathFields)) {
    const v = doc[field];
    const items = Array.isArray(v) ? v : isRecord(v) ? [v] : [];
    for (const item of items) {
      if (!isRecord(item)) continue;
      const add = field.endsWith("Generator") ? addFileEntry : addString;
      for (const key of keys) {
        const inner = item[key];
        if (Array.isArray(inner)) inner.forEach(add);
        else add(inner);
      }
    }
  }
  return out;
}

/** True for references kustomize would fetch over the network. */
export function isRemoteRef(ref: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(ref) || /^(git@|github\.com\/|gitlab\.com\/|bitbucket\.org\/)/.test(ref) || ref.includes("?ref=");
}

function resolveRelative(dir: string, ref: string, kfile: string): string {
  if (ref.startsWith("/")) {
    throw new GitwardError(ErrorCode.Limit, `"${ref}" is an absolute path outside the repository`, { subject: { location: { file: kfile } } });
  }
  const parts = dir === "" ? [] : dir.split("/");
  for (const seg of ref.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) {
        throw new GitwardError(ErrorCode.Limit, `"${ref}" escapes the repository`, { subject: { location: { file: kfile } } });
      }
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
