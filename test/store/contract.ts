import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { GitwardError } from "../../src/core/errors.ts";
import type { ChangeSetEntry, CommandOutput } from "../../src/providers/provider.ts";
import { auditHash, genesisHash } from "../../src/store/audit-hash.ts";
import type { NewSync, Store, SyncResult, SyncRow } from "../../src/store/store.ts";

/** A store under test, and how to reach the same database again. */
export interface StoreHarness {
  readonly store: Store;
  /** Opens a second, independent store on the same database (for SQLite: the same file). */
  openAnother(): Promise<Store>;
  /** Closes what the harness opened and removes the database. */
  cleanup(): Promise<void>;
}

const ghToken = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
const awsKey = "AKIA" + "IOSFODNN7EXAMPLE";

const web = { group: "apps", kind: "Deployment", namespace: "web", name: "api" };
const ns = { group: "", kind: "Namespace", name: "web" };

const objects: ChangeSetEntry[] = [
  { ref: ns, apiVersion: "v1", action: "unchanged" },
  { ref: web, apiVersion: "apps/v1", action: "failed", message: "spec.selector: required" },
];

const commands: CommandOutput[] = [
  { phase: "check", command: ["nginx", "-t"], exitCode: 0, output: "syntax is ok\n", durationMs: 12 },
  { phase: "reload", command: ["systemctl", "reload", "nginx"], exitCode: 1, output: "failed\n[output capped]", durationMs: 40 },
];

/** A sync to begin, with every optional field set; `at` is the minute it starts. */
function newSync(over: Partial<NewSync> & { at?: number } = {}): NewSync {
  const { at = 0, ...rest } = over;
  return {
    environment: "dev",
    stack: "web",
    revision: {
      sha: "4f9c2e1d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d", author: "Jane Doe", authorEmail: "jane@example.com",
      committer: "GitHub", message: "Scale web to 3\n\nBody line", committedAt: "2024-05-01T09:59:00.000Z",
    },
    trigger: { kind: "manual", by: "jane", detail: "from the UI" },
    startedAt: minute(at),
    summary: { created: 1 },
    objects: [{ ref: web, apiVersion: "apps/v1", action: "created" }],
    ...rest,
  };
}

function minute(n: number): string {
  return new Date(Date.UTC(2024, 4, 1, 10, n)).toISOString();
}

const result: SyncResult = {
  outcome: "failed", error: "apply failed", summary: { unchanged: 1, failed: 1 }, objects, commands,
  finishedAt: "2024-05-01T10:00:05.250Z", durationMs: 5250,
};

/**
 * The behaviour every Store implementation must have. Register it from an implementation's test
 * file with a function that opens a fresh, empty database for each test.
 */
export function storeContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;
    beforeEach(async () => {
      h = await open();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    /** Begins and finishes a sync in one step. */
    async function sync(over: Partial<NewSync> & { at?: number }, outcome: SyncResult["outcome"] = "succeeded"): Promise<SyncRow> {
      const row = await store.beginSync(newSync(over));
      return store.finishSync(row.id, { outcome, summary: {}, objects: [], durationMs: 1 });
    }

    describe("syncs", () => {
      it("records a running sync with every field as given", async () => {
        const input = newSync();
        const row = await store.beginSync(input);
        assert.equal(typeof row.id, "string");
        assert.notEqual(row.id, "");
        assert.deepEqual(row, { ...input, id: row.id, outcome: "running" });
        assert.deepEqual(await store.getSync(row.id), row);
      });

      it("keeps absent optional fields absent", async () => {
        const row = await store.beginSync({
          environment: "dev", stack: "web", revision: { sha: "abc123", author: "x", message: "m" }, trigger: { kind: "poll" }, startedAt: minute(0),
        });
        assert.deepEqual(await store.getSync(row.id), {
          id: row.id, environment: "dev", stack: "web", revision: { sha: "abc123", author: "x", message: "m" }, trigger: { kind: "poll" },
          startedAt: minute(0), outcome: "running", summary: {}, objects: [],
        });
      });

      it("records how a sync ended, every field", async () => {
        const begun = await store.beginSync(newSync());
        const done = await store.finishSync(begun.id, result);
        const { outcome, error, summary, finishedAt, durationMs } = result;
        assert.deepEqual(done, { ...begun, outcome, error, summary, objects, commands, finishedAt, durationMs });
        assert.deepEqual(await store.getSync(begun.id), done);
      });

      it("normalises timestamps to UTC with milliseconds", async () => {
        const row = await store.beginSync(newSync({ startedAt: "2024-05-01T12:00:00+02:00" }));
        assert.equal(row.startedAt, "2024-05-01T10:00:00.000Z");
      });

      it("sets the start and finish times when not given", async () => {
        const before = Date.now();
        const { startedAt: _s, ...rest } = newSync();
        const row = await store.beginSync(rest);
        const done = await store.finishSync(row.id, { outcome: "succeeded", summary: {}, objects: [], durationMs: 3 });
        assert.ok(Date.parse(row.startedAt) >= before - 1000);
        assert.ok(done.finishedAt !== undefined && Date.parse(done.finishedAt) >= before - 1000);
      });

      it("refuses to finish a sync that does not exist or has already finished", async () => {
        const done = await sync({});
        await assert.rejects(store.finishSync(done.id, result), (e: unknown) => e instanceof GitwardError && /not running: it is succeeded/.test(e.message));
        await assert.rejects(store.finishSync("999999", result), /sync 999999 does not exist/);
        await assert.rejects(store.finishSync("no-such-id", result), /does not exist/);
      });

      it("records the health of a finished sync's objects, replacing what was there, redacted", async () => {
        const done = await sync({});
        assert.equal(done.health, undefined);
        const progressing = await store.recordHealth(done.id, { state: "progressing", at: "2026-12-01T00:00:00Z" });
        assert.deepEqual(progressing.health, { state: "progressing", at: "2026-12-01T00:00:00.000Z" });
        await store.recordHealth(done.id, { state: "timed-out", at: "2026-12-01T00:05:00Z", message: "Deployment/a/web: 0 of 1 ready; password=hunter2" });
        const read = await store.getSync(done.id);
        assert.equal(read?.health?.state, "timed-out");
        assert.doesNotMatch(read?.health?.message ?? "", /hunter2/);
        await assert.rejects(store.recordHealth("999999", { state: "healthy", at: "2026-12-01T00:00:00Z" }), /does not exist/);
        await assert.rejects(store.recordHealth(done.id, { state: "fine" as "healthy", at: "2026-12-01T00:00:00Z" }), /unknown health/);
      });

      it("answers undefined for an unknown id", async () => {
        assert.equal(await store.getSync("424242"), undefined);
        assert.equal(await store.getSync("not an id"), undefined);
      });

      it("lists newest first, by start time then by order of recording", async () => {
        const a = await sync({ at: 1 });
        const b = await sync({ at: 3 });
        const c = await sync({ at: 2 });
        const d = await sync({ at: 3 });
        assert.deepEqual((await store.listSyncs()).map((s) => s.id), [d.id, b.id, c.id, a.id]);
      });

      it("filters by environment, stack and outcome, and limits", async () => {
        const a = await sync({ at: 1, environment: "dev", stack: "web" });
        const b = await sync({ at: 2, environment: "dev", stack: "db" }, "failed");
        const c = await sync({ at: 3, environment: "prod", stack: "web" });
        const ids = async (q: Parameters<Store["listSyncs"]>[0]): Promise<string[]> => (await store.listSyncs(q)).map((s) => s.id);
        assert.deepEqual(await ids({ environment: "dev" }), [b.id, a.id]);
        assert.deepEqual(await ids({ stack: "web" }), [c.id, a.id]);
        assert.deepEqual(await ids({ environment: "dev", stack: "web" }), [a.id]);
        assert.deepEqual(await ids({ outcome: "failed" }), [b.id]);
        assert.deepEqual(await ids({ limit: 2 }), [c.id, b.id]);
        assert.deepEqual(await ids({ environment: "staging" }), []);
      });

      it("pages with beforeId without gaps or overlaps", async () => {
        const made: string[] = [];
        for (let i = 0; i < 7; i++) made.push((await sync({ at: i % 3 })).id);
        const seen: string[] = [];
        let page = await store.listSyncs({ limit: 3 });
        while (page.length > 0) {
          seen.push(...page.map((s) => s.id));
          page = await store.listSyncs({ limit: 3, beforeId: page.at(-1)!.id });
        }
        assert.deepEqual(seen, (await store.listSyncs({ limit: 100 })).map((s) => s.id));
        assert.deepEqual([...seen].sort(), [...made].sort());
      });

      it("refuses a limit that is not a positive integer", async () => {
        await assert.rejects(store.listSyncs({ limit: 0 }), GitwardError);
        await assert.rejects(store.listSyncs({ limit: 2.5 }), GitwardError);
      });

      it("finds the last sync and the last succeeded one of a stack", async () => {
        assert.equal(await store.lastSync("dev", "web"), undefined);
        assert.equal(await store.lastSucceeded("dev", "web"), undefined);
        const good = await sync({ at: 1, revision: { sha: "good", author: "a", message: "m" } });
        await sync({ at: 2, revision: { sha: "bad", author: "a", message: "m" } }, "failed");
        await sync({ at: 2, environment: "prod" });
        const running = await store.beginSync(newSync({ at: 3, revision: { sha: "next", author: "a", message: "m" } }));
        assert.deepEqual(await store.lastSync("dev", "web"), running);
        assert.deepEqual(await store.lastSucceeded("dev", "web"), good);
        assert.equal((await store.lastSucceeded("dev", "web"))?.revision.sha, "good");
      });

      it("marks syncs left running interrupted, once", async () => {
        const done = await sync({ at: 1 });
        const r1 = await store.beginSync(newSync({ at: 2 }));
        const r2 = await store.beginSync(newSync({ at: 3, stack: "db" }));
        const interrupted = await store.interruptRunning("the agent died");
        assert.deepEqual(interrupted.map((s) => s.id), [r1.id, r2.id]);
        for (const s of interrupted) {
          assert.equal(s.outcome, "interrupted");
          assert.equal(s.error, "the agent died");
          assert.ok(s.finishedAt !== undefined);
        }
        assert.deepEqual(await store.getSync(r1.id), interrupted[0]);
        assert.deepEqual(await store.getSync(done.id), done);
        assert.deepEqual(await store.interruptRunning("again"), []);
        await assert.rejects(store.finishSync(r1.id, result), /not running: it is interrupted/);
      });
    });

    describe("drift", () => {
      const drift = {
        environment: "dev", stack: "web", ref: web, apiVersion: "apps/v1", corrected: false,
        fields: [{ field: "spec.replicas", manager: "kubectl-edit", time: "2024-05-01T09:30:00Z" }, { field: "metadata.labels.tier" }],
      };

      it("records drift events with who changed what, and lists them newest first", async () => {
        const s = await sync({});
        const [a, b] = await store.recordDrift([
          { ...drift, detectedAt: minute(1) },
          { ...drift, ref: ns, apiVersion: "v1", detectedAt: minute(2), corrected: true, syncId: s.id, fields: [{ field: "metadata.labels" }] },
        ]);
        assert.ok(a !== undefined && b !== undefined);
        assert.deepEqual(a, { ...drift, detectedAt: minute(1), id: a.id });
        assert.deepEqual(b, { ...drift, ref: ns, apiVersion: "v1", detectedAt: minute(2), corrected: true, syncId: s.id, fields: [{ field: "metadata.labels" }], id: b.id });
        assert.deepEqual(await store.listDrift(), [b, a]);
      });

      it("filters and limits drift", async () => {
        const rows = await store.recordDrift([
          { ...drift, detectedAt: minute(1) },
          { ...drift, detectedAt: minute(2), stack: "db" },
          { ...drift, detectedAt: minute(3), environment: "prod" },
        ]);
        const ids = rows.map((r) => r.id);
        assert.deepEqual((await store.listDrift({ environment: "dev" })).map((r) => r.id), [ids[1], ids[0]]);
        assert.deepEqual((await store.listDrift({ environment: "dev", stack: "web" })).map((r) => r.id), [ids[0]]);
        assert.deepEqual((await store.listDrift({ limit: 1 })).map((r) => r.id), [ids[2]]);
        assert.deepEqual((await store.listDrift({ beforeId: ids[2]!, limit: 5 })).map((r) => r.id), [ids[1], ids[0]]);
      });

      it("records all of a batch or none of it", async () => {
        await assert.rejects(
          store.recordDrift([{ ...drift, detectedAt: minute(1) }, { ...drift, detectedAt: minute(2), syncId: "987654" }]),
          (e: unknown) => e instanceof GitwardError && /sync/.test(e.message),
        );
        assert.deepEqual(await store.listDrift(), []);
      });
    });

    describe("audit", () => {
      it("chains events: seq from 1, each prevHash the previous hash, each hash over the content", async () => {
        const e1 = await store.appendAudit({ kind: "agent-start", actor: "agent", at: minute(0), details: { interrupted: 0 } });
        const e2 = await store.appendAudit({
          kind: "gate-override", actor: "jane", at: minute(1), environment: "prod", stack: "web", revision: "4f9c2e1",
          details: { reason: "hotfix", denials: 2, nested: { list: [1, "two", null, true] } },
        });
        assert.deepEqual(e1, { seq: 1, at: minute(0), kind: "agent-start", actor: "agent", details: { interrupted: 0 }, prevHash: genesisHash, hash: e1.hash });
        assert.equal(e2.seq, 2);
        assert.equal(e2.prevHash, e1.hash);
        const { hash: _h, ...unhashed } = e2;
        assert.equal(e2.hash, auditHash(unhashed));
        assert.match(e2.hash, /^[0-9a-f]{64}$/);
        assert.deepEqual(await store.listAudit(), [e1, e2]);
      });

      it("lists oldest first after a seq, with a limit", async () => {
        for (let i = 0; i < 5; i++) await store.appendAudit({ kind: "sync", actor: "agent", details: { i } });
        assert.deepEqual((await store.listAudit({ afterSeq: 2, limit: 2 })).map((e) => e.seq), [3, 4]);
        assert.deepEqual((await store.listAudit({ afterSeq: 5 })).map((e) => e.seq), []);
      });

      it("lists the events of one kind, environment and revision", async () => {
        await store.appendAudit({ kind: "approval-override", actor: "jane", environment: "prod", revision: "aaa", details: { reason: "one" } });
        await store.appendAudit({ kind: "approval-override", actor: "joe", environment: "dev", revision: "aaa", details: { reason: "two" } });
        await store.appendAudit({ kind: "sync", actor: "agent", environment: "prod", revision: "aaa", details: {} });
        await store.appendAudit({ kind: "approval-override", actor: "ann", environment: "prod", revision: "bbb", details: { reason: "three" } });
        const found = await store.listAudit({ kind: "approval-override", environment: "prod", revision: "aaa" });
        assert.deepEqual(found.map((e) => e.actor), ["jane"]);
        assert.deepEqual((await store.listAudit({ kind: "approval-override" })).map((e) => e.actor), ["jane", "joe", "ann"]);
        assert.deepEqual((await store.listAudit({ environment: "prod" })).map((e) => e.seq), [1, 3, 4]);
        assert.deepEqual((await store.listAudit({ revision: "bbb", afterSeq: 1 })).map((e) => e.actor), ["ann"]);
      });

      it("verifies an intact chain and reports its head", async () => {
        assert.deepEqual(await store.verifyAudit(), { ok: true, count: 0, head: genesisHash });
        let last = await store.appendAudit({ kind: "sync", actor: "agent", details: {} });
        for (let i = 0; i < 9; i++) last = await store.appendAudit({ kind: "manual-trigger", actor: `user${i}`, details: { i } });
        assert.deepEqual(await store.verifyAudit(), { ok: true, count: 10, head: last.hash });
      });

      it("stores details as plain JSON: undefined properties dropped", async () => {
        const e = await store.appendAudit({ kind: "sync", actor: "agent", details: { a: 1, b: undefined, c: { d: undefined, e: "x" } } });
        assert.deepEqual(e.details, { a: 1, c: { e: "x" } });
        assert.deepEqual((await store.listAudit())[0], e);
        assert.equal((await store.verifyAudit()).ok, true);
      });

      it("refuses details JSON cannot hold", async () => {
        await assert.rejects(store.appendAudit({ kind: "sync", actor: "agent", details: { n: 10n } }), GitwardError);
        await assert.rejects(store.appendAudit({ kind: "sync", actor: "agent", details: { n: Number.NaN } }), GitwardError);
        await assert.rejects(store.appendAudit({ kind: "", actor: "agent", details: {} }), GitwardError);
        assert.deepEqual(await store.listAudit(), []);
      });
    });

    describe("a second store on the same database", () => {
      it("sees the first one's rows and continues its audit chain", async () => {
        const other = await h.openAnother();
        try {
          const s = await sync({});
          await store.recordDrift([{ environment: "dev", stack: "web", ref: web, apiVersion: "apps/v1", corrected: false, fields: [{ field: "spec" }] }]);
          const e1 = await store.appendAudit({ kind: "sync", actor: "agent", details: {} });
          assert.deepEqual(await other.getSync(s.id), s);
          assert.deepEqual(await other.lastSucceeded("dev", "web"), s);
          assert.equal((await other.listDrift()).length, 1);
          const e2 = await other.appendAudit({ kind: "rollback", actor: "jane", details: {} });
          assert.equal(e2.seq, 2);
          assert.equal(e2.prevHash, e1.hash);
          assert.deepEqual(await store.verifyAudit(), { ok: true, count: 2, head: e2.hash });
        } finally {
          await other.close();
        }
      });
    });

    describe("secrets", () => {
      const secrets = ["hunter2", ghToken, awsKey, "s3cr3tpass", "abcdefbearertoken"];
      const assertClean = (value: unknown): void => {
        const text = JSON.stringify(value);
        for (const s of secrets) assert.ok(!text.includes(s), `${s} reached the store: ${text}`);
      };

      it("never stores credentials found in a sync's free text", async () => {
        const row = await store.beginSync(newSync({
          revision: { sha: "abc", author: "a", message: `rotate key ${awsKey}` },
          trigger: { kind: "webhook", detail: "password=hunter2" },
        }));
        const done = await store.finishSync(row.id, {
          outcome: "failed",
          error: `git fetch https://bot:s3cr3tpass@git.example.com/repo.git failed`,
          summary: {},
          objects: [{ ref: web, apiVersion: "apps/v1", action: "failed", message: `token ${ghToken} rejected` }],
          commands: [{ phase: "health", command: ["curl", "-H", "Authorization: Bearer abcdefbearertoken", "--password", "hunter2"], exitCode: 22, output: `DB_PASSWORD=hunter2\n${ghToken}`, durationMs: 5 }],
          durationMs: 10,
        });
        assertClean(done);
        assertClean(await store.getSync(row.id));
        assert.match(done.error ?? "", /https:\/\/bot:\*\*\*@git\.example\.com/);
        assert.deepEqual(done.commands?.[0]?.command, ["curl", "-H", "Authorization: Bearer ***", "--password", "***"]);
      });

      it("never stores credentials in an interruption reason or audit details", async () => {
        await store.beginSync(newSync());
        assertClean(await store.interruptRunning("killed while running with token: hunter2"));
        const e = await store.appendAudit({ kind: "sync", actor: "agent", details: { password: "hunter2", note: `pushed ${ghToken}`, list: [{ apiKey: "s3cr3tpass" }] } });
        assertClean(e);
        assertClean(await store.listAudit());
        assert.deepEqual(e.details, { password: "***", note: "pushed ***", list: [{ apiKey: "***" }] });
        assert.equal((await store.verifyAudit()).ok, true);
      });
    });

    describe("lifecycle", () => {
      it("refuses calls after close, and closes twice without error", async () => {
        const other = await h.openAnother();
        await other.close();
        await other.close();
        await assert.rejects(other.listSyncs(), /closed/);
      });
    });
  });
}
