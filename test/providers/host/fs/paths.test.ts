import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GitwardError } from "../../../../src/core/errors.ts";
import { normalizeRelPath, parentDirs, resolveInside } from "../../../../src/providers/host/fs/paths.ts";
import { tempRoot } from "./support.ts";

function limitError(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof GitwardError, `not a GitwardError: ${String(e)}`);
    assert.equal(e.code, "limit");
    assert.match(e.message, pattern);
    return true;
  };
}

describe("normalizeRelPath", () => {
  const good: [string, string][] = [
    ["a.conf", "a.conf"],
    ["conf.d/a.conf", "conf.d/a.conf"],
    ["./conf.d//a.conf", "conf.d/a.conf"],
    ["conf.d/./a.conf/", "conf.d/a.conf"],
    ["..a/b..", "..a/b.."],
    [".gitwardx/a", ".gitwardx/a"],
    ["a/.gitward", "a/.gitward"],
    ["with space/ü.conf", "with space/ü.conf"],
  ];
  for (const [input, expected] of good) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => assert.equal(normalizeRelPath(input), expected));
  }

  const bad: [string, RegExp][] = [
    ["", /^path "" is empty$/],
    ["../etc/passwd", /^path "\.\.\/etc\/passwd" escapes the target root: "\.\." is not allowed$/],
    ["a/../../b", /escapes the target root/],
    ["a/..", /escapes the target root/],
    ["/etc/passwd", /^path "\/etc\/passwd" is absolute; paths are relative to the target root$/],
    ["a\0b", /contains a NUL character/],
    ["a\\..\\b", /contains a backslash/],
    [".", /is the target root itself/],
    ["./", /is the target root itself/],
    [".gitward", /is inside \.gitward, which gitward reserves for its own state/],
    [".gitward/journal.json", /is inside \.gitward/],
    ["./.gitward/x", /is inside \.gitward/],
    [".GitWard/x", /is inside \.gitward/],
  ];
  for (const [input, pattern] of bad) {
    it(`refuses ${JSON.stringify(input)}`, () => assert.throws(() => normalizeRelPath(input), limitError(pattern)));
  }
});

describe("parentDirs", () => {
  it("lists the parents outermost first", () => {
    assert.deepEqual(parentDirs("a/b/c.conf"), ["a", "a/b"]);
    assert.deepEqual(parentDirs("c.conf"), []);
  });
});

describe("resolveInside", () => {
  let root = "";
  let cleanup = (): void => undefined;
  let outside = { root: "", cleanup: (): void => undefined };
  before(() => {
    ({ root, cleanup } = tempRoot());
    outside = tempRoot("gitward-outside-");
    mkdirSync(join(root, "conf.d/sub"), { recursive: true });
    writeFileSync(join(root, "conf.d/a.conf"), "a");
    writeFileSync(join(root, "file"), "f");
    symlinkSync(outside.root, join(root, "escape"));
    symlinkSync("sub", join(root, "conf.d/inner"));
    symlinkSync("a.conf", join(root, "conf.d/link.conf"));
  });
  after(() => {
    cleanup();
    outside.cleanup();
  });

  it("returns the absolute path of existing and missing paths", async () => {
    assert.equal(await resolveInside(root, "conf.d/a.conf"), join(root, "conf.d/a.conf"));
    assert.equal(await resolveInside(root, "conf.d/new/deeper/x.conf"), join(root, "conf.d/new/deeper/x.conf"));
    assert.equal(await resolveInside(root, "./conf.d//a.conf"), join(root, "conf.d/a.conf"));
  });

  it("refuses a symlinked parent directory pointing outside the root", async () => {
    await assert.rejects(resolveInside(root, "escape/passwd"), limitError(/^escape is a symlink; gitward does not follow symlinks under the target root$/));
    await assert.rejects(resolveInside(root, "escape/deep/x"), limitError(/^escape is a symlink/));
  });

  it("refuses a symlinked parent inside the root too", async () => {
    await assert.rejects(resolveInside(root, "conf.d/inner/x.conf"), limitError(/^conf\.d\/inner is a symlink/));
  });

  it("refuses a final symlink unless asked to allow it", async () => {
    await assert.rejects(resolveInside(root, "conf.d/link.conf"), limitError(/^conf\.d\/link\.conf is a symlink/));
    assert.equal(await resolveInside(root, "conf.d/link.conf", { allowFinalSymlink: true }), join(root, "conf.d/link.conf"));
  });

  it("refuses escapes and .gitward before looking at the disk", async () => {
    await assert.rejects(resolveInside(root, "../x"), limitError(/escapes the target root/));
    await assert.rejects(resolveInside(root, ".gitward/lock"), limitError(/reserves/));
  });

  it("accepts a root that is itself a symlink", async () => {
    const linked = join(outside.root, "root-link");
    symlinkSync(root, linked);
    assert.equal(await resolveInside(linked, "conf.d/a.conf"), join(linked, "conf.d/a.conf"));
  });

  it("lets a path under a file through (the operation then fails on its own)", async () => {
    assert.equal(await resolveInside(root, "file/x"), join(root, "file/x"));
  });
});
