import assert from "node:assert/strict";
import { chmodSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isGitwardError } from "../../src/core/errors.ts";
import type { GitSource, Snapshot } from "../../src/source/index.ts";
import { openSource } from "../../src/source/index.ts";
import type { TestRepo } from "../support/repo.ts";
import { makeRepo } from "../support/repo.ts";

function limitError(pattern: RegExp): (e: unknown) => boolean {
  return (e) => isGitwardError(e) && e.code === "limit" && pattern.test(e.message);
}

describe("snapshot", () => {
  let repo: TestRepo;
  let temp: string;
  const sources: GitSource[] = [];
  const open = async (limits?: { maxFileBytes: number; maxTotalBytes: number; maxFiles: number }): Promise<Snapshot> => {
    const source = await openSource(repo.dir, { cacheDir: temp, ...(limits === undefined ? {} : { limits }) });
    sources.push(source);
    return source.snapshot(await source.resolve("main"));
  };

  before(() => {
    temp = mkdtempSync(join(tmpdir(), "gitward-snap-"));
    repo = makeRepo();
    repo.commit({
      "base/deploy.yaml": "kind: Deployment\n",
      "base/run.sh": "#!/bin/sh\necho hi\n",
      "base/nested/cm.yaml": "kind: ConfigMap\n",
      "big/huge.bin": Buffer.alloc(64 * 1024, 1),
      "many/1.txt": "1",
      "many/2.txt": "2",
      "many/3.txt": "3",
      "many/4.txt": "4",
      "empty.txt": "",
    });
    chmodSync(join(repo.dir, "base/run.sh"), 0o755);
    repo.git("commit", "-q", "-a", "-m", "exec bit");
    repo.symlink("overlay/deploy.yaml", "../base/deploy.yaml");
    repo.symlink("overlay/base", "../base");
    repo.symlink("base/nested/loop", "..");
    repo.symlink("bad/passwd", "../../etc/passwd");
    repo.symlink("bad2/abs", "/etc/passwd");
    repo.symlink("dangling/link", "nothing-here");
    // A submodule entry (mode 160000) pointing at some commit.
    const head = repo.git("rev-parse", "HEAD");
    repo.git("update-index", "--add", "--cacheinfo", `160000,${head},base/vendor`);
    repo.git("commit", "-q", "-m", "submodule");
  });
  after(async () => {
    for (const source of sources) await source.close();
    repo.remove();
    rmSync(temp, { recursive: true, force: true });
  });

  it("lists files, skipping submodules and following symlinks inside the repository", async () => {
    const snap = await open();
    assert.deepEqual(
      snap.listFiles("base").map((f) => f.path),
      // base/nested/loop points back at base: the cycle is not followed.
      ["base/deploy.yaml", "base/nested/cm.yaml", "base/run.sh"],
    );
    const overlay = snap.listFiles("overlay");
    assert.deepEqual(
      overlay.map((f) => f.path),
      ["overlay/base/deploy.yaml", "overlay/base/nested/cm.yaml", "overlay/base/run.sh", "overlay/deploy.yaml"],
    );
    const original = snap.entry("base/deploy.yaml");
    assert.equal(overlay.find((f) => f.path === "overlay/deploy.yaml")?.oid, original?.oid);
    assert.equal(snap.entry("overlay/base/deploy.yaml")?.oid, original?.oid);
    assert.equal(snap.treeId("overlay/base"), snap.treeId("base"));
    assert.equal((await snap.readFile("overlay/deploy.yaml")).toString(), "kind: Deployment\n");
    assert.deepEqual(snap.listFiles("dangling"), []);
  });

  it("refuses symlinks that escape the repository", async () => {
    const snap = await open();
    await assert.rejects(snap.readFile("bad/passwd"), (e: unknown) => {
      assert.ok(isGitwardError(e));
      assert.equal(e.code, "limit");
      assert.match(e.message, /^bad\/passwd: path escapes the repository: symlink points to "\.\.\/\.\.\/etc\/passwd"/);
      return true;
    });
    assert.throws(() => snap.listFiles("bad2"), limitError(/bad2\/abs: path escapes the repository.*\/etc\/passwd/));
    assert.throws(() => snap.listFiles(""), limitError(/escapes/));
  });

  it("enforces the file size, total size and file count limits", async () => {
    const snap = await open({ maxFileBytes: 1024, maxTotalBytes: 40, maxFiles: 3 });
    await assert.rejects(snap.readFile("big/huge.bin"), limitError(/^big\/huge.bin: file is 65536 bytes/));
    assert.throws(() => snap.listFiles("many"), limitError(/^many: more than 3 files/));
    await snap.readFile("base/deploy.yaml");
    await assert.rejects(snap.readFiles(["base/run.sh", "base/nested/cm.yaml"]), limitError(/exceed/));
  });

  it("reads many files through one process, in order", async () => {
    const snap = await open();
    const paths = ["many/4.txt", "empty.txt", "many/1.txt", "big/huge.bin", "many/1.txt"];
    const files = await snap.readFiles(paths);
    assert.deepEqual([...files.keys()], ["many/4.txt", "empty.txt", "many/1.txt", "big/huge.bin"]);
    assert.equal(files.get("many/4.txt")?.toString(), "4");
    assert.equal(files.get("empty.txt")?.length, 0);
    assert.ok(files.get("big/huge.bin")?.equals(Buffer.alloc(64 * 1024, 1)));
    const again = await Promise.all([snap.readFile("many/2.txt"), snap.readFile("many/3.txt")]);
    assert.deepEqual(again.map(String), ["2", "3"]);
  });

  it("stops a read when its signal aborts, and reads again afterwards", async () => {
    const snap = await open();
    await assert.rejects(snap.readFile("many/1.txt", AbortSignal.abort()), { name: "AbortError" });
    const controller = new AbortController();
    const pending = snap.readFiles(["many/1.txt", "big/huge.bin"], controller.signal);
    controller.abort();
    await assert.rejects(pending, { name: "AbortError" });
    assert.equal((await snap.readFile("many/2.txt")).toString(), "2");
  });

  it("materializes a directory as real files, keeping the executable bit", async () => {
    const snap = await open();
    const dest = join(temp, "out");
    await snap.materialize("overlay", dest);
    assert.equal(readFileSync(join(dest, "deploy.yaml"), "utf8"), "kind: Deployment\n");
    assert.ok(lstatSync(join(dest, "deploy.yaml")).isFile());
    assert.equal(readFileSync(join(dest, "base/nested/cm.yaml"), "utf8"), "kind: ConfigMap\n");
    assert.equal(statSync(join(dest, "base/run.sh")).mode & 0o777, 0o755);
    assert.equal(statSync(join(dest, "deploy.yaml")).mode & 0o777, 0o644);
    await assert.rejects(snap.materialize("missing", join(temp, "none")), (e: unknown) => isGitwardError(e) && e.code === "git");
  });

  it("materializes the root, refusing it when a link escapes", async () => {
    const clean = makeRepo();
    try {
      clean.commit({ "a.txt": "a", "d/b.txt": "b" });
      const source = await openSource(clean.dir, { cacheDir: temp });
      sources.push(source);
      const snap = await source.snapshot(await source.resolve("main"));
      const dest = join(temp, "root");
      await snap.materialize("", dest);
      assert.equal(readFileSync(join(dest, "d/b.txt"), "utf8"), "b");
    } finally {
      clean.remove();
    }
    const snap = await open();
    await assert.rejects(snap.materialize("", join(temp, "root2")), limitError(/escapes/));
  });
});
