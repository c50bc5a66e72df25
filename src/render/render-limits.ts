import type { RepositoryLimits } from "../config/schema.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { SourceLocation } from "../core/location.ts";
import type { ObjectLimit } from "./parse-manifests.ts";

/**
 * How much rendering one revision may produce, so that no commit can make gitward (the CLI in
 * CI, or the agent, which renders every new commit) run out of memory: about 2 KiB of memory
 * per rendered object (bench/RESULTS.md), plus the text parsed.
 */
export interface RenderLimits {
  /** Most objects one manifest file may give. Default 10 000. */
  readonly maxObjectsPerFile: number;
  /** Most objects one stack instance may render (plain or kustomize). Default 50 000. */
  readonly maxObjectsPerStack: number;
  /** Most objects all the stack instances of one revision may render together. Default 200 000. */
  readonly maxObjectsPerRevision: number;
  /** Most bytes of manifests one revision may parse: files of plain stacks and kustomize output. Default 128 MiB. */
  readonly maxBytesPerRevision: number;
}

/** The default {@link RenderLimits}. */
export function defaultRenderLimits(): RenderLimits {
  return { maxObjectsPerFile: 10_000, maxObjectsPerStack: 50_000, maxObjectsPerRevision: 200_000, maxBytesPerRevision: 128 * 1024 * 1024 };
}

/** The runner's limits, lowered where the repository's gitward.yaml asks for less (it cannot ask for more). */
export function effectiveLimits(runner: RenderLimits, repository: RepositoryLimits | undefined): RenderLimits {
  const low = (key: keyof RenderLimits): number => Math.min(runner[key], repository?.[key] ?? Infinity);
  return {
    maxObjectsPerFile: low("maxObjectsPerFile"),
    maxObjectsPerStack: low("maxObjectsPerStack"),
    maxObjectsPerRevision: low("maxObjectsPerRevision"),
    maxBytesPerRevision: low("maxBytesPerRevision"),
  };
}

const hint = "split large files and stacks; the limits are in docs/configuration.md#limits";

/**
 * What one revision has rendered so far, across its stack instances, and the stack being
 * rendered: every file and every kustomize output is counted against the limits before it is
 * parsed, and its objects while they are parsed, so the first thing past a limit stops the
 * stack with an error naming it.
 */
export class RenderBudget {
  readonly limits: RenderLimits;
  #objects = 0;
  #bytes = 0;

  constructor(limits: RenderLimits) {
    this.limits = limits;
  }

  /** Counts the bytes of a file (or kustomize output) about to be parsed. */
  takeBytes(bytes: number, location: SourceLocation): void {
    const max = this.limits.maxBytesPerRevision;
    if (this.#bytes + bytes > max) {
      throw new GitwardError(ErrorCode.Limit, `the manifests of this revision are more than ${max} bytes (limits.maxBytesPerRevision)`, { subject: { location }, hint });
    }
    this.#bytes += bytes;
  }

  /** Bytes still allowed, e.g. for kustomize's output. */
  bytesLeft(): number {
    return this.limits.maxBytesPerRevision - this.#bytes;
  }

  /** The bound of the file limit alone. */
  perFile(): ObjectLimit {
    const max = this.limits.maxObjectsPerFile;
    return { max, message: `more than ${max} objects in one file (limits.maxObjectsPerFile)`, hint };
  }

  /** The bound on the next file's objects: the tightest of the file (when `perFile`), what is left of the stack, and of the revision. */
  fileLimit(stackObjects: number, perFile: boolean): ObjectLimit {
    const { maxObjectsPerStack, maxObjectsPerRevision } = this.limits;
    const bounds: ObjectLimit[] = [
      { max: maxObjectsPerStack - stackObjects, message: `the stack renders more than ${maxObjectsPerStack} objects (limits.maxObjectsPerStack)`, hint },
      { max: maxObjectsPerRevision - this.#objects - stackObjects, message: `the stack instances of this revision render more than ${maxObjectsPerRevision} objects (limits.maxObjectsPerRevision)`, hint },
    ];
    if (perFile) bounds.unshift(this.perFile());
    return bounds.reduce((a, b) => (b.max < a.max ? b : a));
  }

  /** Counts a stack instance's objects, once rendered (or read from the cache), against the revision. */
  takeObjects(count: number, location: SourceLocation): void {
    const limit = this.fileLimit(0, false);
    if (count > limit.max) throw new GitwardError(ErrorCode.Limit, limit.message, { subject: { location }, hint });
    this.#objects += count;
  }
}
