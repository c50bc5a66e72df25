import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Agent } from "../../src/agent/agent.ts";
import type { Store, SyncRow } from "../../src/store/store.ts";
import { startAgentHarness, type AgentHarness } from "../support/agent-harness.ts";
import type { MemoryTarget } from "../support/memory-provider.ts";
import type { TestRepo } from "../support/repo.ts";

const configYaml = `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true, prune: true, selfHeal: true }
  prod:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: false, prune: true }
stacks:
  db: { target: cluster, path: db, environments: { dev: { namespace: dev }, prod: { namespace: prod } } }
  web: { target: cluster, path: web, dependsOn: [db], environments: { dev: { namespace: dev }, prod: { namespace: prod } } }
`;

function files(text: string): Record<string, string> {
  return {
    "gitward.yaml": configYaml,
    "db/cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: db }\ndata: { text: "${text}" }\n`,
    "web/cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: web }\ndata: { text: "${text}" }\n`,
  };
}

const second = 1000;

/**
 * The agent as a unit: a real repository and an in-memory SQLite store, an in-memory target,
 * and a fake clock, so polling, backoff, dependency waits and drift timers are driven by the
 * test instead of waited for.
 */
describe("agent with a fake clock", () => {
  let h: AgentHarness;
  let repo: TestRepo;
  let store: Store;
  let target: MemoryTarget;
  let agent: Agent;

  const syncs = async (environment: string, stack: string): Promise<SyncRow[]> => (await store.listSyncs({ environment, stack, limit: 100 })).reverse();
  const outcomes = async (environment: string, stack: string): Promise<string[]> => (await syncs(environment, stack)).map((r) => r.outcome);
  const advance = (ms: number): Promise<void> => h.advance(ms);

  before(async () => {
    h = await startAgentHarness(files("v1"));
    ({ repo, store, target, agent } = h);
  });
  after(() => h.close());

  it("syncs the automatic environment at start, dependencies first; the manual one waits", async () => {
    // web may be tried before db has synced: it waits (2 s), then syncs.
    await advance(3 * second);
    assert.deepEqual(await outcomes("dev", "db"), ["succeeded"]);
    assert.deepEqual(await outcomes("dev", "web"), ["succeeded"]);
    const [db] = await syncs("dev", "db");
    const [web] = await syncs("dev", "web");
    assert.ok(db !== undefined && web !== undefined && db.startedAt <= web.startedAt, "db synced before web");
    assert.deepEqual(await outcomes("prod", "db"), []);
    assert.equal(db.trigger.kind, "startup");
    assert.match(db.startedAt, /^2026-12-01T00:00/, "timestamps come from the clock");
  });

  it("a failed sync is retried with exponential backoff, not before", async () => {
    target.failApply = 2;
    repo.commit(files("v2"), "v2");
    await advance(60 * second); // the poll finds v2; db fails
    assert.deepEqual(await outcomes("dev", "db"), ["succeeded", "failed"]);
    await advance(0.9 * second); // the first retry is due after 1 s (jitter fixed at its middle)
    assert.deepEqual(await outcomes("dev", "db"), ["succeeded", "failed"]);
    await advance(0.1 * second); // fails again; the next retry waits 2 s
    assert.deepEqual(await outcomes("dev", "db"), ["succeeded", "failed", "failed"]);
    await advance(1.9 * second);
    assert.deepEqual(await outcomes("dev", "db"), ["succeeded", "failed", "failed"]);
    await advance(0.1 * second);
    assert.deepEqual(await outcomes("dev", "db"), ["succeeded", "failed", "failed", "succeeded"]);
    const retried = (await syncs("dev", "db"))[2];
    assert.equal(retried?.trigger.detail, "retry");
  });

  it("a stack whose dependency failed at the revision is not applied, and syncs as soon as the dependency recovers", async () => {
    // While db failed at v2, web either waited or was skipped (recorded once); db's success
    // (and its health, read within a second) queued it again.
    await advance(1 * second);
    const v2 = repo.git("rev-parse", "HEAD");
    const atV2 = (await syncs("dev", "web")).filter((r) => r.revision.sha === v2);
    assert.equal(atV2.at(-1)?.outcome, "succeeded");
    assert.ok(atV2.slice(0, -1).every((r) => r.outcome === "skipped" && /dependency db failed at this revision/.test(r.error ?? "")), JSON.stringify(atV2));
    assert.ok(atV2.length <= 2, "a skip is recorded once per revision");
    const dbDone = (await syncs("dev", "db")).at(-1);
    assert.ok(dbDone !== undefined && atV2.at(-1)!.startedAt >= dbDone.startedAt, "web applied after db succeeded");
    // v3: db fails once; web follows as soon as db has recovered and is healthy, not on a retry timer.
    target.failApply = 1;
    const v3 = repo.commit(files("v3"), "v3");
    await advance(60 * second);
    await advance(1 * second); // db's retry succeeds
    await advance(1 * second); // the next health read finds db healthy: web goes
    assert.deepEqual((await syncs("dev", "db")).filter((r) => r.revision.sha === v3).map((r) => r.outcome), ["failed", "succeeded"]);
    const webV3 = (await syncs("dev", "web")).filter((r) => r.revision.sha === v3).map((r) => r.outcome);
    assert.equal(webV3.at(-1), "succeeded", JSON.stringify(webV3));
    assert.ok(!webV3.includes("failed"));
  });

  it("drift: healed where the environment self-heals, reported where it does not", async () => {
    await agent.trigger({ kind: "manual", by: "alice", detail: "test" }, { environment: "prod" });
    await advance(3 * second);
    assert.equal((await syncs("prod", "db")).at(-1)?.outcome, "succeeded");
    assert.equal((await syncs("prod", "db")).at(-1)?.trigger.by, "alice");
    // Someone edits both environments' db ConfigMap by hand.
    const edit = (text: string): void => {
      for (const [k, v] of target.objects) if (k.endsWith("_db")) target.objects.set(k, { ...v, data: { text } });
    };
    assert.deepEqual([...target.objects.keys()].filter((k) => k.endsWith("_db")).sort(), ["_ConfigMap_dev_db", "_ConfigMap_prod_db"]);
    edit("edited");
    await advance(300 * second);
    const heal = (await syncs("dev", "db")).at(-1);
    assert.equal(heal?.trigger.kind, "drift");
    assert.equal(heal?.outcome, "succeeded");
    const drift = await store.listDrift({ limit: 100 });
    assert.ok(drift.some((d) => d.environment === "dev" && d.stack === "db" && d.corrected));
    assert.ok(drift.some((d) => d.environment === "prod" && d.stack === "db" && !d.corrected));
    const status = await agent.status();
    const prodDb = status.environments.find((e) => e.name === "prod")?.stacks.find((s) => s.stack === "db");
    const devDb = status.environments.find((e) => e.name === "dev")?.stacks.find((s) => s.stack === "db");
    assert.equal(prodDb?.drift, 1);
    assert.equal(prodDb?.inSync, false);
    assert.equal(devDb?.drift, 0);
    assert.equal(devDb?.inSync, true);
    // The same drift left in place is recorded once, not at every check.
    const prodEvents = (await store.listDrift({ environment: "prod", limit: 100 })).length;
    await advance(300 * second);
    await advance(300 * second);
    assert.equal((await store.listDrift({ environment: "prod", limit: 100 })).length, prodEvents);
    // Healed drift that comes back is recorded again, each time.
    const devEvents = (await store.listDrift({ environment: "dev", limit: 100 })).length;
    edit("edited again");
    await advance(300 * second);
    assert.equal((await store.listDrift({ environment: "dev", limit: 100 })).length, devEvents + 1);
    const corrected = (await store.listDrift({ environment: "dev", limit: 1 }))[0];
    assert.equal(corrected?.corrected, true);
    assert.equal(corrected?.syncId, (await syncs("dev", "db")).at(-1)?.id, "the drift names the sync that corrected it");
  });

  it("drift whose correction fails is recorded as found and not corrected", async () => {
    target.failApply = 1;
    for (const [k, v] of target.objects) if (k === "_ConfigMap_dev_web") target.objects.set(k, { ...v, data: { text: "by hand" } });
    await advance(300 * second);
    // The retry is due 1 s after the failure, which may land after the 300 s advance ended.
    await advance(2 * second);
    const event = (await store.listDrift({ environment: "dev", stack: "web", limit: 1 }))[0];
    assert.equal(event?.corrected, false);
    // The failed correction is retried with backoff and then succeeds.
    const last2 = (await syncs("dev", "web")).slice(-2);
    assert.deepEqual(last2.map((r) => [r.outcome, r.trigger.kind]), [["failed", "drift"], ["succeeded", "drift"]]);
    assert.equal(event?.syncId, last2[0]?.id, "the drift names the sync that tried to correct it");
  });

  it("the target is opened once per (environment, target) and the audit chain holds", async () => {
    assert.equal(target.opens, 2);
    const audit = await store.listAudit({ limit: 1000 });
    assert.ok(audit.some((a) => a.kind === "manual-trigger" && a.actor === "alice"));
    assert.ok(audit.filter((a) => a.kind === "sync").length >= 8);
    assert.equal((await store.verifyAudit()).ok, true);
  });

  it("a stack removed from gitward.yaml is reported as orphaned, its objects left in place", async () => {
    const withoutWeb = files("v4");
    delete withoutWeb["web/cm.yaml"];
    withoutWeb["gitward.yaml"] = (withoutWeb["gitward.yaml"] ?? "").replace(/ {2}web: .*\n/, "");
    repo.commit({ ...withoutWeb, "web/cm.yaml": null }, "drop web");
    await advance(60 * second);
    await advance(300 * second); // the drift pass looks at the targets' inventories
    const status = await agent.status();
    const orphaned = status.orphaned ?? [];
    assert.ok(orphaned.some((o) => o.environment === "dev" && o.stack === "web" && o.objects === 1), JSON.stringify(orphaned));
    assert.ok(orphaned.every((o) => o.stack === "web"), "only the removed stack");
    assert.ok(target.objects.has("_ConfigMap_dev_web"), "nothing is deleted");
  });

  it("a change to a target's definition opens a new session without a restart", async () => {
    const opens = target.opens;
    const closes = target.closes;
    const moved = files("v5");
    delete moved["web/cm.yaml"];
    moved["gitward.yaml"] = (moved["gitward.yaml"] ?? "").replace(/ {2}web: .*\n/, "").replace("targets: { cluster: { provider: kubernetes } }\n    sync: { auto: true", "targets: { cluster: { provider: kubernetes, context: other } }\n    sync: { auto: true");
    repo.commit(moved, "dev's cluster: another context");
    await advance(60 * second);
    assert.equal(target.opens, opens + 1, "dev's target opened again with its new definition");
    assert.equal(target.closes, closes + 1, "and the old session closed");
    assert.equal((await syncs("dev", "db")).at(-1)?.outcome, "succeeded");
  });
});
