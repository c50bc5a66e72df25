import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { ForgeKind } from "../forge/forge.ts";
import type { Env } from "./ci-context.ts";

/** Where the forge token is read from: never a flag's value, so it stays out of process lists and shell history. */
export interface TokenFlags {
  /** The environment variable holding the token (default per forge, see {@link defaultTokenEnvs}). */
  readonly tokenEnv?: string | undefined;
  /** A file holding the token (surrounding whitespace ignored). */
  readonly tokenFile?: string | undefined;
}

/** The variables tried, in order, when `--token-env` is not given. */
export function defaultTokenEnvs(forge: ForgeKind): readonly string[] {
  if (forge === "gitea") return ["GITEA_TOKEN", "GITHUB_TOKEN"];
  if (forge === "gitlab") return ["GITLAB_TOKEN"];
  return ["GITHUB_TOKEN"];
}

/** The token and where it came from (for messages: never the token itself). */
export interface ResolvedToken {
  readonly token: string;
  /** `$GITHUB_TOKEN` or the file's path. */
  readonly source: string;
}

/** Reads the forge token from `--token-file`, `--token-env` or the forge's default variables; throws naming what to set. */
export function resolveToken(forge: ForgeKind, flags: TokenFlags, env: Env, readFile: (path: string) => string): ResolvedToken {
  if (flags.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFile(flags.tokenFile);
    } catch (e: unknown) {
      throw new GitwardError(ErrorCode.Config, `--token-file ${flags.tokenFile}: cannot read the token file`, { cause: e });
    }
    const token = text.trim();
    if (token === "") throw new GitwardError(ErrorCode.Config, `--token-file ${flags.tokenFile}: the file is empty`);
    return { token, source: flags.tokenFile };
  }
  const names = flags.tokenEnv === undefined ? defaultTokenEnvs(forge) : [flags.tokenEnv];
  for (const name of names) {
    const token = env[name]?.trim();
    if (token !== undefined && token !== "") return { token, source: `$${name}` };
  }
  throw new GitwardError(ErrorCode.Config, `no ${forge} token: ${names.map((n) => `$${n}`).join(" and ")} ${names.length > 1 ? "are" : "is"} not set`, { hint: tokenHint(forge) });
}

/** What token each forge needs, and how CI provides it. */
export function tokenHint(forge: ForgeKind): string {
  if (forge === "gitlab") {
    return "set GITLAB_TOKEN (a masked CI/CD variable) to a project or personal access token with the api scope and the Reporter role or above; CI_JOB_TOKEN cannot post merge request notes";
  }
  if (forge === "gitea") return "set GITEA_TOKEN: env: { GITEA_TOKEN: ${{ secrets.GITEA_TOKEN }} } with a token that can write to the repository (write:repository, write:issue), or pass --token-env/--token-file";
  return "set GITHUB_TOKEN: env: { GITHUB_TOKEN: ${{ github.token }} }, with permissions: pull-requests: write and statuses: write; or pass --token-env/--token-file";
}
