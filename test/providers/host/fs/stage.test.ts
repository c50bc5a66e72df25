import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { stageTree } from "../../../../src/providers/host/fs/stage.ts";
import { beginTransaction, type Operation } from "../../../../src/providers/host/fs/transaction.ts";
import { scenarioOps, seedTree } from "./scenario.ts";
import { gitwardError, snapshot, stateEntries, tempRoot } from "./support.ts";

describe("stageTree", () => {
  let root = "";
  let cleanup = (): void => undefined;
  beforeEach(() => {
    ({ root, cleanup } = tempRoot());
    seedTree(root);
  });
  afterEach(() => cleanup());

  it("stages the tree the transaction would make, without touching the root", async () => {
    const before = snapshot(root);
    const staged = await stageTree(root, scenarioOps());
    try {
      assert.ok(staged.dir.startsWith(join(root, ".gitward", `stage-${process.pid}-`)));
      assert.deepEqual(snapshot(root), before);
      // The same operations applied for real give the same tree.
      const expected = snapshot(staged.dir);
      const txn = await beginTransaction(root, scenarioOps());
      assert.deepEqual(snapshot(root), expected);
      await txn.rollback();
    } finally {
      await staged.cleanup();
    }
    assert.ok(!existsSync(staged.dir));
    await staged.cleanup();
    assert.deepEqual(stateEntries(root), []);
  });

  it("copies modes, keeps symlinks as symlinks and leaves .gitward out", async () => {
    mkdirSync(join(root, "secret"), { mode: 0o700 });
    chmodSync(join(root, "secret"), 0o711);
    writeFileSync(join(root, "secret/key"), "k", { mode: 0o400 });
    chmodSync(join(root, "secret/key"), 0o400);
    symlinkSync("/etc/passwd", join(root, "passwd-link"));
    symlinkSync("../keep", join(root, "secret/dirlink"));
    chmodSync(root, 0o750);
    mkdirSync(join(root, ".gitward"), { mode: 0o700 });
    writeFileSync(join(root, ".gitward/paths.json"), "{}");
    const staged = await stageTree(root, []);
    try {
      assert.equal(lstatSync(join(staged.dir, "secret")).mode & 0o7777, 0o711);
      assert.equal(lstatSync(join(staged.dir, "secret/key")).mode & 0o7777, 0o400);
      assert.equal(lstatSync(staged.dir).mode & 0o7777, 0o750);
      assert.ok(lstatSync(join(staged.dir, "passwd-link")).isSymbolicLink());
      assert.equal(readlinkSync(join(staged.dir, "passwd-link")), "/etc/passwd");
      assert.equal(readlinkSync(join(staged.dir, "secret/dirlink")), "../keep");
      assert.ok(!existsSync(join(staged.dir, ".gitward")));
      assert.equal(readFileSync(join(staged.dir, "keep/a.conf"), "utf8"), "old a\n");
    } finally {
      await staged.cleanup();
    }
  });

  it("skips FIFOs and sockets rather than hang or fail on them", async () => {
    execFileSync("mkfifo", [join(root, "keep/fifo")]);
    const staged = await stageTree(root, [{ op: "write", path: "keep/a.conf", content: Buffer.from("staged"), mode: 0o644 }]);
    try {
      assert.ok(!existsSync(join(staged.dir, "keep/fifo")));
      assert.equal(readFileSync(join(staged.dir, "keep/a.conf"), "utf8"), "staged");
      assert.equal(readFileSync(join(root, "keep/a.conf"), "utf8"), "old a\n");
    } finally {
      await staged.cleanup();
    }
  });

  it("reports an operation that cannot be applied and leaves nothing behind", async () => {
    const ops: Operation[] = [{ op: "rmdir", path: "keep" }];
    await assert.rejects(stageTree(root, ops), gitwardError(/^keep: cannot remove directory: it is not empty$/));
    assert.deepEqual(stateEntries(root), []);
  });
});
