import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PendingRecords } from "../../src/engine/pending-records.ts";
import { storeRecorder } from "../../src/engine/recorder.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import type { NewSync, Store } from "../../src/store/store.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

const sync: NewSync = {
  environment: "prod", stack: "web", summary: {}, objects: [], trigger: { kind: "poll" },
  revision: { sha: "4f9c2e1d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d", author: "Jane", message: "m" },
};

describe("a sync's records while PostgreSQL is down longer than a call waits", () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg.stop();
  });

  it("holds the end, the health and the audit entry, writes them once when it is back, and decides on the outcome meanwhile", async () => {
    const url = await pg.createDatabase();
    const store: Store = await openPostgresStore(url, { retryForMs: 300 });
    const settled: string[] = [];
    const pending = new PendingRecords({ backoff: { baseMs: 100, maxMs: 400 }, onSettled: (what, outcome) => settled.push(`${outcome}: ${what}`) });
    const recorder = storeRecorder(store, { pending });
    const id = await recorder.begin(sync);
    const down = pg.restart({ downMs: 2500 });
    // Wait until the server is really gone.
    for (let i = 0; i < 50 && (await store.getSync(id).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    const finished = await recorder.finish(id, { outcome: "succeeded", summary: { created: 1 }, objects: [], durationMs: 12 });
    assert.equal(finished, undefined, "held, not thrown");
    await recorder.health(id, { state: "healthy", at: new Date().toISOString() });
    await recorder.audit({ kind: "sync", actor: "agent", environment: "prod", stack: "web", revision: sync.revision.sha, details: { syncId: id } });
    assert.equal(pending.size, 3);
    // The process decides on what it knows: the sync succeeded.
    assert.equal((await recorder.recorded("prod", "web")).good?.id, id);
    await down;
    await pending.settled();
    assert.deepEqual(settled, [`written: the end of sync ${id}`, `written: the health of sync ${id}`, "written: an audit entry (sync)"]);
    const row = await store.getSync(id);
    assert.equal(row?.outcome, "succeeded");
    assert.deepEqual(row?.summary, { created: 1 });
    assert.equal((await store.listAudit({ kind: "sync" })).length, 1);
    assert.equal((await store.verifyAudit()).ok, true);
    await store.close();
  });

  it("appends an audit entry once for one request key, however often it is asked", async () => {
    const store = await openPostgresStore(await pg.createDatabase());
    const event = { kind: "sync", actor: "agent", details: {}, requestKey: "k-1" };
    const first = await store.appendAudit(event);
    const again = await store.appendAudit(event);
    assert.equal(again.seq, first.seq);
    assert.equal((await store.listAudit()).length, 1);
    await store.close();
  });
});
