import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ProcessRunner } from "../../src/core/command-runner.ts";
import { GitwardError } from "../../src/core/errors.ts";
import { userIdentity } from "../../src/source/git-identity.ts";
import { locationMask, parseLocation } from "../../src/source/source-location.ts";
import type { WorkingClone, WorkingCloneOptions } from "../../src/source/working-clone.ts";
import { PushRefusal, withWorkingClone } from "../../src/source/working-clone.ts";
import { createBareRemote, freePort, type BareRemote } from "../support/git-server.ts";
import { gitTestEnv, makeRepo, type TestRepo } from "../support/repo.ts";

const runner = new ProcessRunner();
const author = { name: "Wanda Working", email: "wanda@example.com" };

describe("working clone", () => {
  let root: string;
  let scratch: string;
  let n = 0;
  const repos: TestRepo[] = [];

  before(() => {
    root = mkdtempSync(join(tmpdir(), "gitward-wc-remotes-"));
  });
  after(() => {
    for (const r of repos) r.remove();
    rmSync(root, { recursive: true, force: true });
  });

  /** A bare remote with `main` (one commit) and a `release` branch (one more). */
  const setup = (): { remote: BareRemote; remoteGit: (...args: string[]) => string; opts: WorkingCloneOptions } => {
    const repo = makeRepo();
    repos.push(repo);
    repo.commit({ "a.txt": "a\n" }, "first");
    repo.git("checkout", "-q", "-b", "release");
    repo.commit({ "b.txt": "b\n" }, "release b");
    repo.git("checkout", "-q", "main");
    const remote = createBareRemote(root, `r${++n}`, repo);
    remote.push();
    const remoteGit = (...args: string[]): string => execFileSync("git", [`--git-dir=${remote.dir}`, ...args], { encoding: "utf8", env: { ...process.env, ...gitTestEnv } }).trim();
    scratch = mkdtempSync(join(tmpdir(), "gitward-wc-tmp-"));
    // GIT_DIR in the caller's environment must not redirect git away from the clone.
    const env = { ...process.env, ...gitTestEnv, GIT_DIR: join(scratch, "elsewhere.git") };
    return { remote, remoteGit, opts: { runner, url: remote.dir, displayName: remote.dir, env, tmpDir: scratch, timeoutMs: 20_000 } };
  };

  const rejects = async (p: Promise<unknown>, message: RegExp, hint?: RegExp): Promise<GitwardError> => {
    const error = await p.then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof GitwardError, `expected a GitwardError, got ${String(error)}`);
    assert.match(error.message, message);
    if (hint !== undefined) assert.match(error.hint ?? "", hint);
    return error;
  };

  it("clones the remote's default branch with a work tree, and removes the directory afterwards", async () => {
    const { opts } = setup();
    let dir = "";
    const branch = await withWorkingClone(opts, async (clone) => {
      dir = clone.dir;
      assert.equal(readFileSync(join(clone.dir, "a.txt"), "utf8"), "a\n");
      assert.equal((await clone.text(["rev-parse", "--abbrev-ref", "HEAD"], "reading HEAD")).trim(), "main");
      return clone.branch;
    });
    assert.equal(branch, "main");
    assert.ok(dir.startsWith(join(scratch, "gitward-clone-")), dir);
    assert.deepEqual(readdirSync(scratch), []);
  });

  it("checks out a named branch, and names a missing one", async () => {
    const { opts } = setup();
    assert.equal(await withWorkingClone({ ...opts, branch: "release" }, async (clone) => (await clone.hasRemoteBranch("main")) && clone.branch), "release");
    await rejects(withWorkingClone({ ...opts, branch: "nope" }, () => Promise.resolve()), /^cloning .* \(branch nope\) failed: Remote branch nope not found/);
    assert.deepEqual(readdirSync(scratch), [], "a failed clone leaves nothing behind");
  });

  it("says the remote has no default branch, with the caller's hint", async () => {
    const { opts, remoteGit } = setup();
    // A remote whose HEAD names a branch it does not have: the clone has no branch to check out.
    remoteGit("symbolic-ref", "HEAD", "refs/heads/gone");
    await rejects(withWorkingClone({ ...opts, missingBranchHint: "name it with --source-branch" }, () => Promise.resolve()), /has no branch gone$/, /--source-branch/);
  });

  it("commits verbatim as the author (committer from the environment, else the author) and pushes", async () => {
    const { opts, remoteGit, remote } = setup();
    const message = "Subject\n\n  indented body\n# not a comment\n";
    const { GIT_COMMITTER_NAME: _n, GIT_COMMITTER_EMAIL: _e, ...noCommitter } = opts.env ?? {};
    const sha = await withWorkingClone({ ...opts, env: noCommitter }, async (clone) => {
      await clone.text(["rm", "--quiet", "a.txt"], "removing a file");
      const sha = await clone.commit(message, author, "committing");
      assert.deepEqual(await clone.changedFiles("HEAD"), ["a.txt"]);
      assert.match(await clone.diffStat("HEAD"), /^ a\.txt \| 1 -\n 1 file changed, 1 deletion\(-\)$/);
      assert.equal(await clone.pushHead("main", { mustNotExist: false }), undefined);
      return sha;
    });
    assert.equal(remoteGit("rev-parse", "main"), sha);
    assert.equal(remoteGit("log", "-1", "--format=%an <%ae>|%cn <%ce>", "main"), "Wanda Working <wanda@example.com>|Wanda Working <wanda@example.com>");
    assert.equal(execFileSync("git", [`--git-dir=${remote.dir}`, "cat-file", "commit", sha], { encoding: "utf8" }).split("\n\n").slice(1).join("\n\n"), message);
    await withWorkingClone(opts, async (clone) => {
      writeFileSync(join(clone.dir, "c.txt"), "c\n");
      await clone.text(["add", "c.txt"], "adding a file");
      await clone.commit("again\n", author, "committing");
      assert.equal(remoteGit("log", "-1", "--format=%cn", "main"), "Wanda Working");
      assert.equal((await clone.text(["log", "-1", "--format=%cn <%ce>"], "reading")).trim(), `${gitTestEnv["GIT_COMMITTER_NAME"]} <${gitTestEnv["GIT_COMMITTER_EMAIL"]}>`);
    });
  });

  it("returns a refused push: the branch moved, or a branch that must not exist does", async () => {
    const { opts, remoteGit } = setup();
    await withWorkingClone(opts, async (clone) => {
      await clone.text(["rm", "--quiet", "a.txt"], "removing a file");
      await clone.commit("mine\n", author, "committing");
      const release = remoteGit("rev-parse", "release");
      remoteGit("update-ref", "refs/heads/main", release);
      const moved = await clone.pushHead("main", { mustNotExist: false });
      assert.match(moved?.summary ?? "", /^\[rejected\]/);
      assert.equal(moved?.refusal, PushRefusal.Moved);
      const exists = await clone.pushHead("release", { mustNotExist: true });
      assert.match(exists?.summary ?? "", /^\[rejected\] \(stale info\)/);
      assert.equal(exists?.refusal, PushRefusal.Moved);
      assert.equal(await clone.pushHead("new-branch", { mustNotExist: true }), undefined);
      assert.equal(remoteGit("rev-parse", "release"), release);
    });
  });

  it("tells a server's refusal from a non-bare repository's checked-out branch", async () => {
    const { opts, remote } = setup();
    const hook = join(remote.dir, "hooks", "pre-receive");
    writeFileSync(hook, "#!/bin/sh\necho protected\nexit 1\n", { mode: 0o755 });
    const change = async (clone: WorkingClone): Promise<void> => {
      writeFileSync(join(clone.dir, "c.txt"), "c\n");
      await clone.text(["add", "c.txt"], "adding a file");
      await clone.commit("mine\n", author, "committing");
    };
    const refused = await withWorkingClone(opts, async (clone) => {
      await change(clone);
      return clone.pushHead("main", { mustNotExist: false });
    });
    assert.equal(refused?.refusal, PushRefusal.Refused);
    assert.match(refused?.summary ?? "", /^\[remote rejected\] \(pre-receive hook declined\)$/);
    assert.deepEqual(refused?.remoteSaid, ["protected"]);

    const work = makeRepo();
    repos.push(work);
    work.commit({ "a.txt": "a\n" }, "first");
    const checkedOut = await withWorkingClone({ ...opts, url: work.dir, displayName: work.dir }, async (clone) => {
      await change(clone);
      return clone.pushHead("main", { mustNotExist: false });
    });
    assert.equal(checkedOut?.refusal, PushRefusal.CheckedOut);
  });

  it("records the index as a commit on top of HEAD that no branch points to", async () => {
    const { opts } = setup();
    await withWorkingClone(opts, async (clone) => {
      const head = (await clone.text(["rev-parse", "HEAD"], "reading HEAD")).trim();
      writeFileSync(join(clone.dir, "c.txt"), "c\n");
      await clone.text(["add", "c.txt"], "adding a file");
      const sha = await clone.indexCommit("work in progress");
      assert.equal((await clone.text(["rev-parse", `${sha}^`], "reading")).trim(), head);
      assert.equal((await clone.text(["rev-parse", `${sha}^{tree}`], "reading")).trim(), (await clone.text(["write-tree"], "writing")).trim());
      assert.equal((await clone.text(["rev-parse", "HEAD"], "reading HEAD")).trim(), head, "HEAD stays");
      assert.equal((await clone.text(["branch", "--contains", sha], "listing")).trim(), "");
      assert.equal((await clone.text(["log", "-1", "--format=%an|%s", sha], "reading")).trim(), "gitward|work in progress");
    });
  });

  it("never shows the credentials of a URL, and stops at the time limit", async () => {
    const { opts } = setup();
    const url = `http://alice:s3cr3t-t0ken@127.0.0.1:${await freePort()}/x.git`;
    const location = parseLocation(url);
    const error = await rejects(
      withWorkingClone({ ...opts, url, displayName: location.displayName, mask: locationMask(location) }, () => Promise.resolve()),
      /^cloning http:\/\/\*\*\*@127\.0\.0\.1:\d+\/x\.git failed: /,
    );
    assert.ok(!error.message.includes("s3cr3t") && !error.message.includes("alice"), error.message);
    await rejects(withWorkingClone({ ...opts, timeoutMs: 1 }, () => Promise.resolve()), /^cloning .* failed: timed out$/);
    assert.deepEqual(readdirSync(scratch), []);
  });

  it("takes the user's identity from the environment, else from git config", async () => {
    const home = mkdtempSync(join(tmpdir(), "gitward-wc-home-"));
    try {
      const global = join(home, "gitconfig");
      execFileSync("git", ["config", "--file", global, "user.name", "Carla Config"]);
      execFileSync("git", ["config", "--file", global, "user.email", "carla@example.com"]);
      const base = { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: global, GIT_AUTHOR_NAME: undefined, GIT_AUTHOR_EMAIL: undefined };
      assert.deepEqual(await userIdentity(runner, { env: base, cwd: home }), { name: "Carla Config", email: "carla@example.com" });
      assert.deepEqual(await userIdentity(runner, { env: { ...base, GIT_AUTHOR_NAME: " Env Name " }, cwd: home }), { name: "Env Name", email: "carla@example.com" });
      assert.deepEqual(await userIdentity(runner, { env: { ...base, GIT_CONFIG_GLOBAL: "/dev/null" }, cwd: home }), {});
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
