import { GitwardError } from "../core/errors.ts";

/**
 * Normalises a repository-relative path: forward slashes, no `./`, no empty
 * segments, no trailing slash; "" and "." are the root. Absolute paths and `..`
 * segments are refused, so nothing outside the repository can be named.
 */
export function normalizeRepoPath(path: string): string {
  if (path.startsWith("/")) throw escapeError(path);
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") throw escapeError(path);
    segments.push(segment);
  }
  return segments.join("/");
}

/** True when a path from a tree listing is a plain relative path (git fsck refuses others, a crafted tree may not). */
export function isCleanTreePath(path: string): boolean {
  if (path === "" || path.startsWith("/")) return false;
  return path.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}

/** The `limit` error for a path, or a symlink's target, that leaves the repository. */
export function escapeError(path: string, target?: string): GitwardError {
  const detail =
    target === undefined
      ? "path escapes the repository"
      : `path escapes the repository: symlink points to "${target}"`;
  return new GitwardError("limit", detail, {
    subject: { location: { file: path } },
    hint: "paths and symlinks must stay inside the repository",
  });
}

/** Joins a directory and a name; "" is the root. */
export function joinRepoPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/** The directory part of a repository path; "" for a top-level entry. */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}
