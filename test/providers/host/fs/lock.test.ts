import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, it } from "node:test";
import { GitwardError } from "../../../../src/core/errors.ts";
import { acquireLock, LockHeldError } from "../../../../src/providers/host/fs/lock.ts";
import { tempRoot } from "./support.ts";

const lockModule = fileURLToPath(new URL("../../../../src/providers/host/fs/lock.ts", import.meta.url));

function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
  return Number(child.stdout.trim());
}

function writeLock(root: string, record: object | string): string {
  mkdirSync(join(root, ".gitward"), { recursive: true, mode: 0o700 });
  const path = join(root, ".gitward/lock");
  writeFileSync(path, typeof record === "string" ? record : JSON.stringify(record));
  return path;
}

describe("acquireLock", () => {
  let root = "";
  let cleanup = (): void => undefined;
  beforeEach(() => ({ root, cleanup } = tempRoot()));
  afterEach(() => cleanup());

  it("creates .gitward with mode 0700 and a lock naming this process", async () => {
    const lock = await acquireLock(root);
    assert.equal(statSync(join(root, ".gitward")).mode & 0o777, 0o700);
    const held = JSON.parse(readFileSync(lock.path, "utf8")) as { pid: number; startedAt: string; host: string };
    assert.equal(held.pid, process.pid);
    assert.equal(held.host, hostname());
    assert.ok(!Number.isNaN(Date.parse(held.startedAt)));
    await lock.release();
    assert.ok(!existsSync(lock.path));
    await lock.release();
  });

  it("refuses a second holder, naming the pid", async () => {
    const lock = await acquireLock(root);
    try {
      await assert.rejects(acquireLock(root), (e: unknown) => {
        assert.ok(e instanceof GitwardError);
        assert.match(e.message, new RegExp(`another gitward process \\(pid ${process.pid} on .*\\) holds the lock on this root`));
        assert.match(e.hint ?? "", /remove .*\.gitward\/lock/);
        return true;
      });
    } finally {
      await lock.release();
    }
    await (await acquireLock(root)).release();
  });

  it("refuses with a LockHeldError (code limit) that names the holder as data", async () => {
    const lock = await acquireLock(root);
    try {
      await assert.rejects(acquireLock(root), (e: unknown) => {
        assert.ok(e instanceof LockHeldError);
        assert.ok(e instanceof GitwardError);
        assert.equal(e.code, "limit");
        assert.equal(e.lockPath, lock.path);
        assert.equal(e.holder?.pid, process.pid);
        assert.equal(e.holder?.host, hostname());
        return true;
      });
    } finally {
      await lock.release();
    }
  });

  it("a lock that cannot be taken for another reason is not a LockHeldError", async () => {
    writeFileSync(join(root, ".gitward"), "a file where the state directory belongs");
    await assert.rejects(acquireLock(root), (e: unknown) => e instanceof GitwardError && !(e instanceof LockHeldError));
  });

  it("an empty lock file of a holder between create and write is a LockHeldError without a holder", async () => {
    writeLock(root, "");
    await assert.rejects(acquireLock(root), (e: unknown) => e instanceof LockHeldError && e.holder === undefined);
  });

  it("refuses a lock held by another live process", async () => {
    const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      writeLock(root, { pid: sleeper.pid, host: hostname(), startedAt: "2025-01-01T00:00:00.000Z", token: "other" });
      await assert.rejects(acquireLock(root), new RegExp(`pid ${sleeper.pid} on`));
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  it("takes over a lock whose process is dead", async () => {
    const path = writeLock(root, { pid: deadPid(), host: hostname(), startedAt: "2025-01-01T00:00:00.000Z", token: "dead" });
    const lock = await acquireLock(root);
    assert.equal((JSON.parse(readFileSync(path, "utf8")) as { pid: number }).pid, process.pid);
    await lock.release();
  });

  it("takes over a lock whose pid was reused by another process", async () => {
    const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      writeLock(root, { pid: sleeper.pid, host: hostname(), startedAt: "2025-01-01T00:00:00.000Z", procStart: "1", token: "reused" });
      const lock = await acquireLock(root);
      await lock.release();
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  it("does not judge a lock from another host", async () => {
    writeLock(root, { pid: deadPid(), host: "elsewhere", startedAt: "2025-01-01T00:00:00.000Z", token: "remote" });
    await assert.rejects(acquireLock(root), /on elsewhere/);
  });

  it("waits out an empty lock file briefly, then takes it over", async () => {
    const path = writeLock(root, "");
    await assert.rejects(acquireLock(root), /another gitward process holds the lock/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    await (await acquireLock(root)).release();
  });

  it("does not remove a lock that is no longer its own", async () => {
    const lock = await acquireLock(root);
    writeFileSync(lock.path, JSON.stringify({ pid: 1, host: hostname(), startedAt: "x", token: "someone-else" }));
    await lock.release();
    assert.ok(existsSync(lock.path));
  });

  it("lets exactly one of several racing processes take over a stale lock", async () => {
    writeLock(root, { pid: deadPid(), host: hostname(), startedAt: "2025-01-01T00:00:00.000Z", token: "dead" });
    const script = `import { acquireLock } from ${JSON.stringify(lockModule)};
try { await acquireLock(${JSON.stringify(root)}); console.log("won"); setTimeout(() => undefined, 3000); } catch (e) { console.log(String(e).includes("holds the lock") ? "busy" : String(e)); }`;
    const run = (): Promise<string> => new Promise((resolve) => {
      execFile(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }, (_e, stdout) => resolve(stdout.trim()));
    });
    const outcomes = await Promise.all(Array.from({ length: 6 }, run));
    assert.deepEqual(outcomes.toSorted(), ["busy", "busy", "busy", "busy", "busy", "won"]);
  });

  it("refuses a .gitward that is a symlink", async () => {
    const elsewhere = tempRoot();
    try {
      symlinkSync(elsewhere.root, join(root, ".gitward"));
      await assert.rejects(acquireLock(root), /\.gitward is a symlink; gitward keeps its state there/);
    } finally {
      elsewhere.cleanup();
    }
  });
});
