import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, type CliRun } from "../support/cli.ts";
import { startFakeForge, type FakeForge } from "../support/fake-forge/index.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

type Kind = "github" | "gitlab" | "gitea";
const marker = "<!-- gitward:plan -->";
const token = "t0ken-ci";

const gitwardYaml = `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
  prod:
    targets: { cluster: { provider: kubernetes } }
stacks:
  app:
    target: cluster
    path: app
    namespace: app
`;
const cm = (name: string, value: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;

/** The CI environment each forge's runner gives the job, pointed at the fake forge. */
function ciEnv(kind: Kind, forge: FakeForge, pr: { number: number; head: string; base: string }, dir: string, tok: string | undefined): Record<string, string> {
  const off = { GITHUB_ACTIONS: "", GITEA_ACTIONS: "", FORGEJO_ACTIONS: "", GITLAB_CI: "", GITHUB_TOKEN: "", GITEA_TOKEN: "", GITLAB_TOKEN: "", GITHUB_RUN_ID: "", CI_JOB_URL: "" };
  if (kind === "gitlab") {
    return {
      ...off, GITLAB_CI: "true", CI_API_V4_URL: forge.apiUrl, CI_PROJECT_ID: String(forge.state.projectId), CI_MERGE_REQUEST_IID: String(pr.number),
      CI_MERGE_REQUEST_DIFF_BASE_SHA: pr.base, CI_COMMIT_SHA: pr.head, ...(tok === undefined ? {} : { GITLAB_TOKEN: tok }),
    };
  }
  const event = join(dir, "event.json");
  writeFileSync(event, JSON.stringify({ action: "synchronize", number: pr.number, pull_request: { number: pr.number, head: { sha: pr.head }, base: { sha: pr.base } } }));
  return {
    ...off, ...(kind === "gitea" ? { GITEA_ACTIONS: "true" } : { GITHUB_ACTIONS: "true" }),
    GITHUB_API_URL: forge.apiUrl, GITHUB_REPOSITORY: "acme/infra", GITHUB_EVENT_PATH: event,
    ...(tok === undefined ? {} : { [kind === "gitea" ? "GITEA_TOKEN" : "GITHUB_TOKEN"]: tok }),
  };
}

for (const kind of ["github", "gitlab", "gitea"] as const) {
  describe(`gitward pr comment on ${kind}`, () => {
    let forge: FakeForge;
    let repo: TestRepo;
    let work: string;
    let base: string;
    let head: string;
    const pr = 42;
    /** `tok` null: no token in the environment. */
    const run = (args: string[] = [], tok: string | null = token): Promise<CliRun> =>
      runCli(["pr", "comment", "--repo", repo.dir, "--no-cache", ...args], { cwd: work, env: ciEnv(kind, forge, { number: pr, head, base }, work, tok ?? undefined) });
    const planComments = () => forge.state.pull(pr).comments.filter((c) => c.body.includes(marker));

    before(async () => {
      forge = await startFakeForge(kind);
      forge.state.addUser("ci-bot", token);
      repo = makeRepo();
      work = mkdtempSync(join(tmpdir(), "gitward-pr-"));
      base = repo.commit({ "gitward.yaml": gitwardYaml, "app/settings.yaml": cm("settings", "1") }, "base");
      head = repo.commit({ "app/settings.yaml": cm("settings", "2"), "app/new.yaml": cm("new", "1") }, "change settings");
      forge.state.openPull({ number: pr, author: "alice", headSha: head });
    });
    after(async () => {
      await forge.close();
      repo.remove();
      rmSync(work, { recursive: true, force: true });
    });

    it("creates one comment with the plan and sets a success status per environment", async () => {
      const r = await run(["--detailed-exitcode"]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stdout, /Environment prod {2}\(1 to create, 1 to update, 0 to delete/, "the plan is printed too");
      assert.match(r.stderr, new RegExp(`gitward: posting the plan to [#!]${pr} on ${kind}`));
      const comments = planComments();
      assert.equal(comments.length, 1);
      assert.match(comments[0]?.body ?? "", /## gitward plan\n[^]*\| \*\*prod\*\* \| 1 \| 1 \| 0 \| 0 \| 0 \|/);
      const statuses = forge.state.latestStatuses(head);
      assert.deepEqual([...statuses.values()].map((s) => [s.context, s.state, s.description]).sort(), [
        ["gitward/plan/dev", "success", "1 to create, 1 to update, 0 to delete"],
        ["gitward/plan/prod", "success", "1 to create, 1 to update, 0 to delete"],
      ]);
      assert.ok(!existsSync(join(work, "gitward-plan.md")), "no plan file when the comment holds the whole plan");
    });

    it("updates the same comment after a new commit, and reports it in JSON", async () => {
      const before = planComments()[0]?.id;
      head = repo.commit({ "app/new.yaml": null }, "drop new");
      forge.state.push(pr, { sha: head, author: "alice", committer: "alice", message: "drop new" });
      const r = await run(["-o", "json", "-q"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "", "quiet");
      const doc = JSON.parse(r.stdout) as { comment: { id: string; created: boolean; summarized: boolean }; statuses: { context: string; state: string; set: boolean }[]; counts: { update: number }; errors: unknown[]; sha: string };
      assert.equal(doc.comment.created, false);
      assert.equal(doc.comment.id, String(before));
      assert.equal(doc.comment.summarized, false);
      assert.equal(doc.sha, head);
      assert.deepEqual(doc.statuses.map((s) => [s.context, s.state, s.set]), [["gitward/plan/dev", "success", true], ["gitward/plan/prod", "success", true]]);
      assert.equal(doc.counts.update, 2);
      assert.deepEqual(doc.errors, []);
      const comments = planComments();
      assert.equal(comments.length, 1, "exactly one comment with the marker");
      assert.doesNotMatch(comments[0]?.body ?? "", /ConfigMap\/app\/new/);
    });

    it("fails the environments and exits 1 on an error finding", async () => {
      head = repo.commit({ "app/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata: [1, 2]\n" }, "bad configmap");
      forge.state.push(pr, { sha: head, author: "alice", committer: "alice", message: "bad" });
      const r = await run();
      assert.equal(r.code, 1, r.stderr);
      const statuses = forge.state.latestStatuses(head);
      assert.equal(statuses.get("gitward/plan/prod")?.state, kind === "gitlab" ? "failed" : "failure", "as the forge names it");
      assert.match(statuses.get("gitward/plan/prod")?.description ?? "", /error finding/);
      assert.equal(planComments().length, 1);
      assert.match(planComments()[0]?.body ?? "", /❌ error \| schema/);
    });

    it("exits 1 with a clear error when the token is refused (401), still printing the plan", async () => {
      const r = await run([], "wrong-token");
      assert.equal(r.code, 1);
      assert.match(r.stdout, /Environment prod/);
      assert.match(r.stderr, new RegExp(`error: posting the plan comment on [#!]${pr} \\(${kind} at http://127\\.0\\.0\\.1:\\d+/api/v\\d, repository [^)]+\\) failed \\(HTTP 401\\)`));
      assert.match(r.stderr, /hint: the token from \$(GITHUB|GITLAB|GITEA)_TOKEN was refused/);
      assert.match(r.stderr, /nothing was published/);
      assert.doesNotMatch(r.stderr, /wrong-token/, "the token is never printed");
    });

    it("exits 1 naming what to set when there is no token", async () => {
      const r = await run([], null);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`error: no ${kind} token: `));
      assert.match(r.stderr, /hint: /);
    });

    it("exits 1 with a clear error when the forge is down", { timeout: 120_000 }, async () => {
      forge.state.faults.down = true;
      try {
        const r = await run();
        assert.equal(r.code, 1);
        assert.match(r.stderr, new RegExp(`error: posting the plan comment on [#!]${pr} \\(${kind} at `));
        assert.match(r.stderr, /hint: check that http:\/\/127\.0\.0\.1:\d+\/api\/v\d is the forge's API URL and reachable/);
        assert.match(r.stderr, /not tried after/);
      } finally {
        forge.state.faults.down = false;
      }
    });

    it("sent only requests that conform to the forge's API description", () => {
      assert.deepEqual(forge.state.nonConforming(), []);
    });
  });
}

describe("gitward pr comment with a 500-stack plan", () => {
  let forge: FakeForge;
  let repo: TestRepo;
  let work: string;
  let base: string;
  let head: string;
  const stacks = Array.from({ length: 500 }, (_, i) => `s${String(i).padStart(3, "0")}`);
  const config = `version: 1\nenvironments:\n  prod:\n    targets: { cluster: { provider: kubernetes } }\nstacks:\n${stacks.map((s) => `  ${s}: { target: cluster, path: stacks/${s}, namespace: ${s} }\n`).join("")}`;
  const files = (value: string): Record<string, string> => Object.fromEntries(stacks.map((s) => [`stacks/${s}/settings.yaml`, cm("settings", value)]));

  before(async () => {
    forge = await startFakeForge("github");
    forge.state.addUser("ci-bot", token);
    repo = makeRepo();
    work = mkdtempSync(join(tmpdir(), "gitward-pr-500-"));
    base = repo.commit({ "gitward.yaml": config, ...files("1") }, "500 stacks");
    head = repo.commit(files("2"), "change every stack");
    forge.state.openPull({ number: 7, author: "alice", headSha: head });
  });
  after(async () => {
    await forge.close();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("posts a summary within GitHub's limit and writes the full plan to gitward-plan.md", { timeout: 300_000 }, async () => {
    const r = await runCli(["pr", "comment", "--repo", repo.dir, "--no-cache", "-o", "json"], { cwd: work, env: ciEnv("github", forge, { number: 7, head, base }, work, token) });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { comment: { summarized: boolean; chars: number }; planFile: string; counts: { update: number } };
    assert.equal(doc.comment.summarized, true);
    assert.equal(doc.counts.update, 500);
    assert.equal(doc.planFile, join(work, "gitward-plan.md"));
    const [comment, ...more] = forge.state.pull(7).comments;
    assert.equal(more.length, 0);
    assert.ok(comment !== undefined && comment.body.length <= 65_536, `${comment?.body.length} characters`);
    assert.match(comment.body, /^<!-- gitward:plan -->\n## gitward plan \(summary\)\n/);
    assert.match(comment.body, /it is in the CI artifact `gitward-plan\.md`/);
    assert.match(comment.body, /\| s499 \| 0 \| 1 \| 0 \| 0 \| 0 \|/, "every stack's counts fit");
    const full = readFileSync(join(work, "gitward-plan.md"), "utf8");
    assert.equal(full.match(/\+ {2}value: "2"/g)?.length, 500, "the file has every diff");
    assert.deepEqual(forge.state.nonConforming(), []);
  });
});
