import type { Commit, GitSource, ReadLimits, SignatureVerification, Snapshot, VerifiedCommit } from "./types.ts";
import { CatFileBatch } from "./batch-reader.ts";
import type { GitRepo } from "./git-command.ts";
import { resolveRevision } from "./resolve.ts";
import { createSnapshot } from "./snapshot.ts";
import { firstParentsSince } from "./first-parents.ts";
import { verifyCommit } from "./verify.ts";

/**
 * A {@link GitSource} over one git directory: a local repository used in place or
 * a mirror in the cache. Every snapshot reads through the same lazily started
 * `git cat-file --batch` process, which `close()` ends.
 */
export class RepoSource implements GitSource {
  readonly displayName: string;
  private readonly repo: GitRepo;
  private readonly limits: ReadLimits;
  private readonly reader: CatFileBatch;

  constructor(repo: GitRepo, limits: ReadLimits) {
    this.repo = repo;
    this.limits = limits;
    this.displayName = repo.displayName;
    this.reader = new CatFileBatch({ gitDir: repo.gitDir, displayName: repo.displayName });
  }

  /** The git directory read from (the mirror's, for a remote). */
  get gitDir(): string {
    return this.repo.gitDir;
  }

  resolve(rev: string, signal?: AbortSignal): Promise<Commit> {
    return resolveRevision(this.repo, rev, signal);
  }

  snapshot(commit: Commit, signal?: AbortSignal): Promise<Snapshot> {
    return createSnapshot(this.repo, commit, this.reader, this.limits, signal);
  }

  verify(commit: Commit, how: SignatureVerification, signal?: AbortSignal): Promise<VerifiedCommit> {
    return verifyCommit(this.repo, commit, how, signal);
  }

  firstParentsSince(since: string | undefined, head: string, max: number, signal?: AbortSignal): Promise<string[]> {
    return firstParentsSince(this.repo, since, head, max, signal);
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}
