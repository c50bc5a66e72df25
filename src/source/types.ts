/** A person and time on a commit. */
export interface Signature {
  readonly name: string;
  readonly email: string;
  /** ISO 8601. */
  readonly date: string;
}

/** A resolved, immutable revision. */
export interface Commit {
  readonly sha: string;
  /** The root tree object id. */
  readonly tree: string;
  readonly author: Signature;
  readonly committer: Signature;
  /** The first line of the message. */
  readonly subject: string;
  /** The whole message as stored: subject, body and trailers (git ends it with a newline). */
  readonly message: string;
}

/** One entry of a commit's tree, as `git ls-tree -r -t --long` lists it. */
export interface TreeEntry {
  /** Repository-relative path with forward slashes, no leading `./`. */
  readonly path: string;
  /** Git mode: 100644, 100755, 120000 (symlink), 040000 (tree), 160000 (submodule). */
  readonly mode: string;
  readonly type: "blob" | "tree" | "commit";
  readonly oid: string;
  /** Size in bytes for blobs; -1 for trees and submodules. */
  readonly size: number;
}

/** Limits on what is read from a repository. */
export interface ReadLimits {
  /** Largest single file read, in bytes. Default 8 MiB. */
  readonly maxFileBytes: number;
  /** Largest total read through one snapshot, in bytes. Default 512 MiB. */
  readonly maxTotalBytes: number;
  /** Most files listed under one directory. Default 100 000. */
  readonly maxFiles: number;
}

/** The default {@link ReadLimits}. */
export function defaultReadLimits(): ReadLimits {
  return { maxFileBytes: 8 * 1024 * 1024, maxTotalBytes: 512 * 1024 * 1024, maxFiles: 100_000 };
}

/** How commit signatures are verified. */
export type SignatureVerification =
  | { readonly format: "ssh"; readonly allowedSignersFile: string }
  | { readonly format: "gpg"; readonly keyringFile: string };

/** A verified signature: who signed, with which key. */
export interface VerifiedCommit {
  readonly sha: string;
  readonly format: "ssh" | "gpg";
  /** The signer identity git reported (principal for SSH, uid for GPG). */
  readonly signer: string;
  readonly key: string;
}

/** A read-only view of one commit's tree. Nothing here touches a working tree. */
export interface Snapshot {
  readonly commit: Commit;
  /** The entry at a path ("" is the root tree), after resolving symlinks inside the repository. */
  entry(path: string): TreeEntry | undefined;
  /** The tree object id of a directory, the content key of everything beneath it. */
  treeId(dir: string): string | undefined;
  /** Blob entries beneath a directory, recursively, sorted by path; symlinks resolved, limits enforced. */
  listFiles(dir: string): readonly TreeEntry[];
  /** Reads files by path; throws a limit error for files too large. */
  readFiles(paths: readonly string[], signal?: AbortSignal): Promise<Map<string, Buffer>>;
  /** Reads one file; throws a git error naming the path when it does not exist. */
  readFile(path: string, signal?: AbortSignal): Promise<Buffer>;
  /** Writes a directory of the snapshot (recursively) to a new local directory, for tools like kustomize. */
  materialize(dir: string, dest: string, signal?: AbortSignal): Promise<void>;
}

/** A Git repository gitward reads from: a local one, or a remote mirrored into a cache. */
export interface GitSource {
  /** Where it is, with any credentials in a URL masked. */
  readonly displayName: string;
  /** Resolves a branch, tag, SHA or expression like `HEAD~1` to a commit. */
  resolve(rev: string, signal?: AbortSignal): Promise<Commit>;
  /** Lists a commit's tree once; further reads go through the snapshot. */
  snapshot(commit: Commit, signal?: AbortSignal): Promise<Snapshot>;
  /** Verifies the commit's signature; throws a signature error when missing or untrusted. */
  verify(commit: Commit, how: SignatureVerification, signal?: AbortSignal): Promise<VerifiedCommit>;
  /**
   * The commits of `head`'s first-parent history that `since` does not have, newest first, at
   * most `max` + 1 (so a caller sees there were more than `max`); without `since`, just `head`.
   */
  firstParentsSince(since: string | undefined, head: string, max: number, signal?: AbortSignal): Promise<string[]>;
  /** Releases the batch reader processes. */
  close(): Promise<void>;
}

