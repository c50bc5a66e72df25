import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { AuditPage, DriftPage, Environment, ErrorBody, HistoryPage, Me, Stack } from "../../../src/agent/http/schemas.ts";
import { plantedForms, planted, startApi, type Api } from "./api-support.ts";

const sha = (c: string): string => c.repeat(40);

/** Records finished syncs straight into the store: history the endpoints page and filter. */
async function seedHistory(api: Api): Promise<void> {
  const kinds = ["poll", "webhook", "manual"] as const;
  for (let i = 0; i < 12; i++) {
    const environment = ["dev", "staging", "prod"][i % 3] ?? "dev";
    const row = await api.store.beginSync({
      environment, stack: "web", revision: { sha: sha(String(i % 10)), author: "alice", message: `change ${i}` },
      trigger: { kind: kinds[i % 3] ?? "poll", by: "alice", detail: i === 0 ? `delivery signed with ${planted.webhook}, token ${planted.forgeToken}` : `#${i}` },
      startedAt: new Date(Date.UTC(2030, 0, 1, 0, i)).toISOString(),
    });
    await api.store.finishSync(row.id, {
      outcome: i % 4 === 3 ? "failed" : "succeeded", summary: { configured: 1 }, objects: [], durationMs: 10,
      ...(i === 0 ? { commands: [{ phase: "check" as const, command: ["sh", "-c", "cat /etc/app/password"], exitCode: 0, output: `password=${planted.hostPassword}\n`, durationMs: 3 }] } : {}),
      ...(i % 4 === 3 ? { error: `reload failed; the token was ${planted.apiToken}` } : {}),
    });
  }
  await api.store.recordDrift(["dev", "prod", "prod"].map((environment, i) => ({
    environment, stack: "web", ref: { group: "", kind: "ConfigMap", namespace: environment, name: "web" }, apiVersion: "v1",
    fields: [{ field: "data.text", manager: "kubectl-edit" }], corrected: false, detectedAt: new Date(Date.UTC(2030, 0, 2, 0, i)).toISOString(),
  })));
}

describe("the API's read endpoints", () => {
  let api: Api;
  before(async () => {
    api = await startApi();
    await seedHistory(api);
  });
  after(() => api.close());

  // The secret scan: no response of this suite holds a planted value, in any form.
  afterEach(() => {
    for (const body of api.drain()) for (const s of plantedForms()) assert.ok(!body.includes(s), `a response holds a planted secret: ${body.slice(0, 200)}`);
  });

  it("GET /me names the principal and its grants", async () => {
    const r = await api.get("/api/v1/me", "devOperator");
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json<Me>(), { name: "devOperator", kind: "token", grants: [{ role: "operator", environments: ["dev"] }], oidc: false });
    assert.deepEqual((await api.get("/api/v1/me", "legacy")).json<Me>().kind, "legacy-token");
  });

  it("GET /environments counts stacks per environment and shows the gate, filtered to what the caller reads", async () => {
    const all = (await api.get("/api/v1/environments")).json<{ items: Environment[] }>().items;
    assert.deepEqual(all.map((e) => [e.name, e.stacks, e.inSync, e.gate.state]), [["dev", 2, 2, "open"], ["staging", 2, 2, "open"], ["prod", 2, 2, "open"]]);
    const some = (await api.get("/api/v1/environments", "devStagingViewer")).json<{ items: Environment[] }>().items;
    assert.deepEqual(some.map((e) => e.name), ["dev", "staging"]);
  });

  it("GET /stacks lists stacks with revision and gate; environment and q filter; an unreadable environment is 403", async () => {
    const head = api.h.repo.git("rev-parse", "HEAD");
    const all = (await api.get("/api/v1/stacks")).json<{ items: Stack[] }>().items;
    assert.equal(all.length, 6);
    assert.ok(all.every((s) => s.current === head && s.desired === head && s.inSync && s.gate.state === "open"));
    const prodDb = (await api.get("/api/v1/stacks?environment=prod&q=d")).json<{ items: Stack[] }>().items;
    assert.deepEqual(prodDb.map((s) => `${s.environment}/${s.stack}`), ["prod/db"]);
    assert.deepEqual((await api.get("/api/v1/stacks", "prodViewer")).json<{ items: Stack[] }>().items.map((s) => s.environment), ["prod", "prod"]);
    const denied = await api.get("/api/v1/stacks?environment=dev", "prodViewer");
    assert.equal(denied.statusCode, 403);
    assert.deepEqual(denied.json<ErrorBody>().error.code, "forbidden");
    assert.match(denied.json<ErrorBody>().error.message, /read needs viewer on environment "dev"/);
  });

  it("GET /history pages with an opaque cursor until next is null, newest first, without repeating", async () => {
    const seen: string[] = [];
    let url = "/api/v1/history?stack=web&limit=5";
    for (let pages = 0; pages < 10; pages++) {
      const r = await api.get(url);
      assert.equal(r.statusCode, 200, r.body);
      const p = r.json<HistoryPage>();
      seen.push(...p.items.map((s) => s.id));
      if (p.next === null) break;
      url = `/api/v1/history?stack=web&limit=5&cursor=${p.next}`;
    }
    const every = await api.store.listSyncs({ stack: "web", limit: 1000 });
    assert.deepEqual(seen, every.map((s) => s.id));
    assert.ok(seen.length > 12, "the agent's own syncs and the seeded ones");
  });

  it("GET /history filters by environment, outcome, trigger and time, and only the readable environments", async () => {
    const q = async (query: string, token = "viewer"): Promise<HistoryPage["items"]> => {
      const r = await api.get(`/api/v1/history?${query}`, token);
      assert.equal(r.statusCode, 200, r.body);
      return r.json<HistoryPage>().items;
    };
    assert.ok((await q("environment=staging&limit=200")).every((s) => s.environment === "staging"));
    assert.deepEqual((await q("outcome=failed")).map((s) => s.revision.message), ["change 11", "change 7", "change 3"]);
    assert.ok((await q("trigger=webhook")).every((s) => s.trigger.kind === "webhook"));
    const window = await q(`since=${encodeURIComponent("2030-01-01T00:02:00Z")}&until=${encodeURIComponent("2030-01-01T02:05:00+02:00")}`);
    assert.deepEqual(window.map((s) => s.revision.message), ["change 4", "change 3", "change 2"]);
    assert.deepEqual(new Set((await q("limit=200", "prodViewer")).map((s) => s.environment)), new Set(["prod"]));
    assert.equal((await api.get("/api/v1/history?environment=dev", "prodViewer")).statusCode, 403);
  });

  it("history serves host command output and trigger details with the agent's secret values masked", async () => {
    const first = (await api.get("/api/v1/history?trigger=poll&since=2030-01-01T00:00:00Z&until=2030-01-01T00:00:01Z")).json<HistoryPage>().items[0];
    assert.match(first?.commands?.[0]?.output ?? "", /^password=\*\*\*/);
    assert.ok(!(first?.trigger.detail ?? "").includes(planted.forgeToken));
  });

  it("GET /drift pages newest first and filters to readable environments", async () => {
    const p1 = (await api.get("/api/v1/drift?limit=2")).json<DriftPage>();
    assert.equal(p1.items.length, 2);
    assert.ok(p1.next !== null);
    const p2 = (await api.get(`/api/v1/drift?limit=2&cursor=${p1.next}`)).json<DriftPage>();
    assert.deepEqual(p2.next, null);
    assert.deepEqual([...p1.items, ...p2.items].map((d) => d.environment), ["prod", "prod", "dev"]);
    assert.deepEqual((await api.get("/api/v1/drift", "devStagingViewer")).json<DriftPage>().items.map((d) => d.environment), ["dev"]);
    assert.equal(p1.items[0]?.fields[0]?.manager, "kubectl-edit");
  });

  it("GET /audit pages oldest first with the chain's verification; it needs viewer on every environment", async () => {
    const p = (await api.get("/api/v1/audit?limit=3")).json<AuditPage>();
    assert.deepEqual(p.items.map((a) => a.seq), [1, 2, 3]);
    assert.equal(p.verification.ok, true);
    assert.ok(p.verification.count >= 3 && p.verification.head?.length === 64);
    const next = (await api.get(`/api/v1/audit?limit=3&cursor=${p.next ?? ""}`)).json<AuditPage>();
    assert.equal(next.items[0]?.seq, 4);
    const denied = await api.get("/api/v1/audit", "devStagingViewer");
    assert.equal(denied.statusCode, 403);
    assert.match(denied.json<ErrorBody>().error.message, /audit needs viewer on every environment \(\*\); devStagingViewer has no role there/);
  });

  it("GET /status is the agent's status, with only the readable environments", async () => {
    const s = (await api.get("/api/v1/status")).json<{ branch: string; environments: { name: string; stacks: unknown[] }[] }>();
    assert.equal(s.branch, "main");
    assert.deepEqual(s.environments.map((e) => e.name), ["dev", "staging", "prod"]);
    assert.deepEqual((await api.get("/api/v1/status", "prodViewer")).json<{ environments: { name: string }[] }>().environments.map((e) => e.name), ["prod"]);
  });

  it("the live stack views and the webhook answer without a planted value", async () => {
    for (const url of ["/api/v1/environments/dev/stacks/db", "/api/v1/environments/dev/stacks/db/diff", "/api/v1/gate"]) {
      assert.equal((await api.get(url)).statusCode, 200, url);
    }
    const hook = await api.call({ method: "POST", url: "/hooks/git", token: null, headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": "sha256=00" }, payload: "{}" });
    assert.equal(hook.statusCode, 401);
  });
});
