import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { KObject } from "../../../src/core/object.ts";
import { LockHeldError } from "../../../src/providers/host/fs/lock.ts";
import { hostProvider } from "../../../src/providers/host/provider.ts";
import { RootLocks } from "../../../src/providers/host/root-locks.ts";
import type { DesiredObject, TransactOptions } from "../../../src/providers/provider.ts";
import { tempRoot } from "./fs/support.ts";

const lockModule = fileURLToPath(new URL("../../../src/providers/host/fs/lock.ts", import.meta.url));

/** Records the order in which holders enter and leave, to show that they never overlap. */
async function holdFor(locks: RootLocks, root: string, name: string, log: string[], ms: number): Promise<void> {
  const hold = await locks.hold(root, { fileLock: true });
  log.push(`${name} in`);
  await new Promise((r) => setTimeout(r, ms));
  log.push(`${name} out`);
  await hold.release();
}

/** Another process that takes the root's lock, says so, and holds it for `ms`. */
function otherProcess(root: string, ms: number): Promise<{ done: Promise<void> }> {
  const script = `import { acquireLock } from ${JSON.stringify(lockModule)};
const lock = await acquireLock(${JSON.stringify(root)}); console.log("held");
setTimeout(async () => { await lock.release(); process.exit(0); }, ${ms});`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const done = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      if (b.toString().includes("held")) resolve({ done });
    });
    child.on("exit", (code) => reject(new Error(`lock holder exited ${code ?? "?"} before holding the lock`)));
  });
}

describe("RootLocks", () => {
  let root = "";
  let cleanup = (): void => undefined;
  beforeEach(() => ({ root, cleanup } = tempRoot("gitward-rootlocks-")));
  afterEach(() => cleanup());

  it("queues holds of one root in the order asked, one at a time, with the file lock held inside", async () => {
    const locks = new RootLocks();
    const log: string[] = [];
    await Promise.all([holdFor(locks, root, "a", log, 30), holdFor(locks, root, "b", log, 10), holdFor(locks, root, "c", log, 0)]);
    assert.deepEqual(log, ["a in", "a out", "b in", "b out", "c in", "c out"]);
    assert.equal(existsSync(join(root, ".gitward/lock")), false, "the file lock is released");
  });

  it("does not make different roots wait for each other", async () => {
    const other = tempRoot("gitward-rootlocks-");
    try {
      const locks = new RootLocks();
      const first = await locks.hold(root, { fileLock: true });
      const second = await locks.hold(other.root, { fileLock: true });
      await second.release();
      await first.release();
    } finally {
      other.cleanup();
    }
  });

  it("a dry run queues but takes no file lock", async () => {
    const locks = new RootLocks();
    const hold = await locks.hold(root, { fileLock: false });
    assert.equal(existsSync(join(root, ".gitward/lock")), false);
    let second = false;
    const next = locks.hold(root, { fileLock: false }).then((h) => {
      second = true;
      return h;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(second, false, "the second waits for the first");
    await hold.release();
    await (await next).release();
  });

  it("lets the next holder in after a failed file lock, and after a release called twice", async () => {
    const locks = new RootLocks({ waitMs: 0 });
    const { done } = await otherProcess(root, 400);
    await assert.rejects(locks.hold(root, { fileLock: true }), LockHeldError);
    const dry = await locks.hold(root, { fileLock: false });
    await dry.release();
    await dry.release();
    await done;
    await (await locks.hold(root, { fileLock: true })).release();
  });

  it("waits for a lock another process holds, then takes it", async () => {
    const { done } = await otherProcess(root, 300);
    const started = Date.now();
    const hold = await new RootLocks({ retryMs: 20 }).hold(root, { fileLock: true });
    assert.ok(Date.now() - started >= 150, "it waited");
    assert.equal((JSON.parse(readFileSync(join(root, ".gitward/lock"), "utf8")) as { pid: number }).pid, process.pid);
    await hold.release();
    await done;
  });

  it("gives up with the LockHeldError once the wait is over", async () => {
    const { done } = await otherProcess(root, 1500);
    const started = Date.now();
    await assert.rejects(new RootLocks({ waitMs: 200, retryMs: 20 }).hold(root, { fileLock: true }), (e: unknown) => {
      assert.ok(e instanceof LockHeldError);
      assert.match(e.message, /holds the lock on this root/);
      return true;
    });
    const waited = Date.now() - started;
    assert.ok(waited >= 200 && waited < 1400, `waited ${waited} ms`);
    await done;
  });

  it("stops waiting when the signal aborts", async () => {
    const { done } = await otherProcess(root, 1500);
    const signal = AbortSignal.timeout(100);
    const started = Date.now();
    await assert.rejects(new RootLocks({ retryMs: 20 }).hold(root, { fileLock: true, signal }), LockHeldError);
    assert.ok(Date.now() - started < 1400);
    await done;
  });

  it("two instances do not queue with each other; the second waits on the file lock instead", async () => {
    const a = new RootLocks();
    const b = new RootLocks({ retryMs: 20 });
    const held = await a.hold(root, { fileLock: true });
    const dry = await b.hold(root, { fileLock: false });
    await dry.release();
    let got = false;
    const next = b.hold(root, { fileLock: true }).then((h) => {
      got = true;
      return h;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got, false, "the file lock keeps it out");
    await held.release();
    await (await next).release();
  });
});

describe("host provider: syncs of one root", () => {
  let root = "";
  let cleanup = (): void => undefined;
  beforeEach(() => ({ root, cleanup } = tempRoot("gitward-rootlocks-")));
  afterEach(() => cleanup());

  const file = (name: string): DesiredObject => {
    const object: KObject = { apiVersion: "host.gitward.dev/v1alpha1", kind: "File", metadata: { name }, spec: { path: `${name}.conf`, content: `${name}\n` } };
    return { ref: { group: "host.gitward.dev", kind: "File", name }, apiVersion: "host.gitward.dev/v1alpha1", object };
  };
  const opts = (stack: string): TransactOptions => ({ stack: { environment: "dev", stack }, dryRun: false, force: false, prune: true });

  it("queue across the sessions of one provider instead of failing on the lock", async () => {
    const provider = hostProvider({ locks: new RootLocks({ waitMs: 0 }) });
    const sessions = await Promise.all(["a", "b", "c", "d"].map(() => provider.open("edge", { provider: "host", root }, {})));
    const results = await Promise.all(sessions.map((s, i) => s.transact!([file(`f${i}`)], [], opts(`s${i}`))));
    assert.deepEqual(results.map((r) => [r.error, r.entries.map((e) => e.action)]), Array.from({ length: 4 }, () => [undefined, ["created"]]));
    for (let i = 0; i < 4; i++) assert.equal(readFileSync(join(root, `f${i}.conf`), "utf8"), `f${i}\n`);
  });

  it("providers that share a RootLocks queue with each other", async () => {
    const locks = new RootLocks({ waitMs: 0 });
    const [a, b] = await Promise.all([hostProvider({ locks }), hostProvider({ locks })].map((p) => p.open("edge", { provider: "host", root }, {})));
    const results = await Promise.all([a!.transact!([file("a")], [], opts("a")), b!.transact!([file("b")], [], opts("b"))]);
    assert.deepEqual(results.map((r) => r.error), [undefined, undefined]);
  });
});
