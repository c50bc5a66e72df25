import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SyncRow } from "../../src/store/store.ts";
import { rendezvousOwner } from "../../src/agent/leases.ts";
import { startFakeForge, type FakeForge } from "../support/fake-forge/index.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { until } from "../support/until.ts";
import { startAgentProcess, type AgentProcess } from "../support/agent-process.ts";

const apiToken = randomBytes(16).toString("hex");
const forgeToken = randomBytes(16).toString("hex");

type Running = AgentProcess;

/** What `/api/v1/status` says, as far as this test reads it. */
interface StatusView {
  readonly agentId: string;
  readonly environments: readonly {
    readonly name: string;
    readonly approval?: { readonly held: boolean };
    readonly stacks: readonly { readonly stack: string; readonly owner?: { readonly agent: string; readonly here: boolean } }[];
  }[];
}

/**
 * Two agent processes on one PostgreSQL state with the fake GitHub: an environment requiring
 * an approval holds a commit pushed straight to main; an operator's override sent to the agent
 * that does not own the stack lets the owner sync that revision past the gate.
 */
describe("an approval override received by an agent that does not own the stack", () => {
  let work: string;
  let repo: TestRepo;
  let pg: TestPostgres;
  let fake: FakeForge;
  let url: string;
  let v1: string;
  const agents = new Map<string, Running>();
  const root = (): string => join(work, "prod");
  const database = (): string => new URL(url).pathname.slice(1);

  const config = (tag: string): string => {
    const file = join(work, `agent-${tag}.yaml`);
    writeFileSync(file, `intervals: { poll: 3600, drift: 3600, retryBase: 0.5, retryMax: 2, health: 1 }
gracePeriodSeconds: 5
cacheDir: ${join(work, `cache-${tag}`)}
api: { token: { env: GITWARD_API_TOKEN }, anonymousRead: true }
forge: { kind: github, apiUrl: ${fake.apiUrl}, repository: acme/infra, token: { env: TEST_FORGE_TOKEN } }
`);
    return file;
  };

  const start = async (tag: string): Promise<Running> => {
    const args = ["--repo", repo.dir, "--state", url, "--config", config(tag), "--agent-id", tag];
    const r = await startAgentProcess(tag, args, { GITWARD_API_TOKEN: apiToken, TEST_FORGE_TOKEN: forgeToken }, work);
    agents.set(tag, r);
    return r;
  };
  const api = (tag: string, path: string): string => `http://127.0.0.1:${agents.get(tag)?.port ?? 0}/api/v1/${path}`;
  const status = async (tag: string): Promise<StatusView> => (await (await fetch(api(tag, "status"))).json()) as StatusView;
  const history = async (tag: string): Promise<SyncRow[]> =>
    ((await (await fetch(api(tag, "history?environment=prod&stack=site&limit=50"))).json()) as { items: SyncRow[] }).items;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-ha-approvals-"));
    mkdirSync(root());
    pg = await startPostgres();
    url = await pg.createDatabase();
    fake = await startFakeForge("github");
    fake.state.addUser("gitward-agent", forgeToken);
    repo = makeRepo();
    v1 = repo.commit({
      "gitward.yaml": `version: 1
environments:
  prod:
    targets: { web: { provider: host, root: ${root()} } }
    sync: { auto: true }
    approvals: { required: 1, from: [sre] }
groups:
  sre: [alice]
stacks:
  site: { target: web, path: site }
`,
      "site/index.yaml": "apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec: { path: index.html, content: \"hotfix\\n\" }\n",
    }, "hotfix pushed straight to main");
  });
  after(async () => {
    for (const a of agents.values()) {
      if (a.child.exitCode !== null || a.child.signalCode !== null) continue;
      const exited = new Promise((r) => a.child.once("exit", r));
      a.child.kill("SIGTERM");
      await exited;
    }
    await fake?.close();
    await pg?.stop();
    repo?.remove();
    if (process.env["GITWARD_TEST_KEEP"] === undefined) rmSync(work, { recursive: true, force: true });
  });

  it("holds the commit at the gate, then the owner syncs it once the other agent received the override", async () => {
    for (const tag of ["a1", "a2"]) await start(tag);
    // The owner once both agents see each other (the first to start may hold the stack until then).
    const owner = rendezvousOwner({ environment: "prod", stack: "site" }, ["a1", "a2"]) ?? "";
    const other = owner === "a1" ? "a2" : "a1";
    await until("the status shows the owner", async () => {
      const site = (await status(other)).environments.find((e) => e.name === "prod")?.stacks.find((s) => s.stack === "site");
      return site?.owner?.agent === owner && !site.owner.here;
    }, 60_000);
    await until("the owner holds the commit at the gate", async () => (await status(owner)).environments.find((e) => e.name === "prod")?.approval?.held === true, 60_000);
    // Recorded once, by whichever agent held it first.
    const held = await until("the held revision in history", async () => (await history(other)).find((r) => r.revision.sha === v1 && r.outcome === "skipped"));
    assert.match(held.error ?? "", /without a merged pull request/);
    assert.equal(existsSync(join(root(), "index.html")), false, "nothing applied while held");

    const asked = await fetch(api(other, "sync"), {
      method: "POST", headers: { authorization: `Bearer ${apiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ environment: "prod", overrideApproval: "incident 4711" }),
    });
    assert.equal(asked.status, 202, await asked.clone().text());
    assert.deepEqual(await asked.json(), { revision: v1, queued: 1 });

    // Well before the gate's own recheck (60 s): the routed sync itself finds the override.
    const synced = await until("the owner synced the revision past the gate", async () => (await history(other)).find((r) => r.revision.sha === v1 && r.outcome === "succeeded"), 20_000);
    assert.equal(readFileSync(join(root(), "index.html"), "utf8"), "hotfix\n");
    assert.equal(synced.trigger.kind, "manual");
    const byAgent = await pg.sql(`SELECT agent_id FROM syncs WHERE id = ${synced.id}`, database());
    assert.equal(byAgent.rows[0]?.agent_id, owner, "synced by the owner, not by the agent that received the override");
    const audit = (await (await fetch(api(owner, "audit?limit=100"), { headers: { authorization: `Bearer ${apiToken}` } })).json()) as { items: { kind: string; actor: string; revision?: string; details: Record<string, unknown> }[] };
    const override = audit.items.find((e) => e.kind === "approval-override");
    assert.equal(override?.revision, v1);
    assert.deepEqual(override.details, { reason: "incident 4711" });
  });
});
