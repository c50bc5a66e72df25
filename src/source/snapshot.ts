import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve as resolvePath, sep } from "node:path";
import { GitwardError } from "../core/errors.ts";
import type { Commit, ReadLimits, Snapshot, TreeEntry } from "./types.ts";
import type { BlobReader } from "./batch-reader.ts";
import type { GitRepo } from "./git-command.ts";
import { shortSha } from "./git-command.ts";
import { normalizeRepoPath } from "./repo-path.ts";
import { TreeIndex, parseLsTree } from "./tree-index.ts";

/** Symlink targets longer than this are not read: no system resolves them (PATH_MAX). */
const maxLinkTarget = 4096;
/** Files read and written per round of `materialize`, bounding memory. */
const materializeBatch = 256;

/** What a {@link TreeSnapshot} is made of. */
export interface TreeSnapshotParts {
  readonly commit: Commit;
  readonly index: TreeIndex;
  readonly reader: BlobReader;
  readonly limits: ReadLimits;
  readonly displayName: string;
}

/**
 * Lists a commit's tree with one `git ls-tree`, reads its symlink targets, and
 * returns a snapshot over it. File contents are read later, on demand.
 */
export async function createSnapshot(
  repo: GitRepo,
  commit: Commit,
  reader: BlobReader,
  limits: ReadLimits,
  signal?: AbortSignal,
): Promise<TreeSnapshot> {
  const listing = await repo.output(
    { args: ["ls-tree", "-r", "-t", "-z", "--long", "--full-tree", commit.sha], signal },
    `listing the tree of ${shortSha(commit.sha)}`,
  );
  const entries = parseLsTree(listing);
  const links = TreeIndex.symlinks(entries).filter((e) => e.size <= maxLinkTarget);
  const contents = await reader.read(
    links.map((l) => l.oid),
    signal,
  );
  const targets = new Map(links.map((l, i) => [l.path, contents[i]?.toString("utf8") ?? ""]));
  const index = new TreeIndex(commit.tree, entries, targets);
  return new TreeSnapshot({ commit, index, reader, limits, displayName: repo.displayName });
}

/** A read-only view of one commit's tree, from indexes built once; contents come through a blob reader. */
export class TreeSnapshot implements Snapshot {
  readonly commit: Commit;
  private readonly parts: TreeSnapshotParts;
  private readonly listings = new Map<string, readonly TreeEntry[]>();
  private bytesRead = 0;

  constructor(parts: TreeSnapshotParts) {
    this.commit = parts.commit;
    this.parts = parts;
  }

  entry(path: string): TreeEntry | undefined {
    return this.parts.index.entry(normalizeRepoPath(path));
  }

  treeId(dir: string): string | undefined {
    const entry = this.entry(dir);
    return entry?.type === "tree" ? entry.oid : undefined;
  }

  /** Blob entries beneath a directory; empty when it does not exist. Listings are kept, as stacks share them. */
  listFiles(dir: string): readonly TreeEntry[] {
    const path = normalizeRepoPath(dir);
    const known = this.listings.get(path);
    if (known !== undefined) return known;
    const files = Object.freeze(this.parts.index.list(path, this.parts.limits.maxFiles));
    this.listings.set(path, files);
    return files;
  }

  async readFiles(paths: readonly string[], signal?: AbortSignal): Promise<Map<string, Buffer>> {
    const files = paths.map((path) => ({ path, entry: this.fileEntry(path) }));
    const oids = [...new Set(files.map((f) => f.entry.oid))];
    const sizes = new Map(files.map((f) => [f.entry.oid, f.entry.size]));
    const total = oids.reduce((sum, oid) => sum + (sizes.get(oid) ?? 0), 0);
    const { maxTotalBytes } = this.parts.limits;
    if (this.bytesRead + total > maxTotalBytes) {
      throw new GitwardError("limit", `reading ${total} more bytes would exceed the ${maxTotalBytes} bytes allowed per commit`, {
        hint: "read less of the repository at once (--stack, --env), or keep large files out of it",
      });
    }
    this.bytesRead += total;
    const contents = await this.parts.reader.read(oids, signal);
    const byOid = new Map(oids.map((oid, i) => [oid, contents[i] ?? Buffer.alloc(0)]));
    return new Map(files.map((f) => [f.path, byOid.get(f.entry.oid) ?? Buffer.alloc(0)]));
  }

  async readFile(path: string, signal?: AbortSignal): Promise<Buffer> {
    const files = await this.readFiles([path], signal);
    return files.get(path) ?? Buffer.alloc(0);
  }

  async materialize(dir: string, dest: string, signal?: AbortSignal): Promise<void> {
    const root = normalizeRepoPath(dir);
    if (this.treeId(root) === undefined) {
      throw new GitwardError("git", `no such directory at ${shortSha(this.commit.sha)} in ${this.parts.displayName}`, {
        subject: { location: { file: root === "" ? "." : root } },
      });
    }
    const base = resolvePath(dest);
    await mkdir(base, { recursive: true });
    const files = this.listFiles(root);
    for (let i = 0; i < files.length; i += materializeBatch) {
      const batch = files.slice(i, i + materializeBatch);
      const contents = await this.readFiles(
        batch.map((f) => f.path),
        signal,
      );
      for (const file of batch) {
        const target = resolvePath(base, root === "" ? file.path : file.path.slice(root.length + 1));
        if (!target.startsWith(base + sep)) throw new GitwardError("limit", "path escapes the destination", { subject: { location: { file: file.path } } });
        const mode = file.mode === "100755" ? 0o755 : 0o644;
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, contents.get(file.path) ?? Buffer.alloc(0), { mode });
        // The mode given to writeFile only applies to new files and is masked by the umask.
        await chmod(target, mode);
      }
    }
  }

  /** The blob at a path, after the size limit; a missing path or a directory is a `git` error naming it. */
  private fileEntry(path: string): TreeEntry {
    const entry = this.entry(path);
    if (entry?.type !== "blob") {
      const what = entry === undefined ? "no such file" : "not a file";
      throw new GitwardError("git", `${what} at ${shortSha(this.commit.sha)} in ${this.parts.displayName}`, {
        subject: { location: { file: path } },
      });
    }
    const { maxFileBytes } = this.parts.limits;
    if (entry.size > maxFileBytes) {
      throw new GitwardError("limit", `file is ${entry.size} bytes, more than the ${maxFileBytes} allowed`, {
        subject: { location: { file: path } },
        hint: "keep large files out of stack directories; manifests are text",
      });
    }
    return entry;
  }
}
