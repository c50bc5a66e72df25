import type { CommandResult, CommandRunner, CommandSpec } from "../core/command-runner.ts";
import { CommandStartError } from "../core/command-runner.ts";
import { GitwardError } from "../core/errors.ts";

/** One git invocation: arguments (never a shell string) and what to run it with. */
export interface GitCall {
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: Buffer | string;
  readonly timeoutMs?: number;
  readonly maxStdoutBytes?: number;
  readonly signal?: AbortSignal | undefined;
  readonly cwd?: string;
}

/** Runs git through the runner; a missing git binary becomes a clear error, a non-zero exit is returned. */
export async function runGit(runner: CommandRunner, call: GitCall): Promise<CommandResult> {
  const spec: CommandSpec = {
    command: "git",
    args: call.args,
    ...(call.env === undefined ? {} : { env: call.env }),
    ...(call.input === undefined ? {} : { input: call.input }),
    ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
    ...(call.maxStdoutBytes === undefined ? {} : { maxStdoutBytes: call.maxStdoutBytes }),
    ...(call.signal === undefined ? {} : { signal: call.signal }),
    ...(call.cwd === undefined ? {} : { cwd: call.cwd }),
  };
  try {
    return await runner.run(spec);
  } catch (error: unknown) {
    if (error instanceof CommandStartError) {
      // Only a missing program calls for installing git; a full process table or file table does not.
      throw new GitwardError("git", "cannot run git", error.errno === "ENOENT" ? { cause: error, hint: "install git and put it on PATH" } : { cause: error });
    }
    throw error;
  }
}

/**
 * The line of git's stderr worth showing: the first `fatal:` or `error:` line, else
 * the first one. A line printed just before it (by ssh, or the server) is the cause
 * and is shown instead; a line ending in a colon is continued by the next.
 */
export function firstErrorLine(result: CommandResult): string {
  if (result.timedOut) return "timed out";
  const lines = result.stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^(hint|warning):/.test(l));
  const at = Math.max(0, lines.findIndex((l) => /^(fatal|error):/.test(l)));
  const line = at > 0 ? lines[at - 1] : lines[at];
  if (line === undefined) return `git exited with code ${result.exitCode}`;
  const text = line.replace(/^(fatal|error):\s*/, "");
  const next = at > 0 ? undefined : lines[at + 1];
  return text.endsWith(":") && next !== undefined ? `${text} ${next}` : text;
}

/** A repository git is run against, by its git directory, so no working tree is ever read. */
export class GitRepo {
  readonly runner: CommandRunner;
  readonly gitDir: string;
  /** Where the repository is, credentials masked. */
  readonly displayName: string;
  /** Masks credentials in text coming from git. */
  readonly mask: (text: string) => string;

  constructor(runner: CommandRunner, gitDir: string, displayName: string, mask?: (text: string) => string) {
    this.runner = runner;
    this.gitDir = gitDir;
    this.displayName = displayName;
    this.mask = mask ?? ((text) => text);
  }

  /** Runs `git --git-dir=<dir> <args>`; global options such as `-c` may lead the args. */
  run(call: GitCall): Promise<CommandResult> {
    return runGit(this.runner, { ...call, args: [`--git-dir=${this.gitDir}`, ...call.args] });
  }

  /** Runs git and returns stdout, throwing a `git` error with the masked stderr on failure. */
  async output(call: GitCall, what: string): Promise<Buffer> {
    const result = await this.run(call);
    if (result.exitCode !== 0 || result.truncated) throw this.failure(what, result);
    return result.stdout;
  }

  /** The error for a failed git command: what was being done, and git's reason, masked. */
  failure(what: string, result: CommandResult): GitwardError {
    return new GitwardError("git", `${what} in ${this.displayName} failed: ${failureReason(result, this.mask)}`);
  }
}

/** Why a git command failed, for a message: git's own line, masked, or that its output was too large. */
export function failureReason(result: CommandResult, mask: (text: string) => string): string {
  return result.truncated ? "output too large" : mask(firstErrorLine(result));
}

/** An environment with its unset variables left out, as a command's environment takes it. */
export function definedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** The first 7 hex digits of an object id, as git shows it. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
