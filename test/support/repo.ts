import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Environment for deterministic test commits, independent of the user's git config. */
export const gitTestEnv: Record<string, string> = {
  GIT_AUTHOR_NAME: "Test Author",
  GIT_AUTHOR_EMAIL: "author@example.com",
  GIT_COMMITTER_NAME: "Test Committer",
  GIT_COMMITTER_EMAIL: "committer@example.com",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

/** A real Git repository in a temporary directory, for tests. */
export interface TestRepo {
  readonly dir: string;
  /** Writes files (path -> content; null deletes) and commits them; returns the new SHA. */
  commit(files: Record<string, string | Buffer | null>, message?: string): string;
  /** Creates a symlink at path pointing to target and commits it. */
  symlink(path: string, target: string, message?: string): string;
  git(...args: string[]): string;
  remove(): void;
}

/** Makes an empty repository with branch `main`. */
export function makeRepo(): TestRepo {
  const dir = mkdtempSync(join(tmpdir(), "gitward-repo-"));
  const git = (...args: string[]): string =>
    execFileSync("git", args, { cwd: dir, env: { ...process.env, ...gitTestEnv }, encoding: "utf8" }).trim();
  git("init", "-q", "-b", "main");
  let n = 0;
  const commitAll = (message: string): string => {
    git("add", "-A");
    git("commit", "-q", "--allow-empty", "-m", message);
    return git("rev-parse", "HEAD");
  };
  return {
    dir,
    git,
    commit(files, message) {
      for (const [path, content] of Object.entries(files)) {
        const abs = join(dir, path);
        if (content === null) {
          rmSync(abs, { force: true, recursive: true });
          continue;
        }
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, content);
      }
      n += 1;
      return commitAll(message ?? `commit ${n}`);
    },
    symlink(path, target, message) {
      const abs = join(dir, path);
      mkdirSync(dirname(abs), { recursive: true });
      symlinkSync(target, abs);
      return commitAll(message ?? `symlink ${path}`);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
