import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root of gitward itself. */
export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/** What a CLI run printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the gitward CLI from source in a child process, as a user would. Asynchronous, so
 * servers the test runs in this process (a Git server) keep answering meanwhile.
 */
export function runCli(args: readonly string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(projectRoot, "src/cli/main.ts"), ...args],
      { cwd: opts.cwd ?? projectRoot, env: { ...process.env, NO_COLOR: "1", ...opts.env }, encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The files of a directory of gitward's checkout (e.g. examples/infra), path -> content. */
export function readTreeFiles(dir: string): Record<string, string> {
  const root = join(projectRoot, dir);
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(root, p)] = readFileSync(p, "utf8");
    }
  };
  walk(root);
  return out;
}
