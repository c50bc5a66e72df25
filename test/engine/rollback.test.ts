import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CommandResult, CommandRunner, CommandSpec } from "../../src/core/command-runner.ts";
import { ProcessRunner } from "../../src/core/command-runner.ts";
import { GitwardError } from "../../src/core/errors.ts";
import { rollback, type RollbackOptions, type RollbackResult } from "../../src/engine/rollback.ts";
import { openSource } from "../../src/source/open-source.ts";
import { rollbackOf } from "../../src/source/rollback-trailer.ts";
import { createBareRemote, startGitHttpServer, type BareRemote, type GitServer } from "../support/git-server.ts";
import { gitTestEnv, makeRepo, type TestRepo } from "../support/repo.ts";

const config = `version: 1
environments:
  dev:
    targets:
      cluster: { provider: kubernetes, context: dev }
  prod:
    targets:
      cluster: { provider: kubernetes, context: prod }
stacks:
  web:
    target: cluster
    path: apps/web/base
    environments:
      prod: { path: apps/web/prod }
  api:
    target: cluster
    path: apps/api
    environments:
      prod: { enabled: false }
`;

const initial = {
  "gitward.yaml": config,
  "apps/web/base/web.yaml": "image: web:1\n",
  "apps/web/base/old.yaml": "old: 1\n",
  "apps/web/prod/web.yaml": "image: web:1\nreplicas: 3\n",
  "apps/api/api.yaml": "image: api:1\n",
};

/** The invoking user, as the environment names them; the user's own git config is kept out. */
const userEnv = { ...gitTestEnv, GIT_AUTHOR_NAME: "Rita Rollback", GIT_AUTHOR_EMAIL: "rita@example.com" };

/** A runner that runs a hook before each command, to simulate what happens around gitward. */
class HookedRunner implements CommandRunner {
  private readonly inner = new ProcessRunner();
  readonly before: (spec: CommandSpec) => void;
  constructor(before: (spec: CommandSpec) => void) {
    this.before = before;
  }
  run(spec: CommandSpec): Promise<CommandResult> {
    this.before(spec);
    return this.inner.run(spec);
  }
}

describe("rollback", () => {
  let root: string;
  let server: GitServer;
  let n = 0;
  const repos: TestRepo[] = [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "gitward-rollback-srv-"));
    server = await startGitHttpServer(root);
  });
  after(async () => {
    await server.close();
    for (const r of repos) r.remove();
    rmSync(root, { recursive: true, force: true });
  });

  /** A repository with the initial commit, pushed to a bare remote served over HTTP. */
  const setup = (): { repo: TestRepo; remote: BareRemote; url: string; remoteGit: (...args: string[]) => string } => {
    const repo = makeRepo();
    repos.push(repo);
    repo.commit(initial, "initial");
    const remote = createBareRemote(root, `r${++n}`, repo);
    const remoteGit = (...args: string[]): string => execFileSync("git", [`--git-dir=${remote.dir}`, ...args], { encoding: "utf8", env: { ...process.env, ...gitTestEnv } }).trim();
    remoteGit("config", "http.receivepack", "true");
    return { repo, remote, url: `${server.url}/${remote.name}`, remoteGit };
  };

  const run = (o: Partial<RollbackOptions> & Pick<RollbackOptions, "repo">): Promise<RollbackResult> =>
    rollback({ environment: "dev", target: { kind: "steps", steps: 1 }, reason: "it broke", publish: { kind: "none" }, env: userEnv, cwd: root, timeoutMs: 30_000, ...o });

  const rejects = async (p: Promise<unknown>, message: RegExp, hint?: RegExp): Promise<GitwardError> => {
    try {
      await p;
    } catch (e: unknown) {
      assert.ok(e instanceof GitwardError, `expected a GitwardError, got ${String(e)}`);
      assert.match(e.message, message);
      if (hint !== undefined) assert.match(e.hint ?? "", hint);
      return e;
    }
    assert.fail("expected the rollback to fail");
  };

  it("--steps 1 reverts the last commit that changed what the environment renders and pushes it, authored by the invoking user", async () => {
    const { repo, url, remote, remoteGit } = setup();
    repo.commit({ "apps/web/base/web.yaml": "image: web:2\n" }, "web 2");
    const bad = repo.commit({ "apps/api/api.yaml": "image: api:2\n", "apps/api/naïve file.yaml": "x: 1\n" }, "api 2");
    remote.push();
    const progress: string[] = [];
    const r = await run({ repo: url, publish: { kind: "push" }, reason: "api 2 answers 500", progress: (m) => progress.push(m) });

    assert.equal(r.pushed, true);
    assert.equal(r.branch, "main");
    assert.equal(r.base, bad);
    assert.deepEqual(r.reverted, [{ sha: bad, subject: "api 2" }]);
    assert.deepEqual(r.files, ["apps/api/api.yaml", "apps/api/naïve file.yaml"], "paths unquoted, whatever they hold");
    assert.equal(remoteGit("rev-parse", "main"), r.commit);
    assert.equal(remoteGit("ls-tree", "--name-only", "main", "apps/api/"), "apps/api/api.yaml");
    assert.equal(remoteGit("rev-parse", "main~1"), bad);
    assert.equal(remoteGit("show", "main:apps/api/api.yaml"), "image: api:1");
    assert.equal(remoteGit("show", "main:apps/web/base/web.yaml"), "image: web:2");
    assert.equal(remoteGit("log", "-1", "--format=%an <%ae>", "main"), "Rita Rollback <rita@example.com>");
    assert.equal(
      remoteGit("log", "-1", "--format=%B", "main"),
      `Rollback dev: revert ${bad.slice(0, 7)} (api 2)\n\nReverts 1 commit(s):\n  ${bad} api 2\n\nReason: api 2 answers 500\n\nGitward-Rollback: env=dev stack=*`,
    );
    assert.equal(remoteGit("log", "-1", "--format=%(trailers:key=Gitward-Rollback,valueonly)", "main"), "env=dev stack=*");
    assert.match(r.diffStat, /apps\/api\/api\.yaml +\| 2 \+-\n.*\n 2 files changed, 1 insertion\(\+\), 2 deletions\(-\)/);
    assert.ok(progress.some((m) => m.startsWith("pushing to main")), progress.join("\n"));
  });

  it("--steps 2 --stack reverts only the stack's files for the environment; other stacks' later commits stay", async () => {
    const { repo, url, remote, remoteGit } = setup();
    const webBoth = repo.commit({ "apps/web/base/web.yaml": "image: web:2\n", "apps/web/prod/web.yaml": "image: web:2\nreplicas: 3\n" }, "web 2");
    repo.commit({ "apps/api/api.yaml": "image: api:2\n" }, "api 2");
    const webAndApi = repo.commit({ "apps/web/prod/web.yaml": "image: web:2\nreplicas: 5\n", "apps/api/extra.yaml": "extra: 1\n" }, "prod web scale, api extra");
    repo.commit({ "apps/api/api.yaml": "image: api:3\n" }, "api 3");
    remote.push();
    const headBefore = remoteGit("rev-parse", "main");

    const r = await run({ repo: url, environment: "prod", stack: "web", target: { kind: "steps", steps: 2 } });
    assert.equal(r.pushed, false, "neither --push nor --branch: a dry run");
    assert.equal(remoteGit("rev-parse", "main"), headBefore, "nothing reached the remote");
    assert.deepEqual(r.reverted.map((c) => c.sha), [webAndApi, webBoth]);
    assert.deepEqual(r.paths, ["apps/web/prod", "gitward.yaml"]);
    assert.deepEqual(r.files, ["apps/web/prod/web.yaml"]);
    assert.match(r.message, new RegExp(`^Rollback prod/web: revert ${webAndApi.slice(0, 7)}, ${webBoth.slice(0, 7)} \\(prod web scale, api extra; web 2\\)\n`));
    assert.match(r.message, /Reverts 2 commit\(s\), limited to apps\/web\/prod, gitward.yaml:/);
    assert.match(r.message, /Gitward-Rollback: env=prod stack=web\n$/);

    // The same rollback pushed for real: dev's files and the api stack's later changes are untouched.
    const pushed = await run({ repo: url, environment: "prod", stack: "web", target: { kind: "steps", steps: 2 }, publish: { kind: "push" } });
    assert.equal(remoteGit("show", "main:apps/web/prod/web.yaml"), "image: web:1\nreplicas: 3");
    assert.equal(remoteGit("show", "main:apps/web/base/web.yaml"), "image: web:2");
    assert.equal(remoteGit("show", "main:apps/api/api.yaml"), "image: api:3");
    assert.equal(remoteGit("show", "main:apps/api/extra.yaml"), "extra: 1");
    assert.equal(remoteGit("rev-parse", "main"), pushed.commit);
  });

  it("--to REV makes the files equal to REV's in one commit naming every commit undone", async () => {
    const { repo, url, remote, remoteGit } = setup();
    const good = repo.commit({ "apps/web/base/web.yaml": "image: web:2\n" }, "web 2");
    const c3 = repo.commit({ "apps/api/api.yaml": "image: api:2\n", "apps/api/new.yaml": "new: 1\n" }, "api 2 with a new file");
    const c4 = repo.commit({ "apps/web/base/web.yaml": "image: web:3\n", "apps/web/base/old.yaml": null }, "web 3");
    repo.commit({ "apps/web/base/more.yaml": "more: 1\n" }, "web more");
    remote.push();

    const whole = await run({ repo: url, target: { kind: "to", rev: good.slice(0, 10) }, publish: { kind: "push" } });
    assert.equal(remoteGit("rev-parse", `${whole.commit}^{tree}`), remoteGit("rev-parse", `${good}^{tree}`), "the tree is REV's, added files deleted");
    assert.deepEqual(whole.to, { sha: good, subject: "web 2" });
    assert.deepEqual(whole.reverted.map((c) => c.subject), ["web more", "web 3", "api 2 with a new file"]);
    assert.deepEqual(whole.files, ["apps/api/api.yaml", "apps/api/new.yaml", "apps/web/base/more.yaml", "apps/web/base/old.yaml", "apps/web/base/web.yaml"]);
    assert.match(whole.message, new RegExp(`Restores the repository to ${good} \\(web 2\\), undoing:\n  [0-9a-f]{40} web more\n  ${c4} web 3\n  ${c3} api 2 with a new file\n`));

    // Limited to a stack: only dev's web directory goes back; the api stack keeps its changes.
    repo.git("pull", "--quiet", "--ff-only", remote.dir, "main"); // by path: a sync call over HTTP would block this process's server
    repo.commit({ "apps/api/api.yaml": "image: api:9\n", "apps/web/base/web.yaml": "image: web:9\n" }, "both 9");
    remote.push();
    const web = await run({ repo: url, stack: "web", target: { kind: "to", rev: good }, publish: { kind: "push" } });
    assert.deepEqual(web.files, ["apps/web/base/web.yaml"]);
    assert.equal(remoteGit("show", "main:apps/web/base/web.yaml"), "image: web:2");
    assert.equal(remoteGit("show", "main:apps/api/api.yaml"), "image: api:9");
    // Everything since REV that touched the stack's files, the first rollback included.
    assert.deepEqual(web.reverted.map((c) => c.subject), ["both 9", whole.message.split("\n")[0], "web more", "web 3"]);
  });

  it("--to refuses a revision outside the branch's history", async () => {
    const { repo, url, remote } = setup();
    repo.git("checkout", "-q", "-b", "side");
    const side = repo.commit({ "apps/api/api.yaml": "image: api:side\n" }, "side");
    repo.git("checkout", "-q", "main");
    remote.push();
    await rejects(run({ repo: url, target: { kind: "to", rev: side } }), new RegExp(`${side.slice(0, 7)} is not in the history of main`));
    await rejects(run({ repo: url, target: { kind: "to", rev: "no-such-rev" } }), /unknown revision "no-such-rev"/);
  });

  it("reverts a merge commit against its first parent: the whole merged change, nothing else", async () => {
    const { repo, url, remote, remoteGit } = setup();
    repo.git("checkout", "-q", "-b", "feature");
    repo.commit({ "apps/web/base/web.yaml": "image: web:2\n" }, "web 2 on a branch");
    repo.commit({ "apps/web/base/extra.yaml": "extra: 1\n" }, "web extra on a branch");
    repo.git("checkout", "-q", "main");
    repo.commit({ "apps/api/api.yaml": "image: api:2\n" }, "api 2 on main");
    execFileSync("git", ["merge", "--quiet", "--no-ff", "-m", "Merge pull request #7 from feature", "feature"], { cwd: repo.dir, env: { ...process.env, ...gitTestEnv } });
    const merge = repo.git("rev-parse", "HEAD");
    remote.push();

    const r = await run({ repo: url, stack: "web", publish: { kind: "push" } });
    assert.deepEqual(r.reverted.map((c) => c.sha), [merge]);
    assert.equal(r.reverted[0]?.subject, "Merge pull request #7 from feature");
    assert.deepEqual([...r.files].sort(), ["apps/web/base/extra.yaml", "apps/web/base/web.yaml"]);
    assert.equal(remoteGit("show", "main:apps/web/base/web.yaml"), "image: web:1");
    assert.equal(remoteGit("show", "main:apps/api/api.yaml"), "image: api:2");
  });

  it("says there is nothing to roll back, and pushes nothing", async () => {
    const { repo, url, remote, remoteGit } = setup();
    repo.commit({}, "an empty commit");
    remote.push();
    const head = remoteGit("rev-parse", "main");
    await rejects(run({ repo: url, target: { kind: "to", rev: "HEAD" }, publish: { kind: "push" } }), /^nothing to roll back for dev: main has no commit after [0-9a-f]{7}$/);
    await rejects(run({ repo: url, target: { kind: "steps", steps: 5 }, stack: "api" }), /^--steps 5: only 1 commit\(s\) on main changed what dev\/api renders$/);
    assert.equal(remoteGit("rev-parse", "main"), head);
  });

  it("names the conflicting files when a later change touched the same lines, and pushes nothing", async () => {
    const { repo, url, remote, remoteGit } = setup();
    repo.commit({ "apps/web/base/web.yaml": "image: web:2\n" }, "web 2");
    remote.push();
    const head = remoteGit("rev-parse", "main");
    // The commits gitward selects are always the last to touch their files, so a conflict needs a
    // change made meanwhile: the hook commits one in the clone just before the patch is applied.
    const runner = new HookedRunner((spec) => {
      if (spec.args.includes("apply") && spec.cwd !== undefined) {
        writeFileSync(join(spec.cwd, "apps/web/base/web.yaml"), "image: web:3\n");
        execFileSync("git", ["commit", "-q", "-am", "meanwhile"], { cwd: spec.cwd, env: { ...process.env, ...gitTestEnv } });
      }
    });
    await rejects(
      run({ repo: url, stack: "web", publish: { kind: "push" }, runner }),
      /^reverting [0-9a-f]{7} \(web 2\) conflicts with later changes in apps\/web\/base\/web\.yaml; nothing was pushed$/,
      /revert by hand, or restore an earlier state with --to REV/,
    );
    assert.equal(remoteGit("rev-parse", "main"), head);
  });

  it("explains a rejected push (a protected branch) and suggests --branch", async () => {
    const { repo, url, remote, remoteGit } = setup();
    repo.commit({ "apps/api/api.yaml": "image: api:2\n" }, "api 2");
    remote.push();
    const hook = join(remote.dir, "hooks", "pre-receive");
    writeFileSync(hook, '#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then echo "main is protected: open a pull request"; exit 1; fi\ndone\n');
    chmodSync(hook, 0o755);
    const head = remoteGit("rev-parse", "main");
    await rejects(
      run({ repo: url, publish: { kind: "push" } }),
      /^push to main of http:\/\/127\.0\.0\.1:\d+\/r\d+\.git was rejected: \[remote rejected\] \(pre-receive hook declined\): main is protected: open a pull request; nothing was pushed$/,
      /main is protected or the server refused the push: push the rollback to a new branch for a pull request with --branch NAME/,
    );
    assert.equal(remoteGit("rev-parse", "main"), head);

    const r = await run({ repo: url, publish: { kind: "branch", name: "rollback/api-2" } });
    assert.equal(r.pushed, true);
    assert.equal(r.branch, "rollback/api-2");
    assert.equal(remoteGit("rev-parse", "rollback/api-2"), r.commit);
    assert.equal(remoteGit("rev-parse", "rollback/api-2~1"), head);
  });

  it("explains a push refused by a non-bare repository with the branch checked out, and pushes a new branch there", async () => {
    const { repo } = setup();
    repo.commit({ "apps/api/api.yaml": "image: api:2\n" }, "api 2");
    const head = repo.git("rev-parse", "main");
    const error = await rejects(
      run({ repo: repo.dir, publish: { kind: "push" } }),
      /^push to main of .+ was rejected: main is checked out there, and git refuses to update the checked-out branch of a non-bare repository \(receive\.denyCurrentBranch\); nothing was pushed$/,
      /^give --repo the bare repository it is pushed to \(for a clone, its origin: git -C .+ remote get-url origin\), or push the rollback to a new branch with --branch NAME and merge it there$/,
    );
    assert.doesNotMatch(error.hint ?? "", /protected/);
    assert.equal(repo.git("rev-parse", "main"), head);
    const r = await run({ repo: repo.dir, publish: { kind: "branch", name: "rollback/api-2" } });
    assert.equal(r.branch, "rollback/api-2");
    assert.equal(repo.git("rev-parse", "rollback/api-2"), r.commit);
    assert.equal(repo.git("rev-parse", "rollback/api-2~1"), head);
  });

  it("explains a push rejected because the branch moved", async () => {
    const { repo, url, remote } = setup();
    repo.commit({ "apps/api/api.yaml": "image: api:2\n" }, "api 2");
    remote.push();
    let moved = false;
    const runner = new HookedRunner((spec) => {
      if (spec.args.includes("push") && !moved) {
        moved = true;
        repo.commit({ "apps/api/api.yaml": "image: api:3\n" }, "api 3 meanwhile");
        remote.push();
      }
    });
    await rejects(run({ repo: url, publish: { kind: "push" }, runner }), /was rejected: \[rejected\] \(fetch first\); nothing was pushed$/, /main moved while the rollback was prepared/);
  });

  it("--branch refuses an existing branch and the branch being rolled back", async () => {
    const { repo, url, remote, remoteGit } = setup();
    repo.commit({ "apps/api/api.yaml": "image: api:2\n" }, "api 2");
    repo.git("branch", "taken");
    remote.push();
    const taken = remoteGit("rev-parse", "taken");
    await rejects(run({ repo: url, publish: { kind: "branch", name: "taken" } }), /^branch taken already exists in http:\/\/127\.0\.0\.1:\d+\/r\d+\.git$/, /choose a new branch name/);
    await rejects(run({ repo: url, publish: { kind: "branch", name: "main" } }), /--branch main is the branch being rolled back/);
    await rejects(run({ repo: url, publish: { kind: "branch", name: "bad..name" } }), /invalid branch name "bad..name"/);
    assert.equal(remoteGit("rev-parse", "taken"), taken);
  });

  it("rolls back another branch with --source-branch, from a local path", async () => {
    const { repo, remote } = setup();
    repo.git("checkout", "-q", "-b", "release");
    const bad = repo.commit({ "apps/api/api.yaml": "image: api:r2\n" }, "release api 2");
    repo.git("checkout", "-q", "main");
    remote.push();
    const r = await run({ repo: remote.dir, sourceBranch: "release", publish: { kind: "push" } });
    assert.equal(r.sourceBranch, "release");
    assert.deepEqual(r.reverted.map((c) => c.sha), [bad]);
    assert.equal(execFileSync("git", [`--git-dir=${remote.dir}`, "rev-parse", "release~1"], { encoding: "utf8" }).trim(), bad);
    await rejects(run({ repo: remote.dir, sourceBranch: "nope" }), /cloning .* \(branch nope\) failed: Remote branch nope not found/);
  });

  it("takes the author from git config when the environment names none, and says how to set one when neither does", async () => {
    const { repo, url, remote } = setup();
    repo.commit({ "apps/api/api.yaml": "image: api:2\n" }, "api 2");
    remote.push();
    const home = mkdtempSync(join(tmpdir(), "gitward-home-"));
    try {
      const gitconfig = join(home, "gitconfig");
      writeFileSync(gitconfig, "[user]\n\tname = Carla Config\n\temail = carla@example.com\n");
      const { GIT_AUTHOR_NAME: _n, GIT_AUTHOR_EMAIL: _e, ...noAuthor } = userEnv;
      const r = await run({ repo: url, env: { ...noAuthor, GIT_CONFIG_GLOBAL: gitconfig } });
      assert.deepEqual(r.author, { name: "Carla Config", email: "carla@example.com" });
      const mixed = await run({ repo: url, env: { ...noAuthor, GIT_CONFIG_GLOBAL: gitconfig, GIT_AUTHOR_NAME: "Env Name" } });
      assert.deepEqual(mixed.author, { name: "Env Name", email: "carla@example.com" });
      await rejects(run({ repo: url, env: noAuthor }), /the rollback commit needs an author, and no name is set/, /set git config --global user.name and user.email, or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("checks the environment, the stack and the reason", async () => {
    const { url } = setup();
    await rejects(run({ repo: url, environment: "qa" }), /unknown environment "qa"/);
    await rejects(run({ repo: url, stack: "db" }), /unknown stack "db"/);
    await rejects(run({ repo: url, reason: "  " }), /a rollback needs a reason/);
    await rejects(run({ repo: url, target: { kind: "steps", steps: 0 } }), /--steps must be a positive whole number/);
  });

  it("marks its commit with the trailer rollbackOf reads, also beside a Signed-off-by added later", async () => {
    const { repo, remote } = setup();
    repo.commit({ "apps/web/prod/web.yaml": "image: web:2\nreplicas: 3\n" }, "prod web 2");
    const devApi = repo.commit({ "apps/api/api.yaml": "image: api:2\n" }, "dev api 2");
    remote.push();
    const stack = await run({ repo: remote.dir, environment: "prod", stack: "web", publish: { kind: "push" } });
    const whole = await run({ repo: remote.dir, environment: "dev", reason: "api 2 too", publish: { kind: "push" } });
    assert.deepEqual(whole.reverted.map((c) => c.sha), [devApi], "prod's rollback changed nothing dev renders: no step of dev's");
    const cache = mkdtempSync(join(tmpdir(), "gitward-rollback-cache-"));
    const source = await openSource(remote.dir, { cacheDir: cache });
    try {
      const head = await source.resolve("main");
      assert.equal(head.sha, whole.commit);
      assert.equal(head.message, whole.message);
      assert.deepEqual(rollbackOf(head), { environment: "dev" });
      assert.deepEqual(rollbackOf(await source.resolve(stack.commit)), { environment: "prod", stack: "web" });
      assert.equal(rollbackOf(await source.resolve(`${stack.commit}~1`)), undefined);
      assert.equal((await source.resolve(`${stack.commit}~1`)).sha, devApi);
      // Amended with a sign-off, as a reviewer might before merging it.
      repo.git("pull", "--quiet", "--ff-only", remote.dir, "main");
      repo.git("commit", "--quiet", "--amend", "--no-edit", "--signoff");
      const signed = repo.git("rev-parse", "HEAD");
      repo.git("push", "--quiet", "--force", remote.dir, "main");
      const amended = await source.resolve(signed);
      assert.match(amended.message, /\n\nGitward-Rollback: env=dev stack=\*\nSigned-off-by: /);
      assert.deepEqual(rollbackOf(amended), { environment: "dev" });
    } finally {
      await source.close();
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("never shows the credentials of the repository URL", async () => {
    const { repo, remote } = setup();
    repo.commit({ "apps/api/api.yaml": "image: api:2\n" }, "api 2");
    remote.push();
    const hook = join(remote.dir, "hooks", "pre-receive");
    writeFileSync(hook, '#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then echo "refused for $ref"; exit 1; fi\ndone\n');
    chmodSync(hook, 0o755);
    const secret = "s3cr3t-t0ken";
    const url = `${server.url.replace("http://", `http://alice:${secret}@`)}/${remote.name}`;
    const seen: string[] = [];
    const collect = async (p: Promise<RollbackResult>): Promise<void> => {
      try {
        seen.push(JSON.stringify(await p));
      } catch (e: unknown) {
        assert.ok(e instanceof GitwardError, String(e));
        seen.push(e.message, e.hint ?? "");
      }
    };
    const progress = (m: string): void => void seen.push(m);
    await collect(run({ repo: url, publish: { kind: "branch", name: "rb" }, progress }));
    await collect(run({ repo: url, publish: { kind: "push" }, progress }));
    await collect(run({ repo: url.replace(remote.name, "missing.git"), progress }));
    await collect(run({ repo: url, target: { kind: "to", rev: "nope" }, progress }));
    assert.ok(seen.length >= 8, seen.join("\n"));
    assert.ok(seen.some((m) => m.includes('"pushed":true')), "the push to a new branch succeeded");
    assert.ok(seen.some((m) => m.includes("was rejected")), "the push to main was refused");
    assert.ok(seen.some((m) => m.includes("http://***@127.0.0.1")), seen.join("\n"));
    for (const m of seen) {
      assert.ok(!m.includes(secret), `credentials leaked: ${m}`);
      assert.ok(!m.includes("alice"), `user name leaked: ${m}`);
    }
  });
});
