import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, it } from "node:test";
import { recoverTransaction } from "../../../../src/providers/host/fs/transaction.ts";
import { scenarioOps, seedTree } from "./scenario.ts";
import { gitwardError, snapshot, stateEntries, tempFiles, tempRoot } from "./support.ts";

const child = fileURLToPath(new URL("./crash-child.ts", import.meta.url));

interface ChildRun {
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs crash-child.ts with the given crash hook set; resolves however it ends. */
function runChild(mode: "apply" | "recover", root: string, env: Record<string, string>): Promise<ChildRun> {
  return new Promise((resolve) => {
    const p = execFile(process.execPath, [child, mode, root], { env: { ...process.env, ...env }, encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ signal: p.signalCode, code: p.exitCode ?? (error === null ? 0 : null), stdout, stderr });
    });
  });
}

/** Every operation of the scenario counts once: 2 mkdirs, 1 skipped write, 3 removes, 551 writes, 1 rmdir. */
const totalOps = 558;

describe("recoverTransaction after a crash", () => {
  let root = "";
  let cleanup = (): void => undefined;
  beforeEach(() => {
    ({ root, cleanup } = tempRoot());
    seedTree(root);
  });
  afterEach(() => cleanup());

  it("the scenario has the number of operations the crash points assume", () => {
    assert.equal(scenarioOps().length, 557 + 1);
  });

  for (const after of [0, 1, 2, 3, 5, 6, 100, 300, 556, totalOps - 1, totalOps]) {
    it(`restores the previous tree exactly when killed after ${after} operations`, async () => {
      const before = snapshot(root);
      const run = await runChild("apply", root, { GITWARD_TEST_CRASH_AFTER_OPS: String(after) });
      assert.equal(run.signal, "SIGKILL", `child was not killed: ${run.stdout}${run.stderr}`);
      if (after >= 100) assert.notDeepEqual(snapshot(root), before, "the crash came after changes");
      assert.ok(stateEntries(root).includes("journal.json"));

      const result = await recoverTransaction(root);
      assert.ok(result !== undefined);
      assert.deepEqual(snapshot(root), before);
      assert.deepEqual(stateEntries(root), []);
      assert.deepEqual(tempFiles(root), []);
      assert.equal(await recoverTransaction(root), undefined, "a second recovery has nothing to do");
      assert.deepEqual(snapshot(root), before);
    });
  }

  it("rolls back a transaction that finished but was never committed", async () => {
    const before = snapshot(root);
    const run = await runChild("apply", root, {});
    assert.equal(run.stdout.trim(), "applied", run.stderr);
    const result = await recoverTransaction(root);
    assert.ok(result !== undefined && result.rolledBack.length > 500);
    assert.deepEqual(snapshot(root), before);
  });

  it("finishes a recovery that was itself killed, however often", async () => {
    const before = snapshot(root);
    assert.equal((await runChild("apply", root, { GITWARD_TEST_CRASH_AFTER_OPS: "300" })).signal, "SIGKILL");
    for (const after of [1, 40, 250, 500]) {
      const run = await runChild("recover", root, { GITWARD_TEST_CRASH_AFTER_UNDO: String(after) });
      assert.equal(run.signal, "SIGKILL", `recovery was not killed: ${run.stdout}${run.stderr}`);
      assert.ok(stateEntries(root).includes("journal.json"), "the journal goes last");
    }
    assert.ok((await recoverTransaction(root)) !== undefined);
    assert.deepEqual(snapshot(root), before);
    assert.deepEqual(stateEntries(root), []);
    assert.equal(await recoverTransaction(root), undefined);
  });
});

describe("recoverTransaction without a journal", () => {
  let root = "";
  let cleanup = (): void => undefined;
  beforeEach(() => ({ root, cleanup } = tempRoot()));
  afterEach(() => cleanup());

  it("does nothing on a root gitward never used", async () => {
    writeFileSync(join(root, "a"), "a");
    assert.equal(await recoverTransaction(root), undefined);
    assert.deepEqual(stateEntries(root), []);
  });

  it("removes stray transaction directories, dead stage copies and temporary files", async () => {
    const state = join(root, ".gitward");
    mkdirSync(join(state, "txn-abc/backup"), { recursive: true });
    writeFileSync(join(state, "txn-abc/backup/0"), "old");
    mkdirSync(join(state, "stage-999999999-aa"));
    mkdirSync(join(state, `stage-${process.pid}-bb`));
    writeFileSync(join(state, ".gitward-tmp-paths.json-123"), "{");
    writeFileSync(join(state, "paths.json"), "{}");
    assert.equal(await recoverTransaction(root), undefined);
    assert.deepEqual(stateEntries(root), ["paths.json", `stage-${process.pid}-bb`]);
  });

  it("names a damaged journal instead of guessing", async () => {
    mkdirSync(join(root, ".gitward"));
    writeFileSync(join(root, ".gitward/journal.json"), "{\"version\": 1");
    await assert.rejects(recoverTransaction(root), gitwardError(/journal\.json: corrupt state file/));
  });

  it("refuses a journal naming a path outside the root", async () => {
    mkdirSync(join(root, ".gitward"));
    const journal = { version: 1, id: "x1", pid: 1, startedAt: "", createdDirs: [], entries: [{ op: "write", path: "../outside", before: { type: "missing" } }] };
    writeFileSync(join(root, ".gitward/journal.json"), JSON.stringify(journal));
    await assert.rejects(recoverTransaction(root), gitwardError(/journal\.json: not a valid gitward journal/));
    assert.ok(readFileSync(join(root, ".gitward/journal.json"), "utf8").includes("outside"), "the journal is kept for a human");
  });
});
