import assert from "node:assert/strict";
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { listUnmanaged, scanDirectories, scanFiles, type DesiredFile } from "../../../../src/providers/host/fs/scan.ts";
import { gitwardError, needsRoot, tempRoot } from "./support.ts";

const file = (path: string, text: string, mode = 0o644, owner: { uid?: number; gid?: number } = {}): DesiredFile => ({ path, content: Buffer.from(text), mode, ...owner });

describe("scanFiles", () => {
  let root = "";
  let cleanup = (): void => undefined;
  before(() => {
    ({ root, cleanup } = tempRoot());
    mkdirSync(join(root, "conf.d"));
    writeFileSync(join(root, "conf.d/ok.conf"), "ok\n");
    chmodSync(join(root, "conf.d/ok.conf"), 0o644);
    writeFileSync(join(root, "conf.d/same-size.conf"), "abc\n");
    chmodSync(join(root, "conf.d/same-size.conf"), 0o644);
    writeFileSync(join(root, "conf.d/longer.conf"), "live text that is longer\n");
    chmodSync(join(root, "conf.d/longer.conf"), 0o644);
    writeFileSync(join(root, "conf.d/mode.conf"), "m\n");
    chmodSync(join(root, "conf.d/mode.conf"), 0o600);
    writeFileSync(join(root, "conf.d/both.conf"), "old\n");
    chmodSync(join(root, "conf.d/both.conf"), 0o600);
    writeFileSync(join(root, "empty"), "");
    chmodSync(join(root, "empty"), 0o644);
    mkdirSync(join(root, "adir"));
    symlinkSync("ok.conf", join(root, "conf.d/link.conf"));
    writeFileSync(join(root, "plainfile"), "x");
    symlinkSync("/etc", join(root, "etc"));
    writeFileSync(join(root, "big"), Buffer.alloc(2048, 0x61));
  });
  after(() => cleanup());

  it("reports ok, missing, content, mode and type differences, in order", async () => {
    const states = await scanFiles(root, [
      file("conf.d/ok.conf", "ok\n"),
      file("conf.d/missing.conf", "x"),
      file("conf.d/same-size.conf", "xyz\n"),
      file("conf.d/longer.conf", "short\n"),
      file("conf.d/mode.conf", "m\n", 0o640),
      file("conf.d/both.conf", "new\n", 0o644),
      file("empty", ""),
      file("adir", "x"),
      file("conf.d/link.conf", "ok\n"),
      file("plainfile/below", "x"),
      file("new/dir/x.conf", "x"),
    ]);
    const brief = states.map((s) => [s.path, s.state, s.diffs.join(",")]);
    assert.deepEqual(brief, [
      ["conf.d/ok.conf", "ok", ""],
      ["conf.d/missing.conf", "missing", ""],
      ["conf.d/same-size.conf", "changed", "content"],
      ["conf.d/longer.conf", "changed", "content"],
      ["conf.d/mode.conf", "changed", "mode"],
      ["conf.d/both.conf", "changed", "content,mode"],
      ["empty", "ok", ""],
      ["adir", "changed", "type"],
      ["conf.d/link.conf", "changed", "type"],
      ["plainfile/below", "missing", ""],
      ["new/dir/x.conf", "missing", ""],
    ]);
  });

  it("gives the live content and attributes of what differs, and nothing for what is ok", async () => {
    const [ok, sameSize, longer, mode, link] = await scanFiles(root, [
      file("conf.d/ok.conf", "ok\n"),
      file("conf.d/same-size.conf", "xyz\n"),
      file("conf.d/longer.conf", "short\n"),
      file("conf.d/mode.conf", "m\n", 0o640),
      file("conf.d/link.conf", "ok\n"),
    ]);
    assert.equal(ok?.live, undefined);
    assert.equal(sameSize?.live?.content?.toString(), "abc\n");
    assert.equal(longer?.live?.content?.toString(), "live text that is longer\n");
    assert.equal(longer?.live?.mode, 0o644);
    assert.equal(mode?.live?.mode, 0o600);
    assert.equal(mode?.live?.content, undefined, "content is not shown when only the mode differs");
    assert.equal(link?.live?.content, undefined);
    assert.equal(typeof ok?.path, "string");
  });

  it("leaves out live content over the limit", async () => {
    const [big] = await scanFiles(root, [file("big", "small")], { liveContentLimit: 1024 });
    assert.deepEqual(big?.diffs, ["content"]);
    assert.equal(big?.live?.content, undefined);
  });

  it("refuses to look through a symlinked directory", async () => {
    await assert.rejects(scanFiles(root, [file("etc/passwd", "x")]), gitwardError(/^etc is a symlink; gitward does not follow symlinks/));
  });

  it("compares owners only when asked", { skip: needsRoot }, async () => {
    writeFileSync(join(root, "owned"), "o");
    chmodSync(join(root, "owned"), 0o644);
    chownSync(join(root, "owned"), 65534, 0);
    const states = await scanFiles(root, [
      file("owned", "o"),
      file("owned", "o", 0o644, { uid: 65534 }),
      file("owned", "o", 0o644, { uid: 0 }),
      file("owned", "o", 0o644, { gid: 65534 }),
    ]);
    assert.deepEqual(states.map((s) => s.diffs.join(",")), ["", "", "owner", "owner"]);
    assert.deepEqual(states[2]?.live, { mode: 0o644, uid: 65534, gid: 0 });
  });
});

describe("scanDirectories", () => {
  let root = "";
  let cleanup = (): void => undefined;
  before(() => {
    ({ root, cleanup } = tempRoot());
    mkdirSync(join(root, "a/b"), { recursive: true });
    chmodSync(join(root, "a"), 0o755);
    chmodSync(join(root, "a/b"), 0o700);
    writeFileSync(join(root, "f"), "");
    symlinkSync("a", join(root, "l"));
  });
  after(() => cleanup());

  it("reports ok, missing, mode and type", async () => {
    const states = await scanDirectories(root, [
      { path: "a", mode: 0o755 },
      { path: "a/b", mode: 0o755 },
      { path: "a/c", mode: 0o755 },
      { path: "f", mode: 0o755 },
      { path: "l", mode: 0o755 },
    ]);
    assert.deepEqual(states.map((s) => [s.path, s.state, s.diffs.join(",")]), [
      ["a", "ok", ""],
      ["a/b", "changed", "mode"],
      ["a/c", "missing", ""],
      ["f", "changed", "type"],
      ["l", "changed", "type"],
    ]);
    assert.equal(states[1]?.live?.mode, 0o700);
  });
});

describe("listUnmanaged", () => {
  let root = "";
  let cleanup = (): void => undefined;
  before(() => {
    ({ root, cleanup } = tempRoot());
    mkdirSync(join(root, "conf.d/sub/deeper"), { recursive: true });
    mkdirSync(join(root, ".gitward/txn-1"), { recursive: true });
    writeFileSync(join(root, ".gitward/journal.json"), "{}");
    for (const f of ["conf.d/a.conf", "conf.d/b.conf", "conf.d/sub/c.conf", "conf.d/sub/deeper/d.conf", "top.conf"]) writeFileSync(join(root, f), f);
    symlinkSync("/etc", join(root, "conf.d/etc-link"));
    mkdirSync(join(root, "conf.d/.hidden"));
    writeFileSync(join(root, "conf.d/.hidden/h"), "h");
    writeFileSync(join(root, "notadir"), "x");
  });
  after(() => cleanup());

  it("lists what is not managed under a directory, recursively, symlinks as files", async () => {
    const managed = new Set(["conf.d/a.conf", "conf.d/sub/deeper/d.conf"]);
    assert.deepEqual(await listUnmanaged(root, "conf.d", managed), [
      "conf.d/.hidden/h",
      "conf.d/b.conf",
      "conf.d/etc-link",
      "conf.d/sub/c.conf",
    ]);
  });

  it("lists the whole root without entering .gitward", async () => {
    const all = await listUnmanaged(root, ".", new Set(["top.conf"]));
    assert.ok(!all.some((p) => p.startsWith(".gitward")), all.join(" "));
    assert.ok(all.includes("notadir") && all.includes("conf.d/b.conf") && !all.includes("top.conf"));
    assert.deepEqual(await listUnmanaged(root, "", new Set()), await listUnmanaged(root, ".", new Set()));
  });

  it("has nothing for a missing directory, a file, or a symlink", async () => {
    assert.deepEqual(await listUnmanaged(root, "nope", new Set()), []);
    assert.deepEqual(await listUnmanaged(root, "notadir", new Set()), []);
    assert.deepEqual(await listUnmanaged(root, "conf.d/etc-link", new Set()), []);
  });

  it("refuses paths that escape", async () => {
    await assert.rejects(listUnmanaged(root, "../x", new Set()), gitwardError(/escapes the target root/));
    await assert.rejects(listUnmanaged(root, "conf.d/etc-link/ssh", new Set()), gitwardError(/conf\.d\/etc-link is a symlink/));
  });
});
