import { ErrorCode, GitwardError } from "../../../core/errors.ts";
import { checkAttrs } from "./atomic.ts";
import { normalizeRelPath } from "./paths.ts";

/**
 * One change to a path under a target root, relative to it. `write` replaces a file's content,
 * mode and owner; `mkdir` creates a directory or fixes its mode and owner; `remove` deletes a
 * file or symlink (a missing one is fine); `rmdir` deletes an empty directory.
 */
export type Operation =
  | { readonly op: "write"; readonly path: string; readonly content: Buffer; readonly mode: number; readonly uid?: number; readonly gid?: number }
  | { readonly op: "mkdir"; readonly path: string; readonly mode: number; readonly uid?: number; readonly gid?: number }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "rmdir"; readonly path: string };

/** The kinds of {@link Operation}. */
export type OperationKind = Operation["op"];

/** The verb of an operation in messages: `conf.d/a.conf: cannot write: …`. */
export function verbOf(op: OperationKind): string {
  return op === "write" ? "write" : op === "mkdir" ? "create directory" : op === "remove" ? "remove" : "remove directory";
}

/** Operations with their paths normalized and modes and owners checked; a path named twice is refused. */
export function checkOperations(ops: readonly Operation[]): Operation[] {
  const seen = new Set<string>();
  return ops.map((o) => {
    const path = normalizeRelPath(o.path);
    if (seen.has(path)) throw new GitwardError(ErrorCode.Internal, `${path}: named by two operations of one transaction`);
    seen.add(path);
    if (o.op === "write" || o.op === "mkdir") checkAttrs(path, o);
    return path === o.path ? o : { ...o, path };
  });
}

/**
 * A run of operations done together: consecutive writes and removes run concurrently
 * ("files"); each mkdir and rmdir runs alone, in order, so directories exist before the
 * files in them and are empty before they are removed.
 */
export interface Segment {
  readonly kind: "files" | "dir";
  /** Indexes into the operation list, ascending. */
  readonly indexes: readonly number[];
}

/** Splits operations (or journal entries) into {@link Segment}s, keeping their order. */
export function segments(ops: readonly { readonly op: OperationKind }[]): Segment[] {
  const out: Segment[] = [];
  let files: number[] = [];
  ops.forEach((o, i) => {
    if (o.op === "write" || o.op === "remove") {
      files.push(i);
      return;
    }
    if (files.length > 0) out.push({ kind: "files", indexes: files });
    files = [];
    out.push({ kind: "dir", indexes: [i] });
  });
  if (files.length > 0) out.push({ kind: "files", indexes: files });
  return out;
}
