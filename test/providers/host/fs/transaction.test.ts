import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { CommandRunner } from "../../../../src/core/command-runner.ts";
import { GitwardError } from "../../../../src/core/errors.ts";
import { beginTransaction, type Operation } from "../../../../src/providers/host/fs/transaction.ts";
import { scenarioOps, seedTree } from "./scenario.ts";
import { gitwardError, needsRoot, snapshot, stateEntries, tempFiles, tempRoot } from "./support.ts";

const modeOf = (p: string): number => statSync(p).mode & 0o7777;
const write = (path: string, text: string, mode = 0o644): Operation => ({ op: "write", path, content: Buffer.from(text), mode });

describe("beginTransaction", () => {
  let root = "";
  let cleanup = (): void => undefined;
  beforeEach(() => {
    ({ root, cleanup } = tempRoot());
    seedTree(root);
  });
  afterEach(() => cleanup());

  it("applies every operation, keeps backups until commit, and commits", async () => {
    const txn = await beginTransaction(root, scenarioOps());
    assert.equal(readFileSync(join(root, "keep/a.conf"), "utf8"), "new a\n");
    assert.equal(modeOf(join(root, "keep/a.conf")), 0o600);
    assert.equal(readFileSync(join(root, "many/f7.conf"), "utf8"), "new 7\n");
    assert.equal(modeOf(join(root, "many/f7.conf")), 0o640);
    assert.equal(readFileSync(join(root, "new/deep/n299.conf"), "utf8"), "n 299\n");
    assert.equal(modeOf(join(root, "new")), 0o755);
    assert.equal(modeOf(join(root, "made")), 0o751);
    assert.equal(modeOf(join(root, "perms")), 0o755);
    for (const gone of ["keep/b.conf", "keep/link", "olddir"]) assert.ok(!existsSync(join(root, gone)), gone);
    assert.equal(readFileSync(join(root, "unmanaged.txt"), "utf8"), "not gitward's\n");
    assert.deepEqual(stateEntries(root), ["journal.json", `txn-${txn.id}`]);
    assert.ok(!txn.changed.includes("same.conf"), "a write that already matched is skipped");
    assert.equal(txn.changed.length, scenarioOps().length - 1);

    await txn.commit();
    assert.deepEqual(stateEntries(root), []);
    assert.deepEqual(tempFiles(root), []);
    await txn.commit();
    await assert.rejects(txn.rollback(), /was committed; it cannot be rolled back/);
  });

  it("rolls back content, modes, deletions and created directories exactly", async () => {
    const before = snapshot(root);
    const txn = await beginTransaction(root, scenarioOps());
    assert.notDeepEqual(snapshot(root), before);
    const { rolledBack } = await txn.rollback();
    assert.deepEqual(snapshot(root), before);
    assert.deepEqual(stateEntries(root), []);
    assert.deepEqual(tempFiles(root), []);
    for (const p of ["keep/a.conf", "keep/b.conf", "keep/link", "olddir", "perms", "made", "new/deep", "new"]) assert.ok(rolledBack.includes(p), p);
    assert.ok(!rolledBack.includes("same.conf"));
    assert.deepEqual(await txn.rollback(), { rolledBack });
    await assert.rejects(txn.commit(), /was rolled back; it cannot be committed/);
  });

  it("rolls everything back by itself when an operation fails half-way", async () => {
    const before = snapshot(root);
    const ops = scenarioOps();
    ops.splice(100, 0, { op: "rmdir", path: "keep" });
    await assert.rejects(beginTransaction(root, ops), (e: unknown) => {
      assert.ok(e instanceof GitwardError);
      assert.equal(e.message, "keep: cannot remove directory: it is not empty");
      return true;
    });
    assert.deepEqual(snapshot(root), before);
    assert.deepEqual(stateEntries(root), []);
  });

  it("rolls back when a write fails while others are in flight", async () => {
    const before = snapshot(root);
    const ops = [...scenarioOps(), write("p/q.conf", "q"), write("p", "a file where a directory now is")];
    await assert.rejects(beginTransaction(root, ops), gitwardError(/^p: cannot write: .*(EISDIR|ENOTEMPTY|EEXIST)/));
    assert.deepEqual(snapshot(root), before);
    assert.deepEqual(tempFiles(root), []);
  });

  const refusals: { name: string; setup?: (root: string) => void; ops: Operation[]; message: RegExp }[] = [
    { name: "a write over a directory", ops: [write("many", "x")], message: /^many: cannot write: it is a directory$/ },
    { name: "a remove of a directory", ops: [{ op: "remove", path: "many" }], message: /^many: cannot remove: it is a directory$/ },
    { name: "an rmdir of a file", ops: [{ op: "rmdir", path: "same.conf" }], message: /^same\.conf: cannot remove directory: it is a file$/ },
    { name: "a mkdir over a symlink", ops: [{ op: "mkdir", path: "keep/link", mode: 0o755 }], message: /^keep\/link is a symlink/ },
    { name: "a write through a file", ops: [write("same.conf/x", "x")], message: /^same\.conf\/x: cannot write: same\.conf is not a directory$/ },
    { name: "a write to a symlink", ops: [write("keep/link", "x")], message: /^keep\/link is a symlink; gitward does not follow symlinks/ },
    {
      name: "a write under a symlinked directory",
      setup: (r) => symlinkSync("/etc", join(r, "etc")),
      ops: [write("etc/passwd", "x")],
      message: /^etc is a symlink; gitward does not follow symlinks under the target root$/,
    },
    { name: "a path named twice", ops: [write("a", "1"), write("./a", "2")], message: /^a: named by two operations/ },
    { name: "an escaping path", ops: [write("../a", "1")], message: /escapes the target root/ },
    { name: "a path in .gitward", ops: [write(".gitward/journal.json", "{}")], message: /reserves for its own state/ },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name} before changing anything`, async () => {
      r.setup?.(root);
      const before = snapshot(root, { withState: true });
      await assert.rejects(beginTransaction(root, [write("first.conf", "1"), ...r.ops]), gitwardError(r.message));
      assert.deepEqual(snapshot(root, { withState: true }), before);
    });
  }

  it("refuses to begin while a journal is waiting for recovery", async () => {
    await beginTransaction(root, [write("a.conf", "a")]);
    await assert.rejects(beginTransaction(root, [write("b.conf", "b")]), /an interrupted transaction has not been recovered/);
  });

  it("treats removing what is already gone as done", async () => {
    const txn = await beginTransaction(root, [{ op: "remove", path: "nope" }, { op: "rmdir", path: "nodir" }]);
    assert.deepEqual(txn.changed, []);
    await txn.commit();
  });

  it("sets exact modes whatever the umask", async () => {
    const old = process.umask(0o077);
    try {
      const txn = await beginTransaction(root, [write("x/y/z.conf", "z", 0o664), { op: "mkdir", path: "m", mode: 0o775 }]);
      await txn.commit();
    } finally {
      process.umask(old);
    }
    assert.equal(modeOf(join(root, "x/y/z.conf")), 0o664);
    assert.equal(modeOf(join(root, "x")), 0o755);
    assert.equal(modeOf(join(root, "m")), 0o775);
  });

  it("falls back to fsyncing each file when sync -f is unavailable", async () => {
    let asked = 0;
    const runner: CommandRunner = {
      run: () => {
        asked++;
        return Promise.reject(new Error("cannot run sync: ENOENT"));
      },
    };
    // More files than a small transaction, which fsyncs them one by one without asking for sync -f.
    const ops = Array.from({ length: 40 }, (_, i) => write(`d/f${i}.conf`, `f${i}`));
    const txn = await beginTransaction(root, [write("a.conf", "a"), ...ops], { runner });
    await txn.commit();
    assert.equal(asked, process.platform === "linux" ? 1 : 0);
    assert.equal(readFileSync(join(root, "d/f39.conf"), "utf8"), "f39");
    const small = await beginTransaction(root, [write("small.conf", "s")], { runner });
    await small.commit();
    assert.equal(asked, process.platform === "linux" ? 1 : 0, "a small transaction does not start sync -f");
  });

  it("sets and restores owners", { skip: needsRoot }, async () => {
    mkdirSync(join(root, "owned"), { mode: 0o755 });
    chownSync(join(root, "owned"), 0, 0);
    const ops: Operation[] = [
      { op: "mkdir", path: "owned", mode: 0o2770, uid: 65534, gid: 65534 },
      { op: "write", path: "owned/f.conf", content: Buffer.from("f"), mode: 0o640, uid: 65534, gid: 65534 },
    ];
    const before = snapshot(root);
    const txn = await beginTransaction(root, ops);
    const dir = statSync(join(root, "owned"));
    assert.deepEqual([dir.uid, dir.gid, dir.mode & 0o7777], [65534, 65534, 0o2770]);
    const file = statSync(join(root, "owned/f.conf"));
    assert.deepEqual([file.uid, file.gid, file.mode & 0o7777], [65534, 65534, 0o640]);
    await txn.rollback();
    assert.deepEqual(snapshot(root), before);
  });

  it("keeps an existing file's previous inode as its backup", async () => {
    const txn = await beginTransaction(root, [write("keep/a.conf", "newer")]);
    const backups = readdirSync(join(root, ".gitward", `txn-${txn.id}`, "backup"));
    assert.deepEqual(backups, ["0"]);
    assert.equal(readFileSync(join(root, ".gitward", `txn-${txn.id}`, "backup/0"), "utf8"), "old a\n");
    await txn.rollback();
    assert.equal(readFileSync(join(root, "keep/a.conf"), "utf8"), "old a\n");
  });

  it("copies where it cannot link or rename: a mount point inside the root", async (t) => {
    const mnt = join(root, "mnt");
    mkdirSync(mnt);
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "gitward-test", mnt], { stdio: "ignore" });
    } catch {
      t.skip("cannot mount a tmpfs here (needs root in a VM or privileged container)");
      return;
    }
    try {
      writeFileSync(join(mnt, "a.conf"), "old a", { mode: 0o640 });
      writeFileSync(join(mnt, "b.conf"), "old b", { mode: 0o600 });
      symlinkSync("a.conf", join(mnt, "link"));
      const before = snapshot(root);
      const ops: Operation[] = [
        write("mnt/a.conf", "new a"),
        { op: "remove", path: "mnt/b.conf" },
        { op: "remove", path: "mnt/link" },
        write("mnt/sub/c.conf", "c"),
      ];
      const txn = await beginTransaction(root, ops);
      assert.equal(readFileSync(join(mnt, "a.conf"), "utf8"), "new a");
      assert.ok(!existsSync(join(mnt, "b.conf")) && !existsSync(join(mnt, "link")));
      await txn.rollback();
      assert.deepEqual(snapshot(root), before);
      await (await beginTransaction(root, ops)).commit();
      assert.equal(readFileSync(join(mnt, "sub/c.conf"), "utf8"), "c");
      assert.deepEqual(stateEntries(root), []);
    } finally {
      execFileSync("umount", [mnt]);
    }
  });

  it("does not touch files it was not asked to", async () => {
    writeFileSync(join(root, "many/extra.txt"), "extra");
    const txn = await beginTransaction(root, scenarioOps());
    await txn.commit();
    assert.equal(readFileSync(join(root, "many/extra.txt"), "utf8"), "extra");
    assert.equal(readFileSync(join(root, "unmanaged.txt"), "utf8"), "not gitward's\n");
  });
});
