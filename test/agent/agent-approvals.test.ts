import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openForge } from "../../src/forge/open-forge.ts";
import type { SyncRow } from "../../src/store/store.ts";
import { startAgentHarness, type AgentHarness } from "../support/agent-harness.ts";
import { startFakeForge, type FakeForge } from "../support/fake-forge/index.ts";

const configYaml = `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true }
  prod:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true }
    approvals: { required: 1, from: [sre] }
groups:
  sre: [alice, bob]
stacks:
  web: { target: cluster, path: web, environments: { dev: { namespace: dev }, prod: { namespace: prod } } }
`;

const files = (text: string): Record<string, string> => ({
  "gitward.yaml": configYaml,
  "web/cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: web }\ndata: { text: "${text}" }\n`,
});

/**
 * The approval gate in the agent, against the fake GitHub: a direct push reaches dev and is held
 * for prod; a merged pull request waits for an approval from the group; the approval (a review
 * webhook) releases it; an operator's override is audited. Commit statuses follow each step.
 */
describe("agent approval gate (fake GitHub)", () => {
  let h: AgentHarness;
  let fake: FakeForge;

  before(async () => {
    fake = await startFakeForge("github");
    fake.state.addUser("gitward-agent", "agent-token");
    const forge = await openForge({ kind: "github", apiUrl: fake.apiUrl, repository: "acme/infra", token: "agent-token", retries: 0 });
    h = await startAgentHarness(files("v1"), { forge, approvalTtlMs: 60_000, url: "https://gitward.example.com" });
  });

  after(async () => {
    await h.close();
    await fake.close();
  });

  const last = async (environment: string): Promise<SyncRow | undefined> => (await h.store.listSyncs({ environment, stack: "web", limit: 1 }))[0];
  const prodApproval = async () => (await h.agent.status()).environments.find((e) => e.name === "prod")?.approval;

  it("applies a direct push in dev and holds it for prod, saying why", async () => {
    const v1 = h.repo.git("rev-parse", "HEAD").trim();
    assert.equal((await last("dev"))?.outcome, "succeeded");
    const prod = await last("prod");
    assert.equal(prod?.outcome, "skipped");
    assert.equal(prod.error, `held by the approval gate: prod: commit ${v1.slice(0, 12)} reached main without a merged pull request`);
    const approval = await prodApproval();
    assert.equal(approval?.held, true);
    assert.deepEqual(approval.reasons, [`prod: commit ${v1.slice(0, 12)} reached main without a merged pull request`]);
    const audit = (await h.store.listAudit()).filter((e) => e.kind === "approval-gate");
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.details["allowed"], false);
    // The deployment statuses on the commit: dev deployed, prod waiting.
    const statuses = fake.state.latestStatuses(v1);
    assert.equal(statuses.get("gitward/dev")?.state, "success");
    assert.equal(statuses.get("gitward/prod")?.state, "pending");
    assert.match(statuses.get("gitward/prod")?.description ?? "", /^waiting for approval: prod: commit/);
    assert.equal(statuses.get("gitward/dev")?.targetUrl, "https://gitward.example.com/");
    assert.deepEqual(fake.state.nonConforming(), []);
  });

  it("holds a merged pull request until a member of the group approves it, then syncs with the approver recorded", async () => {
    const v2 = h.repo.commit(files("v2"), "Merge pull request #7");
    fake.state.openPull({ number: 7, author: "carol", headSha: "c".repeat(40), headBranch: "change" });
    fake.state.merge(7, v2, "carol");
    await h.agent.trigger({ kind: "webhook", detail: "push" });
    await h.agent.idle(false);
    assert.equal((await last("dev"))?.revision.sha, v2);
    assert.deepEqual((await prodApproval())?.reasons, ["prod: waiting for 1 more approval from sre on #7"]);
    assert.equal((await last("prod"))?.revision.sha, v2);
    assert.equal((await last("prod"))?.outcome, "skipped");

    // The author approving their own change does not count; a member of sre does.
    fake.state.review(7, "carol");
    fake.state.review(7, "alice");
    await h.agent.reviewChanged(7);
    await h.agent.idle(false);
    const synced = await last("prod");
    assert.equal(synced?.outcome, "succeeded");
    assert.equal(synced.revision.sha, v2);
    assert.match(synced.trigger.detail ?? "", /approved: #7 by alice$/);
    assert.equal((await prodApproval())?.held, false);
    assert.equal(fake.state.latestStatuses(v2).get("gitward/prod")?.state, "success");
    const allowed = (await h.store.listAudit()).filter((e) => e.kind === "approval-gate" && e.details["allowed"] === true);
    assert.equal(allowed.length, 1);
    assert.deepEqual((allowed[0]?.details["pulls"] as { approvers: string[] }[])[0]?.approvers, ["alice"]);
  });

  it("asks again after a while without a webhook", async () => {
    const v3 = h.repo.commit(files("v3"), "Merge pull request #8");
    fake.state.openPull({ number: 8, author: "carol", headSha: "d".repeat(40) });
    fake.state.merge(8, v3, "carol");
    await h.agent.trigger({ kind: "webhook" });
    await h.agent.idle(false);
    assert.equal((await last("prod"))?.outcome, "skipped");
    fake.state.review(8, "bob");
    await h.advance(61_000);
    assert.equal((await last("prod"))?.outcome, "succeeded");
    assert.equal((await last("prod"))?.revision.sha, v3);
  });

  it("lets an operator sync past the gate, audited with who and why", async () => {
    const v4 = h.repo.commit(files("v4"), "hotfix pushed straight to main");
    await h.agent.trigger({ kind: "webhook" });
    await h.agent.idle(false);
    assert.equal((await last("prod"))?.outcome, "skipped");
    await h.agent.trigger({ kind: "manual", by: "ops-token" }, { environment: "prod" }, { overrideApproval: "incident 4711" });
    await h.agent.idle(false);
    const synced = await last("prod");
    assert.equal(synced?.outcome, "succeeded");
    assert.equal(synced.revision.sha, v4);
    const override = (await h.store.listAudit()).find((e) => e.kind === "approval-override");
    assert.equal(override?.actor, "ops-token");
    assert.equal(override.revision, v4);
    assert.deepEqual(override.details, { reason: "incident 4711" });
    assert.deepEqual((await prodApproval())?.override, { by: "ops-token", reason: "incident 4711" });
  });

  it("holds prod when the forge cannot be reached, rather than letting it through", async () => {
    const v5 = h.repo.commit(files("v5"), "Merge pull request #9");
    fake.state.openPull({ number: 9, author: "carol", headSha: "e".repeat(40) });
    fake.state.merge(9, v5, "carol");
    fake.state.review(9, "alice");
    fake.state.faults.down = true;
    try {
      await h.agent.trigger({ kind: "webhook" });
      await h.agent.idle(false);
      assert.equal((await last("dev"))?.revision.sha, v5);
      const prod = await last("prod");
      assert.equal(prod?.outcome, "skipped");
      assert.match(prod.error ?? "", /^held by the approval gate: prod: cannot check approvals on github: /);
      assert.doesNotMatch(prod.error ?? "", /agent-token/);
    } finally {
      fake.state.faults.down = false;
    }
    await h.advance(61_000);
    assert.equal((await last("prod"))?.outcome, "succeeded");
  });
});
