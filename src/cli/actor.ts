import { userInfo } from "node:os";

/**
 * Who runs a push, for history and audit: `--by` when given, else the CI system's actor
 * (GitHub Actions and Gitea/Forgejo Actions `GITHUB_ACTOR`/`GITEA_ACTOR`, GitLab CI
 * `GITLAB_USER_LOGIN`), else the operating-system user.
 */
export function pushActor(by: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const given = by?.trim();
  if (given !== undefined && given !== "") return given;
  const ci = [
    ["GITEA_ACTOR", "gitea"], ["GITHUB_ACTOR", env["GITEA_ACTIONS"] === "true" ? "gitea" : "github"], ["GITLAB_USER_LOGIN", "gitlab"],
  ] as const;
  for (const [name, forge] of ci) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== "") return `${value} (${forge})`;
  }
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

/** Where the push ran, for the trigger's detail: the CI run's address when there is one. */
export function pushDetail(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run, CI_JOB_URL: job } = env;
  if (server !== undefined && repo !== undefined && run !== undefined) return `${server}/${repo}/actions/runs/${run}`;
  return job;
}
