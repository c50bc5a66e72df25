import { z } from "zod";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { ForgeKind } from "../forge/forge.ts";

/** The CI systems `gitward pr` recognises from their environment variables. */
export type CiSystem = "github-actions" | "gitea-actions" | "gitlab-ci" | "none";

/** What `gitward pr` can be told on the command line; each flag overrides what CI says. */
export interface PrContextFlags {
  readonly forge?: ForgeKind | undefined;
  readonly apiUrl?: string | undefined;
  readonly repository?: string | undefined;
  readonly pr?: number | undefined;
  readonly sha?: string | undefined;
  readonly base?: string | undefined;
}

/** Where the plan goes: the forge, repository and pull request, and the commits it is about. */
export interface PrContext {
  readonly ci: CiSystem;
  readonly forge: ForgeKind;
  /** The REST API base URL, from the CI environment or `--api-url`, never a built-in host. */
  readonly apiUrl: string;
  /** `owner/name` (GitHub, Gitea) or a GitLab project id or path. */
  readonly repository: string;
  readonly pr: number;
  /** The pull request's head commit, where statuses go; undefined means the planned head. */
  readonly headSha: string | undefined;
  /** The revision the plan starts from: the pull request's base commit. */
  readonly base: string;
}

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

const eventSchema = z.object({
  pull_request: z.object({
    number: z.number().int().positive(),
    head: z.object({ sha: z.string().min(1) }),
    base: z.object({ sha: z.string().min(1) }),
  }).optional(),
});

/** What one CI system says, before flags override it; `notes` explain what it could not say. */
interface Detected {
  ci: CiSystem;
  forge?: ForgeKind;
  apiUrl?: string;
  repository?: string;
  pr?: number;
  headSha?: string;
  base?: string;
  notes: string[];
}

/** Which CI the environment is, by the variables each one sets to `true`. */
export function detectCi(env: Env): CiSystem {
  if (env["GITEA_ACTIONS"] === "true" || env["FORGEJO_ACTIONS"] === "true") return "gitea-actions";
  if (env["GITHUB_ACTIONS"] === "true") return "github-actions";
  if (env["GITLAB_CI"] === "true") return "gitlab-ci";
  return "none";
}

/**
 * The pull request context: what the CI environment says (GitHub Actions, Gitea/Forgejo Actions,
 * GitLab CI), overridden by flags. Throws a config error listing everything still missing.
 * `readFile` reads the GitHub/Gitea event file (`GITHUB_EVENT_PATH`).
 */
export function prContext(flags: PrContextFlags, env: Env, readFile: (path: string) => string): PrContext {
  const d = fromCi(env, readFile);
  const forge = flags.forge ?? d.forge;
  const apiUrl = flags.apiUrl ?? d.apiUrl;
  const repository = flags.repository ?? d.repository;
  const pr = flags.pr ?? d.pr;
  const base = flags.base ?? d.base;
  const missing: string[] = [];
  if (forge === undefined) missing.push("the forge (--forge github|gitlab|gitea)");
  if (apiUrl === undefined) missing.push("the forge's API URL (--api-url, e.g. https://api.github.com, https://gitlab.example.com/api/v4, https://gitea.example.com/api/v1)");
  if (repository === undefined) missing.push("the repository (--repository owner/name, or a GitLab project id)");
  if (pr === undefined) missing.push("the pull request number (--pr N)");
  if (base === undefined) missing.push("the base revision (--base REV)");
  if (forge === undefined || apiUrl === undefined || repository === undefined || pr === undefined || base === undefined) {
    const where = d.ci === "none" ? "not running in GitHub Actions, Gitea/Forgejo Actions or GitLab CI" : `in ${d.ci}`;
    throw new GitwardError(ErrorCode.Config, `gitward pr: ${where}, and these are missing:\n${missing.map((m) => `  - ${m}`).join("\n")}`, {
      hint: [...d.notes, "run it in a pull request pipeline, or pass the flags named above"].join("; "),
    });
  }
  return { ci: d.ci, forge, apiUrl: apiUrl.replace(/\/+$/, ""), repository, pr, headSha: flags.sha ?? d.headSha, base };
}

function fromCi(env: Env, readFile: (path: string) => string): Detected {
  const ci = detectCi(env);
  if (ci === "gitlab-ci") return fromGitLab(env);
  if (ci === "none") return { ci, notes: [] };
  const d: Detected = { ci, forge: ci === "gitea-actions" ? ForgeKind.Gitea : ForgeKind.GitHub, notes: [] };
  setIf(d, "apiUrl", env["GITHUB_API_URL"]);
  setIf(d, "repository", env["GITHUB_REPOSITORY"]);
  const path = nonEmpty(env["GITHUB_EVENT_PATH"]);
  if (path === undefined) {
    d.notes.push("GITHUB_EVENT_PATH is not set, so the pull request is unknown");
    return d;
  }
  let event: z.infer<typeof eventSchema>;
  try {
    event = eventSchema.parse(JSON.parse(readFile(path)));
  } catch (e: unknown) {
    const why = e instanceof z.ZodError ? e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join(", ") : e instanceof Error ? e.message : String(e);
    throw new GitwardError(ErrorCode.Config, `${path}: cannot read the CI event (GITHUB_EVENT_PATH): ${why}`);
  }
  const pull = event.pull_request;
  if (pull === undefined) {
    d.notes.push(`the event in ${path} is not a pull request event (run the workflow on: pull_request)`);
    return d;
  }
  return { ...d, pr: pull.number, headSha: pull.head.sha, base: pull.base.sha };
}

function fromGitLab(env: Env): Detected {
  const d: Detected = { ci: "gitlab-ci", forge: ForgeKind.GitLab, notes: [] };
  setIf(d, "apiUrl", env["CI_API_V4_URL"]);
  setIf(d, "repository", env["CI_PROJECT_ID"]);
  // A merged results pipeline checks out the merge of both branches: its base is the target
  // branch's tip, and the statuses belong on the source branch's head, not on the merge.
  const merged = env["CI_MERGE_REQUEST_EVENT_TYPE"] === "merged_result";
  setIf(d, "headSha", merged ? env["CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"] ?? env["CI_COMMIT_SHA"] : env["CI_COMMIT_SHA"]);
  setIf(d, "base", merged ? env["CI_MERGE_REQUEST_TARGET_BRANCH_SHA"] : env["CI_MERGE_REQUEST_DIFF_BASE_SHA"]);
  const iid = nonEmpty(env["CI_MERGE_REQUEST_IID"]);
  if (iid === undefined) d.notes.push("CI_MERGE_REQUEST_IID is not set: the job must run in a merge request pipeline (rules: if: $CI_PIPELINE_SOURCE == \"merge_request_event\")");
  else if (/^[1-9]\d*$/.test(iid)) d.pr = Number(iid);
  else throw new GitwardError(ErrorCode.Config, `CI_MERGE_REQUEST_IID: expected a number, got "${iid}"`);
  return d;
}

function setIf<K extends "apiUrl" | "repository" | "headSha" | "base">(d: Detected, key: K, value: string | undefined): void {
  const v = nonEmpty(value);
  if (v !== undefined) d[key] = v;
}

function nonEmpty(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t === undefined || t === "" ? undefined : t;
}
