import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { agentLogger } from "../../src/agent/logger.ts";
import type { PullRequestEvent } from "../../src/agent/pr-events.ts";
import { PreviewManager } from "../../src/agent/previews.ts";
import { ProcessRunner } from "../../src/core/command-runner.ts";
import { defaultProviders } from "../../src/engine/providers.ts";
import { storeRecorder } from "../../src/engine/recorder.ts";
import { openWorkspace, type Workspace } from "../../src/engine/workspace.ts";
import { createGitHubForge } from "../../src/forge/github.ts";
import { KubeClient } from "../../src/providers/kubernetes/client.ts";
import { inventoryName } from "../../src/providers/kubernetes/inventory-name.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";
import { testCluster, type TestCluster } from "../support/fake-apiserver.ts";
import { startFakeForge, type FakeForge } from "../support/fake-forge/index.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const TOKEN = "ghp_previewBotToken";
// The template's namespace; a preview's objects go to preview-<pr>-<pid> instead.
const ns = `gw-previews-dev-${process.pid}`;
const previewNs = (n: number): string => `preview-${n}-${process.pid}`;

const files = (text: string): Record<string, string> => ({
  "gitward.yaml": `version: 1
environments:
  dev:
    targets:
      cluster: { provider: kubernetes }
stacks:
  app:
    target: cluster
    path: app
    namespace: ${ns}
previews:
  from: dev
  namespace: preview-\${pr}-${process.pid}
  url: https://pr-\${pr}.preview.example.com
  vars: { text: "${text} #\${pr}" }
`,
  "app/app.yaml": `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${ns} }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: greeting, namespace: ${ns} }\ndata: { text: "\${text}" }\n`,
});

describe("preview environments on Kubernetes (the fake API server, or GITWARD_TEST_KUBECONFIG)", () => {
  let work: string;
  let repo: TestRepo;
  let fake: FakeForge;
  let store: Store;
  let cluster: TestCluster;
  let client: KubeClient;
  let ws: Workspace;
  let manager: PreviewManager;

  const pushPr = (n: number, text: string): string => {
    const exists = repo.git("branch", "--list", "feat") !== "";
    repo.git("checkout", "-q", ...(exists ? ["feat"] : ["-b", "feat"]));
    const sha = repo.commit(files(text), `change ${text}`);
    repo.git("update-ref", `refs/pull/${n}/head`, sha);
    repo.git("checkout", "-q", "main");
    return sha;
  };
  const get = async (path: string): Promise<unknown> => {
    try {
      return await client.getJson(path);
    } catch (e: unknown) {
      if ((e as { kind?: string }).kind === "NotFound") return undefined;
      throw e;
    }
  };
  const event = (action: PullRequestEvent["action"]): PullRequestEvent => ({ action, number: 11, labels: [], repositories: [] });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-previews-k8s-"));
    repo = makeRepo();
    repo.commit(files("base"), "base");
    cluster = await testCluster();
    client = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
    fake = await startFakeForge("github");
    fake.state.addUser("gitward-bot", TOKEN);
    store = await openStore("sqlite::memory:");
    ws = await openWorkspace({ repo: repo.dir, cacheDir: join(work, "cache"), noCache: true, allowRemoteBases: false });
    const clock = new FakeClock();
    manager = new PreviewManager({
      forge: createGitHubForge({ kind: "github", apiUrl: fake.apiUrl, repository: "acme/infra", token: TOKEN, retries: 0 }),
      repo: repo.dir, cacheDir: join(work, "cache"), runner: new ProcessRunner(), workspace: () => Promise.resolve(ws), configPath: "gitward.yaml",
      branch: "main", providers: defaultProviders(), targets: { "previews/cluster": { kubeconfig: cluster.kubeconfigPath, context: cluster.context } },
      store, recorder: storeRecorder(store, { clock }), clock, logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }),
    });
  });
  after(async () => {
    await manager.close();
    await client.delete({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: previewNs(11) }, {}).catch(() => undefined);
    client.close();
    await cluster.close();
    await ws.close();
    await store.close();
    await fake.close();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("creates the preview in its own namespace, updates it on a push, and removes its objects and inventory when the pull request closes", async () => {
    const first = pushPr(11, "hello");
    fake.state.openPull({ number: 11, author: "alice", headSha: first, headBranch: "feat" });
    await manager.handle(event("opened"));
    assert.deepEqual(manager.list().map((p) => [p.environment, p.state]), [["preview-11", "deployed"]]);
    const cm = (await get(`/api/v1/namespaces/${previewNs(11)}/configmaps/greeting`)) as { data: { text: string } } | undefined;
    assert.equal(cm?.data.text, "hello #11");
    assert.equal(await get(`/api/v1/namespaces/${ns}/configmaps/greeting`), undefined, "nothing in the template's namespace");
    const comment = (): string => fake.state.pull(11).comments.map((c) => c.body).join("\n---\n");
    assert.match(comment(), /https:\/\/pr-11\.preview\.example\.com/);

    const second = pushPr(11, "again");
    fake.state.push(11, { sha: second, author: "alice", committer: "alice", message: "again" });
    await manager.handle(event("synchronized"));
    const updated = (await get(`/api/v1/namespaces/${previewNs(11)}/configmaps/greeting`)) as { data: { text: string } } | undefined;
    assert.equal(updated?.data.text, "again #11");
    assert.equal(fake.state.pull(11).comments.length, 1);
    assert.match(comment(), new RegExp(second.slice(0, 12)));

    fake.state.close(11);
    await manager.handle(event("closed"));
    assert.equal(await get(`/api/v1/namespaces/${previewNs(11)}/configmaps/greeting`), undefined);
    const inventory = inventoryName({ environment: "preview-11", stack: "app" });
    assert.equal(await get(`/api/v1/namespaces/gitward-system/configmaps/${inventory}`), undefined, "the inventory is deleted");
    assert.match(comment(), /Destroyed/);
    assert.deepEqual(manager.list(), []);
    assert.deepEqual(fake.state.nonConforming(), []);
  });
});
