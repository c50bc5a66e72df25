import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, it } from "node:test";
import { GitwardError } from "../../../../src/core/errors.ts";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "../../../../src/providers/host/fs/atomic.ts";
import { isRoot, needsRoot, tempRoot } from "./support.ts";

const modeOf = (p: string): number => statSync(p).mode & 0o7777;
const atomicModule = fileURLToPath(new URL("../../../../src/providers/host/fs/atomic.ts", import.meta.url));

/**
 * Runs writeFileAtomic in a child process that is root without capabilities (util-linux's
 * setpriv clears the bounding set), so directory permissions apply to it. Running it as nobody
 * would need the checkout and Node to be readable by nobody, which a CI clone is not.
 */
function writeWithoutCapabilities(path: string): Promise<string> {
  const script = `import { writeFileAtomic } from ${JSON.stringify(atomicModule)};
try { await writeFileAtomic(${JSON.stringify(path)}, "new", { mode: 0o644 }); console.log("ok"); } catch (e) { console.log(String(e)); }`;
  return new Promise((resolve, reject) => {
    execFile("setpriv", ["--bounding-set=-all", "--inh-caps=-all", "--", process.execPath, "--input-type=module", "-e", script], { encoding: "utf8" }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe("writeFileAtomic", () => {
  let root = "";
  let cleanup = (): void => undefined;
  beforeEach(() => ({ root, cleanup } = tempRoot()));
  afterEach(() => cleanup());

  it("creates a file with the exact mode, whatever the umask", async () => {
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(join(root, "a.conf"), "hello\n", { mode: 0o644 });
      await writeFileAtomic(join(root, "b.conf"), Buffer.from([0, 1, 2]), { mode: 0o2755 });
    } finally {
      process.umask(old);
    }
    assert.equal(readFileSync(join(root, "a.conf"), "utf8"), "hello\n");
    assert.equal(modeOf(join(root, "a.conf")), 0o644);
    assert.deepEqual([...readFileSync(join(root, "b.conf"))], [0, 1, 2]);
    assert.equal(modeOf(join(root, "b.conf")), 0o2755);
  });

  it("replaces a file's content and mode and leaves no temporary file", async () => {
    const path = join(root, "a.conf");
    writeFileSync(path, "old", { mode: 0o600 });
    await writeFileAtomic(path, "new", { mode: 0o640 });
    assert.equal(readFileSync(path, "utf8"), "new");
    assert.equal(modeOf(path), 0o640);
    assert.deepEqual(readdirSync(root), ["a.conf"]);
  });

  it("removes its temporary file and leaves the target as it was when the rename fails", async () => {
    const path = join(root, "conf.d");
    mkdirSync(path);
    writeFileSync(join(path, "keep"), "x");
    await assert.rejects(writeFileAtomic(path, "data", { mode: 0o644 }), (e: unknown) => {
      assert.ok(e instanceof GitwardError);
      assert.match(e.message, /conf\.d: cannot write: .*(EISDIR|ENOTEMPTY|EEXIST)/);
      return true;
    });
    assert.deepEqual(readdirSync(root), ["conf.d"]);
    assert.deepEqual(readdirSync(path), ["keep"]);
  });

  it("fails without creating anything when the parent is a file", async () => {
    writeFileSync(join(root, "file"), "original");
    await assert.rejects(writeFileAtomic(join(root, "file/a.conf"), "x", { mode: 0o644 }), /cannot write: ENOTDIR/);
    assert.deepEqual(readdirSync(root), ["file"]);
    assert.equal(readFileSync(join(root, "file"), "utf8"), "original");
  });

  it("keeps the original when the directory is read-only", async () => {
    const dir = join(root, "ro");
    mkdirSync(dir);
    writeFileSync(join(dir, "a.conf"), "original");
    chmodSync(root, 0o755);
    if (isRoot) chownSync(dir, 65534, 65534);
    chmodSync(dir, 0o555);
    try {
      // Root ignores directory permissions, so as root the write runs in a child without capabilities.
      const result = isRoot ? await writeWithoutCapabilities(join(dir, "a.conf")) : await writeFileAtomic(join(dir, "a.conf"), "new", { mode: 0o644 }).then(() => "ok", (e: unknown) => String(e));
      assert.match(result, /a\.conf: cannot write: EACCES/);
      assert.equal(readFileSync(join(dir, "a.conf"), "utf8"), "original");
      assert.deepEqual(readdirSync(dir), ["a.conf"]);
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it("refuses a mode out of range before writing anything", async () => {
    await assert.rejects(writeFileAtomic(join(root, "a"), "x", { mode: 0o10000 }), /invalid mode 010000/);
    await assert.rejects(writeFileAtomic(join(root, "a"), "x", { mode: 0o644, uid: -1 }), /invalid uid -1/);
    assert.deepEqual(readdirSync(root), []);
  });

  it("sets the owner, then the mode (chown would clear setgid)", { skip: needsRoot }, async () => {
    const path = join(root, "owned");
    await writeFileAtomic(path, "x", { mode: 0o2750, uid: 65534, gid: 65534 });
    const info = statSync(path);
    assert.equal(info.uid, 65534);
    assert.equal(info.gid, 65534);
    assert.equal(info.mode & 0o7777, 0o2750);
  });
});

describe("JSON state files", () => {
  let root = "";
  let cleanup = (): void => undefined;
  beforeEach(() => ({ root, cleanup } = tempRoot()));
  afterEach(() => cleanup());

  it("writes with mode 0600, creating the directory, and reads back", async () => {
    const path = join(root, ".gitward/inventory/dev.web.json");
    await writeJsonAtomic(path, { version: 1, paths: { "a.conf": true } });
    assert.equal(modeOf(path), 0o600);
    assert.equal(modeOf(join(root, ".gitward/inventory")) & 0o077, 0);
    assert.deepEqual(await readJsonFile(path), { version: 1, paths: { "a.conf": true } });
  });

  it("reads a missing file as undefined", async () => {
    assert.equal(await readJsonFile(join(root, "nope.json")), undefined);
    assert.ok(!existsSync(join(root, "nope.json")));
  });

  it("names a corrupt file", async () => {
    const path = join(root, "paths.json");
    writeFileSync(path, '{"version": 1,');
    await assert.rejects(readJsonFile(path), (e: unknown) => {
      assert.ok(e instanceof GitwardError);
      assert.ok(e.message.startsWith(`${path}: corrupt state file`), e.message);
      assert.ok(e.hint !== undefined);
      return true;
    });
  });
});
