import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { AgentStatus } from "../../src/agent/agent.ts";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import type { SyncRow } from "../../src/store/store.ts";
import { startFakeForge, type FakeForge } from "../support/fake-forge/index.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { until } from "../support/until.ts";

const examples = JSON.parse(readFileSync(new URL("../../node_modules/@octokit/webhooks-examples/api.github.com/index.json", import.meta.url), "utf8")) as
  { name: string; examples: Record<string, unknown>[] }[];

/** A real pull_request payload from @octokit/webhooks-examples, for pull request `number` at `head` on `branch`. */
function pullRequestPayload(action: string, number: number, head: string, branch: string, merged = false): Record<string, unknown> {
  const example = examples.find((e) => e.name === "pull_request")?.examples.find((x) => x["action"] === action);
  assert.ok(example !== undefined, `an example of pull_request ${action}`);
  const copy = structuredClone(example);
  const pr = copy["pull_request"] as Record<string, unknown>;
  copy["number"] = number;
  pr["number"] = number;
  pr["merged"] = merged;
  pr["head"] = { ...(pr["head"] as object), sha: head, ref: branch };
  pr["base"] = { ...(pr["base"] as object), ref: "main" };
  return copy;
}

/**
 * The forge loop through a real agent (`runAgent`, its HTTP server and configuration), the fake
 * GitHub and host targets: signed pull-request webhooks create, update and destroy a preview;
 * a direct push reaches dev and is held for prod; an approval releases it; commit statuses
 * follow each environment.
 */
describe("agent with a forge: previews, approvals and statuses (fake GitHub, host targets)", () => {
  let work: string;
  let repo: TestRepo;
  let fake: FakeForge;
  let running: RunningAgent;
  const secret = "hook-secret-for-tests";
  /** What the agent's notifications delivered to a receiver on 127.0.0.1. */
  const notified: { event: string; body: Record<string, unknown>; signature: string }[] = [];
  let receiver: Server;

  const files = (text: string): Record<string, string> => ({
    "gitward.yaml": `version: 1
environments:
  dev:
    targets: { web: { provider: host, root: ${join(work, "dev")} } }
    sync: { auto: true }
  prod:
    targets: { web: { provider: host, root: ${join(work, "prod")} } }
    sync: { auto: true }
    approvals: { required: 1, from: [sre] }
groups:
  sre: [alice]
previews:
  from: dev
  url: https://pr-\${pr}.preview.example.com
stacks:
  site: { target: web, path: site }
`,
    "site/index.yaml": `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec: { path: index.html, content: "${text}\\n" }\n`,
  });

  const status = async (): Promise<AgentStatus> => (await (await fetch(`${running.url}/api/v1/status`)).json()) as AgentStatus;
  const lastSync = async (environment: string): Promise<SyncRow | undefined> =>
    ((await (await fetch(`${running.url}/api/v1/history?environment=${environment}&stack=site&limit=1`)).json()) as { items: SyncRow[] }).items[0];
  const hook = async (event: string, payload: unknown): Promise<Response> => {
    const body = JSON.stringify(payload);
    return fetch(`${running.url}/hooks/git`, {
      method: "POST", body,
      headers: {
        "content-type": "application/json", "x-github-event": event, "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
      },
    });
  };
  /** A commit on branch `change` (not main), as the pull request's head, under refs/pull/N/head. */
  const prHead = (number: number, text: string): string => {
    repo.git("checkout", "-q", "-B", "change", "main");
    const sha = repo.commit(files(text), `change ${text}`);
    repo.git("update-ref", `refs/pull/${number}/head`, sha);
    repo.git("checkout", "-q", "main");
    return sha;
  };
  const previewFile = (): string => join(work, "previews", "preview-7", "index.html");

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-agent-forge-"));
    for (const d of ["dev", "prod", "previews"]) mkdirSync(join(work, d));
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => {
        notified.push({ event: String(req.headers["x-gitward-event"]), body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>, signature: String(req.headers["x-gitward-signature"]) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    process.env["TEST_NOTIFY_URL"] = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/gitward`;
    process.env["TEST_NOTIFY_SECRET"] = "notify-secret";
    fake = await startFakeForge("github");
    fake.state.addUser("gitward-agent", "forge-token-for-tests");
    process.env["TEST_FORGE_TOKEN"] = "forge-token-for-tests";
    process.env["TEST_HOOK_SECRET"] = secret;
    repo = makeRepo();
    repo.commit(files("v1"), "v1 pushed straight to main");
    running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(work, "cache"),
        intervals: { poll: 3600, drift: 3600, retryBase: 3600, retryMax: 3600, dependencyWait: 0.1 },
        webhook: { github: { env: "TEST_HOOK_SECRET" } },
        forge: { kind: "github", apiUrl: fake.apiUrl, repository: "acme/infra", token: { env: "TEST_FORGE_TOKEN" } },
        url: "https://gitward.example.com", api: { anonymousRead: true },
        targets: { "previews/web": { root: join(work, "previews") } },
        notifications: [{ kind: "webhook", url: { env: "TEST_NOTIFY_URL" }, secret: { env: "TEST_NOTIFY_SECRET" }, events: ["gate-waiting", "sync-failed"] }],
      }),
      repo: repo.dir, branch: "main", state: `sqlite:${join(work, "state.db")}`, listen: "127.0.0.1:0",
      logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }),
    });
  });

  after(async () => {
    await running.stop();
    await fake.close();
    await new Promise<void>((r) => receiver.close(() => r()));
    delete process.env["TEST_NOTIFY_URL"];
    delete process.env["TEST_NOTIFY_SECRET"];
    delete process.env["TEST_FORGE_TOKEN"];
    delete process.env["TEST_HOOK_SECRET"];
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("applies a direct push in dev and holds it for prod, visible in status and as a pending status", async () => {
    const v1 = repo.git("rev-parse", "HEAD").trim();
    await until("dev synced", async () => (await lastSync("dev"))?.outcome === "succeeded" ? true : undefined, 20_000);
    assert.equal(readFileSync(join(work, "dev", "index.html"), "utf8"), "v1\n");
    const prod = await until("prod held", async () => (await status()).environments.find((e) => e.name === "prod")?.approval, 20_000);
    assert.equal(prod.held, true);
    assert.deepEqual(prod.reasons, [`prod: commit ${v1.slice(0, 12)} reached main without a merged pull request`]);
    assert.equal(existsSync(join(work, "prod", "index.html")), false);
    await until("statuses", () => fake.state.latestStatuses(v1).size === 2 ? true : undefined, 20_000);
    assert.equal(fake.state.latestStatuses(v1).get("gitward/dev")?.state, "success");
    assert.equal(fake.state.latestStatuses(v1).get("gitward/prod")?.state, "pending");
    // The held revision was announced, signed with the notification secret.
    const waiting = await until("gate-waiting notification", () => notified.find((n) => n.event === "gate-waiting"), 20_000);
    assert.equal(waiting.body["environment"], "prod");
    assert.equal(waiting.body["revision"], v1);
    assert.match(String(waiting.body["message"]), /reached main without a merged pull request/);
    assert.match(waiting.signature, /^sha256=[0-9a-f]{64}$/);
  });

  it("creates a preview from a pull-request webhook, comments its address, and updates both on a push", async () => {
    const h1 = prHead(7, "preview one");
    fake.state.openPull({ number: 7, author: "carol", headSha: h1, headBranch: "change" });
    assert.equal((await hook("pull_request", pullRequestPayload("opened", 7, h1, "change"))).status, 202);
    await until("preview deployed", () => (existsSync(previewFile()) ? true : undefined), 20_000);
    assert.equal(readFileSync(previewFile(), "utf8"), "preview one\n");
    const comments = (): string[] => fake.state.pull(7).comments.filter((c) => c.body.includes("<!-- gitward:preview -->")).map((c) => c.body);
    await until("preview comment", () => (comments().length === 1 ? true : undefined), 20_000);
    assert.match(comments()[0] ?? "", /https:\/\/pr-7\.preview\.example\.com/);

    const h2 = prHead(7, "preview two");
    fake.state.push(7, { sha: h2, author: "carol", committer: "carol", message: "two" });
    assert.equal((await hook("pull_request", pullRequestPayload("synchronize", 7, h2, "change"))).status, 202);
    await until("preview updated", () => (readFileSync(previewFile(), "utf8") === "preview two\n" ? true : undefined), 20_000);
    await until("comment updated", () => (comments().length === 1 && (comments()[0] ?? "").includes(h2.slice(0, 12)) ? true : undefined), 20_000);
    assert.ok((await status()).previews?.some((p) => p.number === 7 && p.sha === h2));
    assert.deepEqual(fake.state.nonConforming(), []);
  });

  it("merging the pull request removes the preview; the merge is held for prod until alice approves", async () => {
    const merge = repo.git("rev-parse", "change").trim();
    repo.git("merge", "-q", "--no-ff", "-m", "Merge pull request #7", "change");
    const mergeSha = repo.git("rev-parse", "HEAD").trim();
    assert.notEqual(mergeSha, merge);
    fake.state.merge(7, mergeSha, "carol");
    assert.equal((await hook("pull_request", pullRequestPayload("closed", 7, merge, "change", true))).status, 202);
    await until("preview removed", () => (existsSync(join(work, "previews", "preview-7")) ? undefined : true), 20_000);
    assert.equal((await status()).previews?.some((p) => p.number === 7) ?? false, false);

    // The push of the merge to main: dev follows; prod waits for an approval from sre.
    assert.equal((await hook("push", { ref: "refs/heads/main", after: mergeSha, before: merge, repository: { full_name: "acme/infra" } })).status, 202);
    await until("dev at the merge", async () => ((await lastSync("dev"))?.revision.sha === mergeSha && (await lastSync("dev"))?.outcome === "succeeded" ? true : undefined), 20_000);
    await until("prod waiting for alice", async () => (await status()).environments.find((e) => e.name === "prod")?.approval?.reasons.includes("prod: waiting for 1 more approval from sre on #7") === true ? true : undefined, 20_000);

    fake.state.review(7, "alice");
    const review = pullRequestPayload("closed", 7, merge, "change", true);
    const reviewPayload = { ...review, action: "submitted", review: { state: "approved", user: { login: "alice" } } };
    assert.equal((await hook("pull_request_review", reviewPayload)).status, 202);
    await until("prod synced after the approval", async () => ((await lastSync("prod"))?.outcome === "succeeded" ? true : undefined), 20_000);
    assert.equal(readFileSync(join(work, "prod", "index.html"), "utf8"), "preview two\n");
    assert.match((await lastSync("prod"))?.trigger.detail ?? "", /approved: #7 by alice/);
    await until("prod status success", () => (fake.state.latestStatuses(mergeSha).get("gitward/prod")?.state === "success" ? true : undefined), 20_000);
    assert.deepEqual(fake.state.nonConforming(), []);
    // The forge token never reaches what the agent serves.
    assert.doesNotMatch(JSON.stringify(await status()), /forge-token-for-tests/);
  });
});
