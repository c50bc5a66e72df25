import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { AgentConfig } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import type { PullRequestEvent } from "../../src/agent/pr-events.ts";
import { PreviewManager } from "../../src/agent/previews.ts";
import { ProcessRunner } from "../../src/core/command-runner.ts";
import { defaultProviders } from "../../src/engine/providers.ts";
import { storeRecorder } from "../../src/engine/recorder.ts";
import { openWorkspace, type Workspace } from "../../src/engine/workspace.ts";
import { createGitHubForge } from "../../src/forge/github.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";
import { startFakeForge, type FakeForge } from "../support/fake-forge/index.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const TOKEN = "ghp_previewBotToken";
const hour = 3_600_000;

const gitwardYaml = (work: string, previews: string): string => `version: 1
environments:
  dev:
    vars: { greeting: dev }
    targets:
      edge: { provider: host, root: ${join(work, "dev-root")} }
    sync: { auto: true }
stacks:
  site:
    target: edge
    path: site
policies: policies
previews:
  from: dev
  ttl: 72h
  url: https://pr-\${pr}.preview.example.com
  vars: { greeting: "pr \${pr} on \${branch}" }
${previews}`;

const site = (text: string): Record<string, string> => ({
  "site/index.yaml": `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec:\n  path: index.html\n  content: "${text} \${greeting}\\n"\n`,
});

const policy = `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: no-forbidden }
spec:
  match: { resources: [{ apiGroups: ["host.gitward.dev"], kinds: ["File"] }] }
  validations:
    - expression: "!object.spec.content.contains('forbidden')"
      message: "no forbidden content"
`;

describe("preview environments on a host target", () => {
  let work: string;
  let repo: TestRepo;
  let fake: FakeForge;
  let store: Store;
  let clock: FakeClock;
  let ws: Workspace;
  let managers: PreviewManager[];

  const previewsRoot = (): string => join(work, "previews");
  const live = (env: string): string => readFileSync(join(previewsRoot(), env, "index.html"), "utf8");
  const comments = (n: number): string[] => fake.state.pull(n).comments.map((c) => c.body);

  /** A commit on branch `branch` published as pull request `n`'s head ref, as GitHub keeps it. */
  const pushPr = (n: number, branch: string, files: Record<string, string>): string => {
    const exists = repo.git("branch", "--list", branch) !== "";
    repo.git("checkout", "-q", ...(exists ? [branch] : ["-b", branch]));
    const sha = repo.commit(files, `change on ${branch}`);
    repo.git("update-ref", `refs/pull/${n}/head`, sha);
    repo.git("checkout", "-q", "main");
    return sha;
  };

  const manager = (targets: AgentConfig["targets"] = { "previews/edge": { root: previewsRoot() } }): PreviewManager => {
    const m = new PreviewManager({
      forge: createGitHubForge({ kind: "github", apiUrl: fake.apiUrl, repository: "acme/infra", token: TOKEN, retries: 0 }),
      repo: repo.dir, cacheDir: join(work, "cache"), runner: new ProcessRunner(), workspace: () => Promise.resolve(ws), configPath: "gitward.yaml",
      branch: "main", providers: defaultProviders(), targets, store, recorder: storeRecorder(store, { clock }), clock,
      logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }),
    });
    managers.push(m);
    return m;
  };
  const event = (action: PullRequestEvent["action"], number = 7): PullRequestEvent => ({ action, number, labels: [], repositories: [], sender: "alice" });

  const setUp = async (previews = ""): Promise<void> => {
    repo.commit({ "gitward.yaml": gitwardYaml(work, previews), "policies/p.yaml": policy, ...site("Hello") }, "base");
    ws = await openWorkspace({ repo: repo.dir, cacheDir: join(work, "cache"), noCache: true, allowRemoteBases: false });
  };

  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-previews-"));
    mkdirSync(join(work, "previews"));
    repo = makeRepo();
    fake = await startFakeForge("github");
    fake.state.addUser("gitward-bot", TOKEN);
    store = await openStore("sqlite::memory:");
    clock = new FakeClock();
    managers = [];
  });
  afterEach(async () => {
    assert.deepEqual(fake.state.nonConforming(), []);
    for (const m of managers) await m.close();
    await ws.close();
    await store.close();
    await fake.close();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("creates a preview on a pull request event, updates it and its one comment on a push, and removes everything when it closes", async () => {
    await setUp();
    const first = pushPr(7, "feat/Login", site("Hi"));
    fake.state.openPull({ number: 7, author: "alice", headSha: first, headBranch: "feat/Login" });
    const m = manager();
    await m.handle(event("opened"));
    assert.equal(live("preview-7"), "Hi pr 7 on feat-login\n");
    assert.equal(existsSync(join(work, "dev-root")), false, "the template environment's root is never touched");
    assert.equal(comments(7).length, 1);
    assert.match(comments(7)[0] ?? "", /<!-- gitward:preview -->/);
    assert.match(comments(7)[0] ?? "", /https:\/\/pr-7\.preview\.example\.com/);
    assert.match(comments(7)[0] ?? "", new RegExp(first.slice(0, 12)));
    assert.match(comments(7)[0] ?? "", /\| site \| edge \| succeeded \|/);
    assert.deepEqual(m.list().map((p) => [p.number, p.environment, p.sha, p.state]), [[7, "preview-7", first, "deployed"]]);
    const rows = await store.listSyncs({ environment: "preview-7" });
    assert.deepEqual(rows.map((r) => [r.stack, r.outcome, r.trigger.kind, r.revision.sha]), [["site", "succeeded", "webhook", first]]);

    const second = pushPr(7, "feat/Login", site("Bonjour"));
    fake.state.push(7, { sha: second, author: "alice", committer: "alice", message: "again" });
    await m.handle(event("synchronized"));
    assert.equal(live("preview-7"), "Bonjour pr 7 on feat-login\n");
    assert.equal(comments(7).length, 1, "the same comment is updated");
    assert.match(comments(7)[0] ?? "", new RegExp(second.slice(0, 12)));

    fake.state.close(7);
    await m.handle(event("closed"));
    assert.equal(existsSync(join(previewsRoot(), "preview-7")), false, "files and inventory are gone");
    assert.equal(comments(7).length, 1);
    assert.match(comments(7)[0] ?? "", /Destroyed.*pull request closed.*1 object\(s\) removed/);
    assert.deepEqual(m.list(), []);
    const audit = await store.listAudit({ limit: 100 });
    assert.ok(audit.some((a) => a.kind === "preview-destroyed" && a.environment === "preview-7"));
    const last = (await store.listSyncs({ environment: "preview-7" }))[0];
    assert.equal(last?.outcome, "succeeded");
    assert.match(last?.trigger.detail ?? "", /^preview destroyed/);
  });

  it("sweep deploys open pull requests carrying a label, and destroys one whose label is gone", async () => {
    await setUp("  labels: [preview]\n");
    const sha = pushPr(3, "three", site("Three"));
    const other = pushPr(4, "four", site("Four"));
    fake.state.openPull({ number: 3, author: "alice", headSha: sha, headBranch: "three", labels: ["preview"] });
    fake.state.openPull({ number: 4, author: "bob", headSha: other, headBranch: "four", labels: ["infra"] });
    const m = manager();
    await m.sweep();
    assert.deepEqual(m.list().map((p) => p.number), [3]);
    assert.equal(live("preview-3"), "Three pr 3 on three\n");
    assert.equal(existsSync(join(previewsRoot(), "preview-4")), false);
    assert.equal(comments(4).length, 0);
    fake.state.pull(3).labels = [];
    await m.handle(event("unlabeled", 3));
    assert.equal(existsSync(join(previewsRoot(), "preview-3")), false);
    assert.match(comments(3)[0] ?? "", /Destroyed\*\* \(out of scope \(labels\)\)/);
  });

  it("destroys a preview when its time to live passes, and does not bring it back until the next push", async () => {
    await setUp();
    const sha = pushPr(5, "five", site("Five"));
    fake.state.openPull({ number: 5, author: "alice", headSha: sha, headBranch: "five" });
    const m = manager();
    await m.sweep();
    assert.equal(live("preview-5"), "Five pr 5 on five\n");
    clock.time += 71 * hour;
    await m.sweep();
    assert.equal(live("preview-5"), "Five pr 5 on five\n", "not yet");
    clock.time += 2 * hour;
    await m.sweep();
    assert.equal(existsSync(join(previewsRoot(), "preview-5")), false);
    assert.match(comments(5)[0] ?? "", /time to live passed/);
    await m.sweep();
    assert.equal(existsSync(join(previewsRoot(), "preview-5")), false, "the same head is not deployed again");
    const next = pushPr(5, "five", site("Again"));
    fake.state.push(5, { sha: next, author: "alice", committer: "alice", message: "again" });
    await m.sweep();
    assert.equal(live("preview-5"), "Again pr 5 on five\n");
  });

  it("fails with the key to add when the agent has no previews/<target> credentials, never using the template's", async () => {
    await setUp();
    const sha = pushPr(7, "feat", site("Hi"));
    fake.state.openPull({ number: 7, author: "alice", headSha: sha, headBranch: "feat" });
    const m = manager({ "dev/edge": { root: join(work, "dev-root") }, edge: { root: join(work, "bare-root") } });
    await m.handle(event("opened"));
    assert.equal(existsSync(join(work, "dev-root")), false);
    assert.equal(existsSync(join(work, "bare-root")), false);
    const row = (await store.listSyncs({ environment: "preview-7" }))[0];
    assert.equal(row?.outcome, "failed");
    assert.match(row?.error ?? "", /targets\."previews\/edge"/);
    assert.match(comments(7)[0] ?? "", /\| site \| edge \| failed: .*previews\/edge/);
    assert.equal(m.list()[0]?.state, "failed");
  });

  it("refuses a preview a deny policy refuses, as for any environment", async () => {
    await setUp();
    const sha = pushPr(8, "bad", site("forbidden"));
    fake.state.openPull({ number: 8, author: "mallory", headSha: sha, headBranch: "bad" });
    const m = manager();
    await m.handle(event("opened", 8));
    assert.equal(existsSync(join(previewsRoot(), "preview-8", "index.html")), false);
    const row = (await store.listSyncs({ environment: "preview-8" }))[0];
    assert.equal(row?.outcome, "failed");
    assert.match(row?.error ?? "", /policy denial.*no forbidden content/);
    assert.match(comments(8)[0] ?? "", /refused/);
  });

  it("refuses a head that is not the one the forge reports", async () => {
    await setUp();
    pushPr(9, "nine", site("Nine"));
    fake.state.openPull({ number: 9, author: "alice", headSha: "f".repeat(40), headBranch: "nine" });
    const m = manager();
    await m.handle(event("opened", 9));
    assert.equal(existsSync(join(previewsRoot(), "preview-9")), false);
    assert.match(comments(9)[0] ?? "", /Not deployed:.*the forge says its head is ffffffffffff/);
  });

  it("finds its previews again after a restart, from history, and destroys the one whose pull request closed meanwhile", async () => {
    await setUp();
    const sha = pushPr(7, "feat", site("Hi"));
    fake.state.openPull({ number: 7, author: "alice", headSha: sha, headBranch: "feat" });
    await manager().handle(event("opened"));
    assert.equal(live("preview-7"), "Hi pr 7 on feat\n");
    fake.state.close(7);
    const restarted = manager();
    await restarted.sweep();
    assert.equal(existsSync(join(previewsRoot(), "preview-7")), false);
    assert.match(comments(7)[0] ?? "", /Destroyed/);
  });
});
