import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { scanFiles } from "../../../../src/providers/host/fs/scan.ts";
import { beginTransaction, type Operation } from "../../../../src/providers/host/fs/transaction.ts";
import { tempRoot } from "./support.ts";

// Budgets are several times what a 2-core VM takes (10,000 files: a transaction 0.5–2 s with
// the disk quiet or busy, a scan 60–150 ms), so that a busy CI runner does not fail them; they
// catch regressions of an order of magnitude, such as an fsync per file or async scanning.
const files = 10_000;
const transactionBudgetMs = 6000;
const scanBudgetMs = 1500;

function ops(text: string): Extract<Operation, { op: "write" }>[] {
  return Array.from({ length: files }, (_, i) => ({
    op: "write" as const,
    path: `d${String(Math.floor(i / 100)).padStart(3, "0")}/f${i}.conf`,
    content: Buffer.from(`# file ${i}\nkey_${i} = ${text}\n`),
    mode: 0o644,
  }));
}

describe("10,000 small files", () => {
  let root = "";
  let cleanup = (): void => undefined;
  beforeEach(() => ({ root, cleanup } = tempRoot()));
  afterEach(() => cleanup());

  it("are written, scanned, replaced and rolled back within budget", async (t) => {
    const first = ops("one");
    let start = performance.now();
    const txn = await beginTransaction(root, first);
    await txn.commit();
    const written = performance.now() - start;

    start = performance.now();
    const states = await scanFiles(root, first);
    const scanned = performance.now() - start;
    assert.ok(states.every((s) => s.state === "ok"));

    start = performance.now();
    const second = await beginTransaction(root, ops("two"));
    const replaced = performance.now() - start;
    start = performance.now();
    await second.rollback();
    const rolledBack = performance.now() - start;
    assert.ok((await scanFiles(root, first)).every((s) => s.state === "ok"));

    t.diagnostic(`transaction into an empty root ${written.toFixed(0)} ms, no-op scan ${scanned.toFixed(0)} ms, `
      + `replace all ${replaced.toFixed(0)} ms, rollback ${rolledBack.toFixed(0)} ms`);
    assert.ok(written < transactionBudgetMs, `transaction took ${written.toFixed(0)} ms`);
    assert.ok(scanned < scanBudgetMs, `scan took ${scanned.toFixed(0)} ms`);
    assert.ok(replaced + rolledBack < 2 * transactionBudgetMs, `replace and rollback took ${(replaced + rolledBack).toFixed(0)} ms`);
  });
});
