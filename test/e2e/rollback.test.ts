import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../support/cli.ts";
import { createBareRemote, startGitHttpServer, type BareRemote, type GitServer } from "../support/git-server.ts";
import { gitTestEnv, makeRepo, type TestRepo } from "../support/repo.ts";

const config = `version: 1
environments:
  prod:
    targets:
      cluster: { provider: kubernetes, context: prod }
stacks:
  web:
    target: cluster
    path: apps/web
  api:
    target: cluster
    path: apps/api
`;

describe("gitward rollback", () => {
  let root: string;
  let repo: TestRepo;
  let remote: BareRemote;
  let server: GitServer;
  let bad: string;
  let env: Record<string, string>;
  const remoteGit = (...args: string[]): string => execFileSync("git", [`--git-dir=${remote.dir}`, ...args], { encoding: "utf8" }).trim();

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "gitward-e2e-rollback-"));
    env = { ...gitTestEnv, GIT_AUTHOR_NAME: "Olga Oncall", GIT_AUTHOR_EMAIL: "olga@example.com", GITWARD_CACHE_DIR: join(root, "cache") };
    repo = makeRepo();
    repo.commit({ "gitward.yaml": config, "apps/web/web.yaml": "image: web:1\n", "apps/api/api.yaml": "image: api:1\n" }, "initial");
    bad = repo.commit({ "apps/web/web.yaml": "image: web:2\n" }, "web 2");
    repo.commit({ "apps/api/api.yaml": "image: api:2\n" }, "api 2");
    remote = createBareRemote(root, "infra", repo);
    remoteGit("config", "http.receivepack", "true");
    server = await startGitHttpServer(root);
  });
  after(async () => {
    await server.close();
    repo.remove();
    rmSync(root, { recursive: true, force: true });
  });

  it("reverts the stack's last change, pushes it and prints JSON", async () => {
    const url = `${server.url}/${remote.name}`;
    const r = await runCli(["rollback", "--repo", url, "--env", "prod", "--stack", "web", "--steps", "1", "--reason", "web 2 fails its health check", "--push", "-o", "json"], { env });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { commit: string; branch: string; pushed: boolean; reverted: { sha: string; subject: string }[]; files: string[] };
    assert.equal(doc.branch, "main");
    assert.equal(doc.pushed, true);
    assert.deepEqual(doc.reverted, [{ sha: bad, subject: "web 2" }]);
    assert.deepEqual(doc.files, ["apps/web/web.yaml"]);
    assert.equal(remoteGit("rev-parse", "main"), doc.commit);
    assert.equal(remoteGit("show", "main:apps/web/web.yaml"), "image: web:1");
    assert.equal(remoteGit("show", "main:apps/api/api.yaml"), "image: api:2");
    assert.equal(remoteGit("log", "-1", "--format=%an <%ae>%n%s", "main"), `Olga Oncall <olga@example.com>\nRollback prod/web: revert ${bad.slice(0, 7)} (web 2)`);
    assert.match(r.stderr, /gitward: cloning http:\/\/127\.0\.0\.1:\d+\/infra\.git\n/);
    assert.match(r.stderr, /gitward: pushing to main\n/);
  });

  it("refuses a usage error: no --reason, or both --to and --steps", async () => {
    const noReason = await runCli(["rollback", "--repo", remote.dir, "--env", "prod", "--steps", "1", "--push"], { env });
    assert.equal(noReason.code, 1);
    assert.match(noReason.stderr, /required option '--reason <text>' not specified/);
    const both = await runCli(["rollback", "--repo", remote.dir, "--env", "prod", "--steps", "1", "--to", "HEAD~1", "--reason", "x"], { env });
    assert.equal(both.code, 1);
    assert.match(both.stderr, /option '--steps <n>' cannot be used with option '--to <rev>'/);
    const neither = await runCli(["rollback", "--repo", remote.dir, "--env", "prod", "--reason", "x"], { env });
    assert.equal(neither.code, 1);
    assert.match(neither.stderr, /error: say what to roll back: --steps N or --to REV/);
    assert.equal(noReason.stdout + both.stdout + neither.stdout, "");
  });

  it("makes a dry run by default, with the diff stat, and pushes nothing", async () => {
    const head = remoteGit("rev-parse", "main");
    const r = await runCli(["rollback", "--repo", remote.dir, "--env", "prod", "--stack", "api", "--steps", "1", "--reason", "check"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Rollback of prod\/api: commit [0-9a-f]{12} on main, undoing 1 commit\(s\):\n {2}[0-9a-f]{7} api 2\n apps\/api\/api\.yaml \| 2 \+-\n 1 file changed, 1 insertion\(\+\), 1 deletion\(-\)\nDry run: nothing was pushed/);
    assert.equal(remoteGit("rev-parse", "main"), head);
  });

  it("pushes to a new branch with --branch, and the output names that branch", async () => {
    const r = await runCli(["rollback", "--repo", remote.dir, "--env", "prod", "--stack", "api", "--steps", "1", "--reason", "api 2 leaks", "--branch", "rollback/api-2"], { env });
    assert.equal(r.code, 0, r.stderr);
    const commit = /^Rollback of prod\/api: commit ([0-9a-f]{12}) on rollback\/api-2 \(a new branch from main\), undoing 1 commit\(s\):\n/.exec(r.stdout)?.[1];
    assert.ok(commit !== undefined, r.stdout);
    assert.match(r.stdout, /\nPushed to the new branch rollback\/api-2 of .+infra\.git: open a pull request into main\.\n$/);
    assert.match(r.stderr, /gitward: pushing to new branch rollback\/api-2\n/);
    assert.ok(remoteGit("rev-parse", "rollback/api-2").startsWith(commit));
  });

  it("says why a local non-bare repository refuses the push to its checked-out branch", async () => {
    const head = repo.git("rev-parse", "main");
    const r = await runCli(["rollback", "--repo", repo.dir, "--env", "prod", "--stack", "api", "--steps", "1", "--reason", "api 2 leaks", "--push"], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\nerror: push to main of .+ was rejected: main is checked out there, and git refuses to update the checked-out branch of a non-bare repository \(receive\.denyCurrentBranch\); nothing was pushed\n/);
    assert.match(r.stderr, /\nhint: give --repo the bare repository it is pushed to .*or push the rollback to a new branch with --branch NAME/);
    assert.equal(r.stdout, "");
    assert.equal(repo.git("rev-parse", "main"), head);
  });
});
