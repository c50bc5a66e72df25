import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import type { AgentStatus } from "../../src/agent/agent.ts";
import { KubeClient } from "../../src/providers/kubernetes/client.ts";
import type { SyncRow } from "../../src/store/store.ts";
import { testCluster, type TestCluster } from "../support/fake-apiserver.ts";
import { createBareRemote, startGitHttpServer, type BareRemote, type GitServer } from "../support/git-server.ts";
import { runCli } from "../support/cli.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { until } from "../support/until.ts";

const secret = "webhook-secret-for-tests";
const ns = `gw-agent-${process.pid}`;

describe("gitward agent end to end: Git server, webhooks, polling, host and Kubernetes targets", () => {
  let work: string;
  let gitRoot: string;
  let server: GitServer;
  let repo: TestRepo;
  let remote: BareRemote;
  let cluster: TestCluster;
  let client: KubeClient;
  let running: RunningAgent;
  let statePath: string;

  const config = (greeting: string, extra = ""): Record<string, string> => ({
    "gitward.yaml": `version: 1
environments:
  dev:
    vars: { greeting: "${greeting}" }
    targets:
      web: { provider: host, root: ${join(work, "dev")} }
      cluster: { provider: kubernetes }
    sync: { auto: true, prune: true, selfHeal: true }
  prod:
    vars: { greeting: "${greeting} (prod)" }
    targets:
      web: { provider: host, root: ${join(work, "prod")} }
      cluster: { provider: kubernetes }
    sync: { auto: true, prune: true, selfHeal: false }
stacks:
  site:
    target: web
    path: site
  app:
    target: cluster
    path: app
    namespace: ${ns}
    environments:
      prod: { enabled: false }
${extra}`,
    "site/index.yaml": "apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec:\n  path: index.html\n  content: \"<h1>${greeting}</h1>\\n\"\n",
    "app/cm.yaml": `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${ns} }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: greeting }\ndata: { text: "\${greeting}" }\n`,
  });
  const live = (env: string): string => readFileSync(join(work, env, "index.html"), "utf8");
  const history = async (query = ""): Promise<SyncRow[]> => ((await (await fetch(`${running.url}/api/v1/history?limit=200${query}`)).json()) as { items: SyncRow[] }).items;
  const status = async (): Promise<AgentStatus> => (await (await fetch(`${running.url}/api/v1/status`)).json()) as AgentStatus;
  const hook = (body: object, sig?: string): Promise<Response> => {
    const raw = JSON.stringify(body);
    return fetch(`${running.url}/hooks/git`, {
      method: "POST", body: raw,
      headers: { "content-type": "application/json", "x-gitward-signature": sig ?? `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}` },
    });
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-agent-e2e-"));
    for (const d of ["dev", "prod", "git"]) mkdirSync(join(work, d));
    gitRoot = join(work, "git");
    statePath = join(work, "state.db");
    cluster = await testCluster();
    client = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
    server = await startGitHttpServer(gitRoot);
    repo = makeRepo();
    repo.commit(config("Hello"), "first version");
    remote = createBareRemote(gitRoot, "infra", repo);
    remote.push();
    process.env["GITWARD_WEBHOOK_SECRET"] = secret;
    process.env["GITWARD_API_TOKEN"] = "api-token-for-tests";
    running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(work, "cache"), concurrency: 4, api: { anonymousRead: true },
        // Polling is slow here, so the webhook test proves the webhook did it.
        intervals: { poll: 3600, drift: 3600, retryBase: 0.2, retryMax: 1, dependencyWait: 0.1 },
        targets: { cluster: { kubeconfig: cluster.kubeconfigPath, context: cluster.context } },
      }),
      repo: `${server.url}/${remote.name}`, branch: "main", state: `sqlite:${statePath}`, listen: "127.0.0.1:0", healthTimeoutSeconds: 20,
      logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }),
    });
  });
  after(async () => {
    await running.stop();
    await client.delete({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: ns }, {}).catch(() => undefined);
    client.close();
    await cluster.close();
    await server.close();
    repo.remove();
    delete process.env["GITWARD_WEBHOOK_SECRET"];
    delete process.env["GITWARD_API_TOKEN"];
    rmSync(work, { recursive: true, force: true });
  });

  it("syncs every served stack at start: host files and Kubernetes objects", async () => {
    await running.agent.idle();
    assert.equal(live("dev"), "<h1>Hello</h1>\n");
    assert.equal(live("prod"), "<h1>Hello (prod)</h1>\n");
    const cm = (await client.getJson(`/api/v1/namespaces/${ns}/configmaps/greeting`)) as { data: { text: string } };
    assert.equal(cm.data.text, "Hello");
    const rows = await history();
    assert.deepEqual(rows.map((r) => `${r.environment}/${r.stack}:${r.outcome}:${r.trigger.kind}`).sort(), ["dev/app:succeeded:startup", "dev/site:succeeded:startup", "prod/site:succeeded:startup"]);
    assert.equal(rows[0]?.revision.author, "Test Author");
  });

  it("answers a browser at / with the web UI (make build ran before the tests), under a same-origin CSP without inline scripts", async () => {
    const res = await fetch(`${running.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline'[^;]*script|script-src[^;]*unsafe-inline/);
    const html = await res.text();
    assert.match(html, /<div id="root"/);
    // Every script is a file of the build, none inline.
    for (const m of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/gi)) {
      assert.match(m[1] ?? "", /src="\/assets\//);
      assert.equal((m[2] ?? "").trim(), "");
    }
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset !== undefined, html);
    const js = await fetch(`${running.url}${asset}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get("cache-control") ?? "", /max-age=31536000/);
  });

  it("a forged webhook is refused with 401 and triggers nothing", async () => {
    repo.commit(config("Forged"), "not announced");
    remote.push();
    const before = (await history()).length;
    const res = await hook({ ref: "refs/heads/main", after: repo.git("rev-parse", "HEAD") }, `sha256=${createHmac("sha256", "wrong").update("x").digest("hex")}`);
    assert.equal(res.status, 401);
    await new Promise((r) => setTimeout(r, 300));
    await running.agent.idle();
    assert.equal((await history()).length, before);
    assert.equal(live("dev"), "<h1>Hello</h1>\n");
  });

  it("a signed webhook for the branch syncs the pushed commit; history names the trigger and the author", async () => {
    const sha = repo.git("rev-parse", "HEAD");
    const res = await hook({ ref: "refs/heads/main", after: sha, pusher: "alice" });
    assert.equal(res.status, 202, await res.text());
    await until("dev synced by the webhook", async () => live("dev") === "<h1>Forged</h1>\n" && (await running.agent.idle(), true));
    const rows = await history("&environment=dev&stack=site");
    assert.equal(rows[0]?.revision.sha, sha);
    assert.equal(rows[0]?.trigger.kind, "webhook");
    assert.equal(rows[0]?.trigger.by, "alice");
    assert.equal(rows[0]?.revision.message, "not announced");
    const other = await hook({ ref: "refs/heads/feature", after: sha });
    assert.equal(other.status, 200, "a push to another branch is acknowledged and ignored");
    assert.match(await other.text(), /ignored/);
  });

  it("a manual sync through the API needs the token and is audited", async () => {
    const denied = await fetch(`${running.url}/api/v1/sync`, { method: "POST", body: JSON.stringify({ environment: "dev" }), headers: { "content-type": "application/json" } });
    assert.equal(denied.status, 401);
    const ok = await fetch(`${running.url}/api/v1/sync`, {
      method: "POST", body: JSON.stringify({ environment: "dev", stack: "site", by: "bob" }),
      headers: { "content-type": "application/json", authorization: "Bearer api-token-for-tests" },
    });
    assert.equal(ok.status, 202);
    await running.agent.idle();
    const rows = await history("&environment=dev&stack=site");
    assert.equal(rows[0]?.trigger.kind, "manual");
    // Who authenticated (the token) is the actor; the name in the body is only a claim.
    assert.equal(rows[0]?.trigger.by, "api-token");
    assert.equal(rows[0]?.trigger.detail, "API, claimed by bob");
    const audit = await running.store.listAudit({ limit: 1000 });
    assert.ok(audit.some((a) => a.kind === "manual-trigger" && a.actor === "api-token" && a.details["claimedBy"] === "bob"));
    assert.equal((await running.store.verifyAudit()).ok, true);
  });

  it("a revision that fails checks is not applied: the last good revision stays and the failure is visible", async () => {
    const good = repo.git("rev-parse", "HEAD");
    repo.commit({ "site/index.yaml": "apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec:\n  path: ../escape.html\n  content: x\n" }, "bad path");
    remote.push();
    const res = await hook({ ref: "refs/heads/main", after: repo.git("rev-parse", "HEAD") });
    assert.equal(res.status, 202);
    const s = await until("the bad revision refused", async () => {
      await running.agent.idle();
      const st = await status();
      return st.refused?.revision === repo.git("rev-parse", "HEAD") ? st : undefined;
    });
    assert.match(s.refused?.reasons.join("\n") ?? "", /escapes the target root/);
    assert.equal(live("dev"), "<h1>Forged</h1>\n", "files unchanged");
    const site = s.environments.find((e) => e.name === "dev")?.stacks.find((x) => x.stack === "site");
    assert.equal(site?.current, good, "still on the last good revision");
    assert.equal(site?.lastSync?.outcome, "failed");
    assert.match(site?.lastSync?.error ?? "", /revision not applied/);
  });

  it("drift: dev (self-heal) is corrected and recorded; prod (no self-heal) is only reported", async () => {
    repo.commit(config("Fixed"), "fix the path");
    remote.push();
    await hook({ ref: "refs/heads/main", after: repo.git("rev-parse", "HEAD") });
    await until("fixed revision synced", async () => (await running.agent.idle(), live("prod") === "<h1>Fixed (prod)</h1>\n"));
    writeFileSync(join(work, "dev", "index.html"), "tampered\n");
    writeFileSync(join(work, "prod", "index.html"), "tampered\n");
    // The drift timer is an hour here; a manual trigger of the drift sweep is what the timer does.
    await running.agent.checkDrift();
    await running.agent.idle();
    assert.equal(live("dev"), "<h1>Fixed</h1>\n", "dev corrected");
    assert.equal(live("prod"), "tampered\n", "prod left as found");
    const drift = await running.store.listDrift({ limit: 50 });
    const dev = drift.find((d) => d.environment === "dev" && d.stack === "site");
    const prod = drift.find((d) => d.environment === "prod" && d.stack === "site");
    assert.equal(dev?.corrected, true);
    assert.equal(prod?.corrected, false);
    assert.deepEqual(prod?.fields.map((f) => f.field), ["content"]);
    const st = await status();
    assert.equal(st.environments.find((e) => e.name === "prod")?.stacks.find((x) => x.stack === "site")?.drift, 1);
    const rows = await history("&environment=dev&stack=site");
    assert.equal(rows[0]?.trigger.kind, "drift");
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    assert.match(metrics, /gitward_drift_objects\{environment="prod",stack="site"\} 1/);
    assert.match(metrics, /gitward_syncs_total\{environment="dev",stack="site",result="succeeded"\} \d+/);
  });

  it("rollback: a bad commit is synced, `gitward rollback --steps 1 --push` reverts it, the agent syncs the revert; history shows both", async () => {
    // A change to dev alone (its variable, used by both its stacks): a rollback of dev reverts it without touching prod.
    const fixed = config("Fixed")["gitward.yaml"] ?? "";
    const bad = repo.commit({ "gitward.yaml": fixed.replace('vars: { greeting: "Fixed" }', 'vars: { greeting: "broken page" }') }, "dev: a bad page");
    remote.push();
    await hook({ ref: "refs/heads/main", after: bad });
    await until("the bad page synced", async () => (await running.agent.idle(), live("dev") === "<h1>broken page</h1>\n"));
    // git http-backend accepts pushes only when the repository allows them.
    execFileSync("git", ["-C", remote.dir, "config", "http.receivepack", "true"]);
    const r = await runCli(["rollback", "--repo", `${server.url}/${remote.name}`, "--env", "dev", "--steps", "1", "--reason", "the page is broken", "--push", "--no-cache", "-o", "json"], {
      env: { GIT_AUTHOR_NAME: "Rolling Back", GIT_AUTHOR_EMAIL: "sre@example.com", GIT_COMMITTER_NAME: "Rolling Back", GIT_COMMITTER_EMAIL: "sre@example.com" },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const revert = (JSON.parse(r.stdout) as { commit: string }).commit;
    await hook({ ref: "refs/heads/main", after: revert, pusher: "Rolling Back" });
    await until("the revert synced", async () => (await running.agent.idle(), live("dev") === "<h1>Fixed</h1>\n"));
    const rows = await history("&environment=dev&stack=site");
    assert.equal(rows[0]?.revision.sha, revert);
    assert.equal(rows[0]?.revision.author, "Rolling Back");
    assert.match(rows[0]?.revision.message ?? "", /^Rollback dev: revert /);
    assert.deepEqual([rows[0]?.trigger.kind, rows[0]?.trigger.by], ["rollback", "Rolling Back"], "the revert's sync is recorded as a rollback, by its author");
    assert.equal(rows.find((x) => x.revision.sha === bad)?.outcome, "succeeded", "the bad commit's sync stays in history");
    const audit = await running.store.listAudit({ limit: 1000 });
    assert.ok(audit.some((a) => a.kind === "rollback" && a.revision === revert && a.actor === "Rolling Back"), "the rollback is audited");
  });

  it("with the Git server down, the environments stay and status says stale", async () => {
    await server.close();
    await assert.rejects(running.agent.trigger({ kind: "manual", by: "test" }));
    const s = await status();
    assert.ok(s.stale !== undefined, "stale reported");
    assert.match(s.stale.error, /cannot read/);
    assert.equal(live("dev"), "<h1>Fixed</h1>\n");
    const ready = await fetch(`${running.url}/readyz`);
    assert.equal(ready.status, 200, "one failed poll does not make the agent unready");
    assert.equal((await fetch(`${running.url}/healthz`)).status, 200);
    server = await startGitHttpServer(gitRoot);
  });
});
