import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeRepo, gitTestEnv, type TestRepo } from "../../support/repo.ts";
import { bearer, liveFiles, startLiveApi, type LiveApi } from "./live-api-support.ts";

const json = (body: unknown): { payload: string; headers: Record<string, string> } => ({ payload: JSON.stringify(body), headers: { "content-type": "application/json" } });

describe("POST /api/v1/sync", () => {
  let api: LiveApi;
  before(async () => {
    api = await startLiveApi(liveFiles("v1"));
  });
  after(() => api.close());

  const sync = (token: string | undefined, body: unknown) => {
    const r = json(body);
    return api.app.inject({ method: "POST", url: "/api/v1/sync", payload: r.payload, headers: { ...r.headers, ...(token === undefined ? {} : bearer(token)) } });
  };

  it("401 without credentials, 403 for a viewer or an operator of another environment", async () => {
    assert.equal((await sync(undefined, { environment: "dev" })).statusCode, 401);
    const viewer = await sync("tok-viewer", { environment: "dev" });
    assert.equal(viewer.statusCode, 403);
    assert.equal(viewer.json<{ error: { code: string } }>().error.code, "forbidden");
    assert.equal((await sync("tok-devop", { environment: "prod" })).statusCode, 403);
    assert.equal((await sync("tok-devop", {})).statusCode, 403, "everything needs operator on every environment");
  });

  it("an operator syncs a stack of its environment: 202, audited with its name, the claim kept apart", async () => {
    const r = await sync("tok-devop", { environment: "dev", stack: "web", reason: "refresh", by: "mallory" });
    assert.equal(r.statusCode, 202);
    assert.equal(r.json<{ queued: number }>().queued, 1);
    await api.h.agent.idle(false);
    const audit = (await api.h.store.listAudit({ limit: 50 })).filter((e) => e.kind === "manual-trigger");
    const last = audit.at(-1) ?? audit[0];
    assert.equal(last?.actor, "dev-operator");
    assert.equal(last?.details["claimedBy"], "mallory");
    assert.equal(last?.environment, "dev");
  });

  it("404 for a stack not served, 400 for a bad body", async () => {
    assert.equal((await sync("tok-admin", { environment: "dev", stack: "nope" })).statusCode, 404);
    const bad = await sync("tok-admin", { environment: "Dev!" });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json<{ error: { message: string } }>().error.message, /environment/);
  });
});

/** dev deploys web, prod deploys api: a change of web is dev's alone, so dev can roll it back. */
function splitFiles(text: string): Record<string, string> {
  return {
    "gitward.yaml": `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true }
  prod:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true }
stacks:
  web: { target: cluster, path: web, environments: { dev: { namespace: dev }, prod: { enabled: false } } }
  api: { target: cluster, path: api, environments: { dev: { enabled: false }, prod: { namespace: prod } } }
`,
    "web/cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: web }\ndata: { text: "${text}" }\n`,
    "api/cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: api }\ndata: { text: "v1" }\n`,
  };
}

describe("POST /api/v1/rollback through a real repository", () => {
  let api: LiveApi;
  let work: TestRepo;
  let bare: string;
  let v1: string;
  let v2: string;
  before(async () => {
    work = makeRepo();
    v1 = work.commit(splitFiles("v1"), "v1");
    v2 = work.commit(splitFiles("v2"), "web v2");
    bare = mkdtempSync(join(tmpdir(), "gitward-bare-"));
    execFileSync("git", ["clone", "-q", "--bare", work.dir, bare], { env: { ...process.env, ...gitTestEnv } });
    // The agent follows the bare repository (a push to a non-bare one's checked-out branch is refused).
    api = await startLiveApi(liveFiles("unused"), { repo: bare });
  });
  after(async () => {
    await api.close();
    work.remove();
    rmSync(bare, { recursive: true, force: true });
  });

  const rollback = (token: string | undefined, body: unknown) => {
    const r = json(body);
    return api.app.inject({ method: "POST", url: "/api/v1/rollback", payload: r.payload, headers: { ...r.headers, ...(token === undefined ? {} : bearer(token)) } });
  };
  const live = (): unknown => (api.h.target.objects.get("_ConfigMap_dev_web") as { data?: unknown } | undefined)?.data;
  const head = (): string => execFileSync("git", ["-C", bare, "rev-parse", "refs/heads/main"], { encoding: "utf8" }).trim();

  it("is refused without credentials (401) and to a viewer (403); nothing is pushed", async () => {
    assert.equal((await rollback(undefined, { environment: "dev", reason: "bad v2" })).statusCode, 401);
    assert.equal((await rollback("tok-viewer", { environment: "dev", reason: "bad v2" })).statusCode, 403);
    assert.equal((await rollback("tok-devop", { environment: "prod", reason: "bad v2" })).statusCode, 403);
    assert.equal(head(), v2);
  });

  it("makes the revert commit, pushes it, audits who asked, and the agent syncs it as a rollback", async () => {
    assert.deepEqual(live(), { text: "v2" });
    const r = await rollback("tok-devop", { environment: "dev", stack: "web", reason: "bad v2" });
    assert.equal(r.statusCode, 202, r.body);
    const body = r.json<{ revertCommit: string; reverted: { sha: string; subject: string }[]; pushed: boolean }>();
    assert.equal(body.pushed, true);
    assert.deepEqual(body.reverted, [{ sha: v2, subject: "web v2" }]);
    assert.equal(head(), body.revertCommit);
    const author = execFileSync("git", ["-C", bare, "log", "-1", "--format=%an", body.revertCommit], { encoding: "utf8" }).trim();
    assert.equal(author, "dev-operator");
    await api.h.agent.idle(false);
    await new Promise((res) => setTimeout(res, 100));
    await api.h.agent.idle(false);
    const rows = await api.h.store.listSyncs({ environment: "dev", stack: "web", limit: 5 });
    assert.equal(rows[0]?.revision.sha, body.revertCommit);
    assert.equal(rows[0]?.outcome, "succeeded");
    assert.equal(rows[0]?.trigger.kind, "rollback");
    const rollbacks = (await api.h.store.listAudit({ limit: 100 })).filter((e) => e.kind === "rollback");
    assert.equal(rollbacks.length, 1, "audited once, by the API, not again when the revision is seen");
    assert.equal(rollbacks[0]?.actor, "dev-operator");
    assert.equal(rollbacks[0]?.revision, body.revertCommit);
    assert.deepEqual(live(), { text: "v1" }, "web is back to v1 on the target");
    assert.notEqual(v1, body.revertCommit);
  });

  it("409 when there is nothing to roll back", async () => {
    const r = await rollback("tok-admin", { environment: "dev", stack: "web", steps: 50, reason: "too far" });
    assert.equal(r.statusCode, 409, r.body);
    assert.equal(r.json<{ error: { code: string } }>().error.code, "conflict");
    assert.doesNotMatch(r.body, new RegExp(bare.replaceAll("/", "\\/")), "no path of the agent's machine");
  });
});
