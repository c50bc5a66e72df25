import type { CommandRunner } from "../core/command-runner.ts";
import { definedEnv, runGit } from "./git-command.ts";

/** Who a commit is by: a name and an email, without a date. */
export interface GitIdentity {
  readonly name: string;
  readonly email: string;
}

/** Options of {@link userIdentity}. */
export interface UserIdentityOptions {
  /** The environment, GIT_AUTHOR_* and git's own variables included. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory whose git configuration counts (a repository's own, then the user's). */
  readonly cwd: string;
  /** Milliseconds each `git config` may take; default 10 000. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The author the invoking user would commit as: GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL when
 * set, else `user.name` and `user.email` of the git configuration seen from `cwd`. Either
 * is undefined when nothing sets it; the caller decides whether that is an error.
 */
export async function userIdentity(runner: CommandRunner, opts: UserIdentityOptions): Promise<Partial<GitIdentity>> {
  const config = async (key: string): Promise<string | undefined> => {
    const r = await runGit(runner, {
      args: ["config", "--get", key],
      cwd: opts.cwd,
      env: definedEnv(opts.env),
      timeoutMs: opts.timeoutMs ?? 10_000,
      signal: opts.signal,
    });
    return r.exitCode === 0 ? nonEmpty(r.stdout.toString("utf8")) : undefined;
  };
  const name = nonEmpty(opts.env["GIT_AUTHOR_NAME"]) ?? (await config("user.name"));
  const email = nonEmpty(opts.env["GIT_AUTHOR_EMAIL"]) ?? (await config("user.email"));
  return { ...(name === undefined ? {} : { name }), ...(email === undefined ? {} : { email }) };
}

/** The committer of a commit by `author`: GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL when set, else the author. */
export function committerFor(author: GitIdentity, env: Readonly<Record<string, string | undefined>>): GitIdentity {
  return { name: nonEmpty(env["GIT_COMMITTER_NAME"]) ?? author.name, email: nonEmpty(env["GIT_COMMITTER_EMAIL"]) ?? author.email };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}
