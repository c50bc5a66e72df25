import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { storeRecorder } from "../../src/engine/recorder.ts";
import { openStore } from "../../src/store/open.ts";
import type { NewSync, Store } from "../../src/store/store.ts";

const sync: NewSync = {
  environment: "dev", stack: "web", summary: {}, objects: [], trigger: { kind: "poll" },
  revision: { sha: "4f9c2e1d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d", author: "Jane", message: "m" },
};

/** A store that counts its reads of the last syncs. */
function counting(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if ((prop === "lastSync" || prop === "lastSucceeded") && typeof value === "function") {
        return (...args: unknown[]) => {
          reads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, reads: () => reads };
}

describe("a recorder on a store several agents share", () => {
  it("keeps a stack's last syncs in memory only while the same lease is held", async () => {
    const inner = await openStore("sqlite::memory:");
    const { store, reads } = counting(inner);
    let epoch: number | undefined = 3;
    const recorder = storeRecorder(store, { shared: true, held: () => epoch });
    const id = await recorder.begin(sync);
    await recorder.finish(id, { outcome: "succeeded", summary: {}, objects: [], durationMs: 1 });
    const before = reads();
    assert.equal((await recorder.recorded("dev", "web")).good?.id, id);
    assert.equal(reads(), before, "held under the same epoch: no read");
    // Another agent held the stack in between (a new epoch when taken again): read again.
    epoch = 4;
    await recorder.recorded("dev", "web");
    assert.equal(reads(), before + 2);
    await recorder.recorded("dev", "web");
    assert.equal(reads(), before + 2);
    // Not held: every call reads, so status of another agent's stack is the store's.
    epoch = undefined;
    await recorder.recorded("dev", "web");
    await recorder.recorded("dev", "web");
    assert.equal(reads(), before + 6);
    await inner.close();
  });

  it("reads every time when shared without a lease view", async () => {
    const inner = await openStore("sqlite::memory:");
    const { store, reads } = counting(inner);
    const recorder = storeRecorder(store, { shared: true });
    await recorder.recorded("dev", "web");
    await recorder.recorded("dev", "web");
    assert.equal(reads(), 4);
    await inner.close();
  });
});
