import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GitwardError } from "../../src/core/errors.ts";
import { detectCi, prContext, type Env, type PrContext, type PrContextFlags } from "../../src/pr/ci-context.ts";
import { resolveToken } from "../../src/pr/token.ts";

const head = "a".repeat(40);
const base = "b".repeat(40);
const prEvent = JSON.stringify({ action: "synchronize", number: 42, pull_request: { number: 42, head: { sha: head, ref: "change" }, base: { sha: base, ref: "main" } } });
const pushEvent = JSON.stringify({ ref: "refs/heads/main", after: head });
const files: Record<string, string> = { "/event/pr.json": prEvent, "/event/push.json": pushEvent, "/event/bad.json": "{ not json", "/token": "  s3cret\n", "/empty": "\n" };
const readFile = (p: string): string => {
  const f = files[p];
  if (f === undefined) throw new Error(`ENOENT: ${p}`);
  return f;
};

const github: Env = { GITHUB_ACTIONS: "true", GITHUB_API_URL: "https://ghe.example.com/api/v3", GITHUB_REPOSITORY: "acme/infra", GITHUB_EVENT_PATH: "/event/pr.json" };
const gitea: Env = { ...github, GITEA_ACTIONS: "true", GITHUB_API_URL: "https://git.example.com/api/v1/" };
const forgejo: Env = { ...github, FORGEJO_ACTIONS: "true", GITHUB_API_URL: "https://code.example.org/api/v1" };
const gitlab: Env = {
  GITLAB_CI: "true", CI_API_V4_URL: "https://gitlab.example.com/api/v4", CI_PROJECT_ID: "17", CI_MERGE_REQUEST_IID: "7",
  CI_MERGE_REQUEST_DIFF_BASE_SHA: base, CI_COMMIT_SHA: head,
};

describe("pull request context from CI", () => {
  const cases: { name: string; env: Env; flags?: PrContextFlags; want: PrContext }[] = [
    { name: "GitHub Actions", env: github, want: { ci: "github-actions", forge: "github", apiUrl: "https://ghe.example.com/api/v3", repository: "acme/infra", pr: 42, headSha: head, base } },
    { name: "Gitea Actions (trailing slash dropped)", env: gitea, want: { ci: "gitea-actions", forge: "gitea", apiUrl: "https://git.example.com/api/v1", repository: "acme/infra", pr: 42, headSha: head, base } },
    { name: "Forgejo Actions", env: forgejo, want: { ci: "gitea-actions", forge: "gitea", apiUrl: "https://code.example.org/api/v1", repository: "acme/infra", pr: 42, headSha: head, base } },
    { name: "GitLab CI", env: gitlab, want: { ci: "gitlab-ci", forge: "gitlab", apiUrl: "https://gitlab.example.com/api/v4", repository: "17", pr: 7, headSha: head, base } },
    {
      name: "GitLab CI, merged results pipeline: base is the target tip, statuses on the source head",
      env: { ...gitlab, CI_MERGE_REQUEST_EVENT_TYPE: "merged_result", CI_COMMIT_SHA: "d".repeat(40), CI_MERGE_REQUEST_SOURCE_BRANCH_SHA: head, CI_MERGE_REQUEST_TARGET_BRANCH_SHA: "e".repeat(40) },
      want: { ci: "gitlab-ci", forge: "gitlab", apiUrl: "https://gitlab.example.com/api/v4", repository: "17", pr: 7, headSha: head, base: "e".repeat(40) },
    },
    {
      name: "flags override CI",
      env: github,
      flags: { forge: "gitea", apiUrl: "http://127.0.0.1:3000/api/v1", repository: "o/r", pr: 5, sha: "c".repeat(40), base: "origin/main" },
      want: { ci: "github-actions", forge: "gitea", apiUrl: "http://127.0.0.1:3000/api/v1", repository: "o/r", pr: 5, headSha: "c".repeat(40), base: "origin/main" },
    },
    {
      name: "outside CI, everything from flags",
      env: {},
      flags: { forge: "gitlab", apiUrl: "https://gl.example.com/api/v4", repository: "group/sub/project", pr: 3, base: "main" },
      want: { ci: "none", forge: "gitlab", apiUrl: "https://gl.example.com/api/v4", repository: "group/sub/project", pr: 3, headSha: undefined, base: "main" },
    },
    {
      name: "a push event, with --pr and --base",
      env: { ...github, GITHUB_EVENT_PATH: "/event/push.json" },
      flags: { pr: 9, base: "origin/main" },
      want: { ci: "github-actions", forge: "github", apiUrl: "https://ghe.example.com/api/v3", repository: "acme/infra", pr: 9, headSha: undefined, base: "origin/main" },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(prContext(c.flags ?? {}, c.env, readFile), c.want));
  }

  it("detects each CI by its variables, and none without them", () => {
    assert.deepEqual([github, gitea, forgejo, gitlab, {}, { GITHUB_ACTIONS: "false" }].map(detectCi), ["github-actions", "gitea-actions", "gitea-actions", "gitlab-ci", "none", "none"]);
  });

  const failures: { name: string; env: Env; flags?: PrContextFlags; message: RegExp }[] = [
    { name: "outside CI with no flags lists everything missing", env: {}, message: /not running in GitHub Actions.*\n {2}- the forge.*\n {2}- the forge's API URL.*\n {2}- the repository.*\n {2}- the pull request number.*\n {2}- the base revision/ },
    { name: "outside CI, some flags given, names only what is missing", env: {}, flags: { forge: "github", repository: "a/b", pr: 1 }, message: /missing:\n {2}- the forge's API URL[^\n]*\n {2}- the base revision \(--base REV\)$/ },
    { name: "a push event leaves the PR unknown, and says why", env: { ...github, GITHUB_EVENT_PATH: "/event/push.json" }, message: /in github-actions, and these are missing:\n {2}- the pull request number/ },
    { name: "GitLab outside a merge request pipeline", env: { ...gitlab, CI_MERGE_REQUEST_IID: undefined, CI_MERGE_REQUEST_DIFF_BASE_SHA: undefined }, message: /in gitlab-ci.*\n {2}- the pull request number.*\n {2}- the base revision/ },
    { name: "an unreadable event file", env: { ...github, GITHUB_EVENT_PATH: "/event/bad.json" }, message: /\/event\/bad.json: cannot read the CI event/ },
    { name: "a missing event file", env: { ...github, GITHUB_EVENT_PATH: "/event/none.json" }, message: /\/event\/none.json: cannot read the CI event \(GITHUB_EVENT_PATH\): ENOENT/ },
  ];
  for (const f of failures) {
    it(f.name, () => assert.throws(() => prContext(f.flags ?? {}, f.env, readFile), (e: unknown) => e instanceof GitwardError && f.message.test(e.message)));
  }

  it("hints at the merge request rule when GitLab has no MR", () => {
    assert.throws(() => prContext({}, { ...gitlab, CI_MERGE_REQUEST_IID: undefined }, readFile), (e: unknown) => e instanceof GitwardError && /merge_request_event/.test(e.hint ?? ""));
  });
});

describe("the forge token", () => {
  it("comes from each forge's default variable", () => {
    assert.deepEqual(resolveToken("github", {}, { GITHUB_TOKEN: "gh" }, readFile), { token: "gh", source: "$GITHUB_TOKEN" });
    assert.deepEqual(resolveToken("gitlab", {}, { GITLAB_TOKEN: "gl", GITHUB_TOKEN: "gh" }, readFile), { token: "gl", source: "$GITLAB_TOKEN" });
    assert.deepEqual(resolveToken("gitea", {}, { GITEA_TOKEN: "gt", GITHUB_TOKEN: "gh" }, readFile), { token: "gt", source: "$GITEA_TOKEN" });
    assert.deepEqual(resolveToken("gitea", {}, { GITHUB_TOKEN: "gh" }, readFile), { token: "gh", source: "$GITHUB_TOKEN" });
  });

  it("comes from --token-env or --token-file when given", () => {
    assert.deepEqual(resolveToken("github", { tokenEnv: "MY_TOKEN" }, { MY_TOKEN: "mine", GITHUB_TOKEN: "gh" }, readFile), { token: "mine", source: "$MY_TOKEN" });
    assert.deepEqual(resolveToken("github", { tokenFile: "/token" }, { GITHUB_TOKEN: "gh" }, readFile), { token: "s3cret", source: "/token" });
  });

  it("is an error naming what to set, never a silent pass", () => {
    assert.throws(() => resolveToken("gitlab", {}, { CI_JOB_TOKEN: "job" }, readFile), (e: unknown) => e instanceof GitwardError && /no gitlab token: \$GITLAB_TOKEN is not set/.test(e.message) && /CI_JOB_TOKEN cannot post merge request notes/.test(e.hint ?? ""));
    assert.throws(() => resolveToken("gitea", {}, {}, readFile), /no gitea token: \$GITEA_TOKEN and \$GITHUB_TOKEN are not set/);
    assert.throws(() => resolveToken("github", { tokenEnv: "NOPE" }, { GITHUB_TOKEN: "gh" }, readFile), /\$NOPE is not set/);
    assert.throws(() => resolveToken("github", { tokenFile: "/empty" }, {}, readFile), /--token-file \/empty: the file is empty/);
    assert.throws(() => resolveToken("github", { tokenFile: "/missing" }, {}, readFile), /--token-file \/missing: cannot read the token file/);
  });
});
