import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** True when the tests run as root (CI does), so chown to other users can be tested. */
export const isRoot = process.getuid?.() === 0;

/** The message of an owner test skipped when not root. */
export const needsRoot = isRoot ? false : "needs root to chown to uid 65534 (CI runs as root)";

/** A fresh temporary directory; `cleanup` removes it. */
export function tempRoot(prefix = "gitward-hostfs-"): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** One entry of a {@link snapshot}. */
export interface Entry {
  readonly type: "file" | "dir" | "symlink" | "other";
  readonly mode: string;
  readonly owner: string;
  /** File content (hex when not UTF-8) or symlink target. */
  readonly data?: string;
}

/**
 * Every path under a root (without `.gitward` unless asked), with type, mode, owner and
 * content: two snapshots are equal when the trees are byte for byte the same.
 */
export function snapshot(root: string, opts: { withState?: boolean } = {}): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      if (rel === "" && name === ".gitward" && opts.withState !== true) continue;
      const r = rel === "" ? name : `${rel}/${name}`;
      const abs = join(root, r);
      const info = lstatSync(abs);
      const base = { mode: (info.mode & 0o7777).toString(8), owner: `${info.uid}:${info.gid}` };
      if (info.isDirectory()) {
        out[r] = { type: "dir", ...base };
        walk(r);
      } else if (info.isFile()) out[r] = { type: "file", ...base, data: readFileSync(abs).toString("utf8") };
      else if (info.isSymbolicLink()) out[r] = { type: "symlink", ...base, data: readlinkSync(abs) };
      else out[r] = { type: "other", ...base };
    }
  };
  walk("");
  return out;
}

/** Paths under a root whose name starts with `.gitward-tmp-` (left by a killed write). */
export function tempFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: "utf8" }).filter((p) => p.split("/").pop()?.startsWith(".gitward-tmp-") === true);
}

/** The names in `<root>/.gitward`, or none. */
export function stateEntries(root: string): string[] {
  try {
    return readdirSync(join(root, ".gitward")).sort();
  } catch {
    return [];
  }
}

/** An assert.rejects/throws validator: a GitwardError whose message matches. */
export function gitwardError(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    if (!(e instanceof Error) || e.name !== "GitwardError") throw new Error(`not a GitwardError: ${String(e)}`);
    if (!pattern.test(e.message)) throw new Error(`message ${JSON.stringify(e.message)} does not match ${String(pattern)}`);
    return true;
  };
}
