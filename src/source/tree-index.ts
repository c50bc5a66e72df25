import { GitwardError } from "../core/errors.ts";
import type { TreeEntry } from "./types.ts";
import { escapeError, isCleanTreePath, joinRepoPath, parentOf } from "./repo-path.ts";

/** The git mode of a symbolic link. */
export const symlinkMode = "120000";
/** Symlink hops followed before giving up, as Linux does (ELOOP after 40). */
const maxHops = 40;

/** Parses `git ls-tree -r -t -z --long` output into entries, refusing paths that are not clean. */
export function parseLsTree(output: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of output.toString("utf8").split("\0")) {
    if (record === "") continue;
    const tab = record.indexOf("\t");
    const [mode, type, oid, size] = record.slice(0, tab).split(/ +/);
    const path = record.slice(tab + 1);
    if (tab === -1 || mode === undefined || oid === undefined || size === undefined || !isTreeType(type)) {
      throw new GitwardError("git", `unexpected ls-tree output: ${JSON.stringify(record.slice(0, 200))}`);
    }
    if (!isCleanTreePath(path)) throw escapeError(path);
    entries.push({ path, mode, type, oid, size: size === "-" ? -1 : Number(size) });
  }
  return entries;
}

function isTreeType(type: string | undefined): type is TreeEntry["type"] {
  return type === "blob" || type === "tree" || type === "commit";
}

/** A path segment still to walk, and the symlink whose target it came from. */
interface Pending {
  readonly name: string;
  readonly link: string | undefined;
}

/** The state of one listing: where it started, what it found, the directories being walked. */
interface Walk {
  readonly top: string;
  readonly out: TreeEntry[];
  readonly maxFiles: number;
  readonly active: Set<string>;
}

/**
 * The indexes of one commit's tree: entries by path and children by directory,
 * built once so lookups and listings do no git work. Symlinks are resolved here,
 * inside the repository only.
 */
export class TreeIndex {
  private readonly root: TreeEntry;
  private readonly entries = new Map<string, TreeEntry>();
  private readonly children = new Map<string, TreeEntry[]>();
  private readonly targets: ReadonlyMap<string, string>;

  /** `targets` maps each symlink's path to its target; a link missing from it had a target too long to read. */
  constructor(rootTree: string, entries: readonly TreeEntry[], targets: ReadonlyMap<string, string>) {
    this.root = { path: "", mode: "040000", type: "tree", oid: rootTree, size: -1 };
    this.targets = targets;
    for (const entry of entries) {
      this.entries.set(entry.path, entry);
      const parent = parentOf(entry.path);
      const siblings = this.children.get(parent);
      if (siblings === undefined) this.children.set(parent, [entry]);
      else siblings.push(entry);
    }
  }

  /**
   * The real path of a normalised path, with every symlink along it replaced by its
   * target; undefined when nothing is there. Throws when a link leaves the repository.
   */
  realPath(path: string): string | undefined {
    const todo: Pending[] = path === "" ? [] : path.split("/").reverse().map((name) => ({ name, link: undefined }));
    const real: string[] = [];
    let hops = 0;
    for (let seg = todo.pop(); seg !== undefined; seg = todo.pop()) {
      if (seg.name === "" || seg.name === ".") continue;
      if (seg.name === "..") {
        if (real.pop() === undefined) throw escapeError(seg.link ?? path, this.targets.get(seg.link ?? ""));
        continue;
      }
      real.push(seg.name);
      const here = real.join("/");
      const entry = this.entries.get(here);
      if (entry === undefined) return undefined;
      if (entry.mode === symlinkMode) {
        hops += 1;
        const target = this.linkTarget(here, hops);
        real.pop();
        for (const name of target.split("/").reverse()) todo.push({ name, link: here });
      } else if (entry.type !== "tree" && todo.length > 0) {
        return undefined;
      }
    }
    return real.join("/");
  }

  private linkTarget(link: string, hops: number): string {
    if (hops > maxHops) {
      throw new GitwardError("limit", "too many levels of symbolic links", { subject: { location: { file: link } } });
    }
    const target = this.targets.get(link);
    if (target === undefined) {
      throw new GitwardError("limit", "symlink target is too long", { subject: { location: { file: link } } });
    }
    if (target.startsWith("/")) throw escapeError(link, target);
    return target;
  }

  /** The entry a normalised path leads to, reported under that path; undefined when absent. */
  entry(path: string): TreeEntry | undefined {
    const real = this.realPath(path);
    if (real === undefined) return undefined;
    const entry = real === "" ? this.root : this.entries.get(real);
    if (entry === undefined || entry.path === path) return entry;
    return { ...entry, path };
  }

  /** Every symlink of the tree, whose targets must be read before the index is built. */
  static symlinks(entries: readonly TreeEntry[]): TreeEntry[] {
    return entries.filter((e) => e.mode === symlinkMode);
  }

  /**
   * Blob entries beneath a normalised directory, recursively, sorted by path.
   * Symlinks are followed inside the repository (a directory link at most once per
   * branch of the walk, so cycles end); submodules and dangling links are skipped.
   */
  list(dir: string, maxFiles: number): TreeEntry[] {
    const real = this.realPath(dir);
    const top = real === undefined ? undefined : real === "" ? this.root : this.entries.get(real);
    if (real === undefined || top?.type !== "tree") return [];
    const walk: Walk = { top: dir, out: [], maxFiles, active: new Set([real]) };
    this.walk(real, dir, walk);
    return walk.out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private walk(realDir: string, virtualDir: string, walk: Walk): void {
    const { out, active } = walk;
    for (const child of this.children.get(realDir) ?? []) {
      const path = joinRepoPath(virtualDir, child.path.slice(child.path.lastIndexOf("/") + 1));
      let target: TreeEntry | undefined = child;
      if (child.mode === symlinkMode) {
        const real = this.realPath(child.path);
        target = real === undefined ? undefined : real === "" ? this.root : this.entries.get(real);
      }
      if (target === undefined || target.type === "commit") continue;
      if (target.type === "blob") {
        out.push(target.path === path ? target : { ...target, path });
        if (out.length > walk.maxFiles) {
          throw new GitwardError("limit", `more than ${walk.maxFiles} files`, {
            subject: { location: { file: walk.top === "" ? "." : walk.top } },
            hint: "point the stack at a smaller directory",
          });
        }
      } else if (!active.has(target.path)) {
        active.add(target.path);
        this.walk(target.path, path, walk);
        active.delete(target.path);
      }
    }
  }
}
