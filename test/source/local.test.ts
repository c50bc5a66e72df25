import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isGitwardError } from "../../src/core/errors.ts";
import type { GitSource } from "../../src/source/index.ts";
import { openSource } from "../../src/source/index.ts";
import type { TestRepo } from "../support/repo.ts";
import { makeRepo } from "../support/repo.ts";

function gitError(pattern: RegExp): (e: unknown) => boolean {
  return (e) => isGitwardError(e) && e.code === "git" && pattern.test(e.message);
}

describe("local source", () => {
  let repo: TestRepo;
  let source: GitSource;
  let first: string;
  let second: string;
  let cacheDir: string;

  before(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), "gitward-cache-"));
    repo = makeRepo();
    first = repo.commit({ "app/a.yaml": "a: 1\n", "app/sub/b.yaml": "b: 1\n", "other/x.txt": "x\n" }, "first");
    repo.git("tag", "-a", "v1", "-m", "release 1");
    repo.git("tag", "light", first);
    second = repo.commit({ "app/a.yaml": "a: 2\n", "other/x.txt": "changed\n" }, "second\n\nbody");
    repo.git("branch", "dev", first);
    source = await openSource(repo.dir, { cacheDir });
  });
  after(async () => {
    await source.close();
    repo.remove();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("resolves branches, tags, SHAs and expressions", async () => {
    const cases: Array<[string, () => string]> = [
      ["main", () => second],
      ["HEAD", () => second],
      ["dev", () => first],
      ["v1", () => first],
      ["light", () => first],
      [first.slice(0, 8), () => first],
      [second, () => second],
      ["HEAD~1", () => first],
      ["main^", () => first],
    ];
    for (const [rev, expected] of cases) {
      const commit = await source.resolve(rev);
      assert.equal(commit.sha, expected(), rev);
    }
  });

  it("fills author, committer, subject and tree", async () => {
    const commit = await source.resolve("main");
    assert.equal(commit.subject, "second");
    assert.equal(commit.author.name, "Test Author");
    assert.equal(commit.author.email, "author@example.com");
    assert.equal(commit.committer.email, "committer@example.com");
    assert.match(commit.author.date, /^\d{4}-\d\d-\d\dT/);
    assert.equal(commit.tree, repo.git("rev-parse", "main^{tree}"));
  });

  it("reads the whole message with the commit, as stored", async () => {
    const commit = await source.resolve("main");
    assert.equal(commit.message, "second\n\nbody\n");
    assert.equal((await source.resolve("v1")).message, "first\n");
  });

  it("reports an unknown revision with the branches as a hint", async () => {
    await assert.rejects(source.resolve("nope"), (e: unknown) => {
      assert.ok(isGitwardError(e));
      assert.equal(e.code, "git");
      assert.equal(e.message, `unknown revision "nope" in ${repo.dir}`);
      assert.match(e.hint ?? "", /dev/);
      return true;
    });
  });

  it("refuses revisions that look like options", async () => {
    await assert.rejects(source.resolve("--output=/tmp/x"), gitError(/invalid revision/));
    await assert.rejects(source.resolve(""), gitError(/invalid revision/));
  });

  it("reads files at an older commit, never the working tree", async () => {
    writeFileSync(join(repo.dir, "app/a.yaml"), "a: dirty\n");
    writeFileSync(join(repo.dir, "app/untracked.yaml"), "u: 1\n");
    const snap = await source.snapshot(await source.resolve("HEAD~1"));
    assert.equal((await snap.readFile("app/a.yaml")).toString(), "a: 1\n");
    assert.equal((await snap.readFile("other/x.txt")).toString(), "x\n");
    assert.deepEqual(
      snap.listFiles("app").map((f) => f.path),
      ["app/a.yaml", "app/sub/b.yaml"],
    );
    const files = await snap.readFiles(["app/a.yaml", "./app/sub/b.yaml"]);
    assert.equal(files.get("./app/sub/b.yaml")?.toString(), "b: 1\n");
    await assert.rejects(snap.readFile("app/untracked.yaml"), gitError(/app\/untracked.yaml: no such file/));
    await assert.rejects(snap.readFile("app"), gitError(/not a file/));
  });

  it("indexes the tree: entries and stable tree ids", async () => {
    const one = await source.snapshot(await source.resolve(first));
    const two = await source.snapshot(await source.resolve(second));
    assert.equal(one.treeId("app/sub"), two.treeId("app/sub"));
    assert.notEqual(one.treeId("app"), two.treeId("app"));
    assert.equal(one.treeId(""), one.commit.tree);
    assert.equal(one.treeId("app/a.yaml"), undefined);
    assert.equal(one.treeId("missing"), undefined);
    const entry = two.entry("app/a.yaml");
    assert.equal(entry?.type, "blob");
    assert.equal(entry?.mode, "100644");
    assert.equal(entry?.size, 5);
    assert.equal(entry?.oid, repo.git("rev-parse", `${second}:app/a.yaml`));
    assert.equal(two.entry("")?.type, "tree");
    assert.deepEqual(two.listFiles("missing"), []);
    assert.equal(two.listFiles("").length, 3);
  });

  it("refuses paths that leave the repository", async () => {
    const snap = await source.snapshot(await source.resolve("main"));
    const escapes = (e: unknown): boolean => isGitwardError(e) && e.code === "limit" && /escapes/.test(e.message);
    assert.throws(() => snap.entry("../x"), escapes);
    assert.throws(() => snap.listFiles("/etc"), escapes);
    await assert.rejects(snap.readFile("app/../../etc/passwd"), escapes);
  });

  it("opens a bare repository in place", async () => {
    const bare = join(cacheDir, "bare.git");
    repo.git("clone", "--quiet", "--bare", repo.dir, bare);
    const other = await openSource(bare, { cacheDir });
    try {
      assert.equal((await other.resolve("main")).sha, second);
    } finally {
      await other.close();
    }
  });

  it("refuses a directory that is not a repository, or not its top level", async () => {
    const plain = join(cacheDir, "plain");
    mkdirSync(plain);
    await assert.rejects(openSource(plain, { cacheDir }), gitError(/is not a git repository/));
    await assert.rejects(openSource(join(cacheDir, "absent"), { cacheDir }), gitError(/does not exist/));
    await assert.rejects(openSource(join(repo.dir, "app"), { cacheDir }), gitError(/not its top level/));
  });
});
