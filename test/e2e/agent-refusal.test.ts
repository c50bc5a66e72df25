import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { AgentStatus } from "../../src/agent/agent.ts";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import { openStore } from "../../src/store/open.ts";
import type { AuditEvent, SyncRow } from "../../src/store/store.ts";
import { runCli } from "../support/cli.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const logger = (): ReturnType<typeof agentLogger> => agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false });

/**
 * A broken gitward.yaml at the branch head is exactly when status is needed: it answers 200 with
 * the refusal (the error at its file and line) and the stacks as last known; `gitward status`
 * shows it and exits 2 (not in sync), not 1.
 */
describe("agent: a broken gitward.yaml at the head", () => {
  let work: string;
  let repo: TestRepo;
  let running: RunningAgent;
  let good: string;
  let broken: string;

  const files = (greeting: string, extra = ""): Record<string, string> => ({
    "gitward.yaml": `version: 1
environments:
  dev:
    vars: { greeting: "${greeting}" }
    targets: { web: { provider: host, root: ${join(work, "dev")} } }
    sync: { auto: true }
stacks:
  site:
    target: web
    path: site
${extra}`,
    "site/index.yaml": "apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec: { path: index.html, content: \"${greeting}\\n\" }\n",
  });
  const live = (): string => readFileSync(join(work, "dev", "index.html"), "utf8");
  const status = async (url: string): Promise<{ code: number; body: AgentStatus }> => {
    const r = await fetch(`${url}/api/v1/status`);
    return { code: r.status, body: (await r.json()) as AgentStatus };
  };
  const start = (state: string): Promise<RunningAgent> => runAgent({
    config: agentConfigSchema.parse({ cacheDir: join(work, "cache"), api: { anonymousRead: true }, intervals: { poll: 3600, drift: 3600, retryBase: 0.2, retryMax: 1 } }),
    repo: repo.dir, branch: "main", state: `sqlite:${join(work, state)}`, listen: "127.0.0.1:0", logger: logger(),
  });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-agent-refusal-"));
    mkdirSync(join(work, "dev"));
    repo = makeRepo();
    good = repo.commit(files("v1"), "v1");
    process.env["GITWARD_API_TOKEN"] = "api-token-for-refusal-tests";
    running = await start("state.db");
    await running.agent.idle();
  });
  after(async () => {
    await running.stop();
    delete process.env["GITWARD_API_TOKEN"];
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("status answers 200 with the refusal at gitward.yaml's line, and the stacks as last known", async () => {
    assert.equal(live(), "v1\n");
    broken = repo.commit(files("v2", "    bogus: true\n"), "v2: a typo");
    await running.agent.trigger({ kind: "webhook", detail: "test" });
    await running.agent.idle();
    assert.equal(live(), "v1\n", "nothing applied");
    const { code, body } = await status(running.url);
    assert.equal(code, 200, JSON.stringify(body));
    assert.equal(body.refused?.revision, broken);
    assert.match(body.refused?.reasons[0] ?? "", /^gitward\.yaml:\d+:\d+: stacks\.site/);
    const site = body.environments.find((e) => e.name === "dev")?.stacks.find((s) => s.stack === "site");
    assert.equal(site?.current, good);
    assert.equal(site?.desired, broken);
    assert.equal(site?.inSync, false);
    assert.equal(site?.lastSync?.outcome, "failed");
    assert.match(site?.lastSync?.error ?? "", /revision not applied: gitward\.yaml:\d+:\d+/);
    assert.deepEqual(running.agent.readiness().reasons, [], "a refused revision is not a failing loop");
  });

  it("gitward status shows the refusal and exits 2 (out of sync), not 1", async () => {
    const r = await runCli(["status", "--agent", running.url]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /refused/);
    assert.match(r.stdout, /gitward\.yaml:\d+:\d+/);
    assert.match(r.stdout, /site/);
  });

  it("an agent started at the broken head lists the stacks from the last gitward.yaml that loads, and records the refusal", async () => {
    const second = await start("state-2.db");
    try {
      await second.agent.idle();
      const { code, body } = await status(second.url);
      assert.equal(code, 200);
      assert.deepEqual(body.environments.map((e) => [e.name, e.stacks.map((s) => s.stack)]), [["dev", ["site"]]]);
      assert.match(body.refused?.reasons[0] ?? "", /gitward\.yaml:\d+:\d+/);
      const rows = ((await (await fetch(`${second.url}/api/v1/history`)).json()) as { items: SyncRow[] }).items;
      assert.deepEqual(rows.map((r) => [r.revision.sha, r.outcome]), [[broken, "failed"]]);
    } finally {
      await second.stop();
    }
  });

  it("a fix syncs at once", async () => {
    repo.commit(files("v3"), "v3: fixed");
    await running.agent.trigger({ kind: "webhook", detail: "test" });
    await running.agent.idle();
    assert.equal(live(), "v3\n");
    assert.equal((await status(running.url)).body.refused, undefined);
  });

  it("a manual sync is audited as the API token; the name in the body is a separate claim; control characters are refused", async () => {
    const post = (body: object): Promise<Response> => fetch(`${running.url}/api/v1/sync`, {
      method: "POST", body: JSON.stringify(body), headers: { authorization: "Bearer api-token-for-refusal-tests", "content-type": "application/json" },
    });
    assert.equal((await post({ environment: "dev", by: "alice\nforged by bob" })).status, 400);
    assert.equal((await post({ environment: "dev", by: "alice" })).status, 202);
    await running.agent.idle();
    const store = await openStore(`sqlite:${join(work, "state.db")}`, { readOnly: true });
    let audit: AuditEvent[];
    try {
      audit = (await store.listAudit({ limit: 1000 })).filter((e) => e.kind === "manual-trigger");
    } finally {
      await store.close();
    }
    assert.equal(audit.length, 1, "the refused request left no record");
    assert.equal(audit[0]?.actor, "api-token");
    assert.equal(audit[0]?.details["claimedBy"], "alice");
    assert.ok(!JSON.stringify(audit).includes("forged by bob"));
  });
});
