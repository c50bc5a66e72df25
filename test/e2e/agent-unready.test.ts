import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import { KubeClient } from "../../src/providers/kubernetes/client.ts";
import { testCluster, type TestCluster } from "../support/fake-apiserver.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { until } from "../support/until.ts";

const stacks = ["s1", "s2", "s3", "s4", "s5", "s6"];

/**
 * One unready workload must not stall the agent (issue #11): with one worker and Deployments
 * whose pods never become ready (the fake, like the recorded cluster, has no kubelet; on a real
 * cluster the image does not exist), every stack is applied at once, long before the health
 * timeout, its health is recorded progressing and then timed out, and a stack that depends on
 * one of them is skipped, not left waiting. Before, each sync held the worker for the timeout.
 */
describe("agent: Deployments that never become ready", () => {
  let work: string;
  let repo: TestRepo;
  let cluster: TestCluster;
  let running: RunningAgent;
  const ns = `gitward-unready-${process.pid}`;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-unready-"));
    cluster = await testCluster();
    const files: Record<string, string> = {
      "gitward.yaml": `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true, timeout: 8s }
stacks:
  ns: { target: cluster, path: ns }
${stacks.map((s) => `  ${s}: { target: cluster, path: ${s}, namespace: ${ns}, dependsOn: [ns] }`).join("\n")}
  after: { target: cluster, path: after, namespace: ${ns}, dependsOn: [s1] }
`,
      "ns/ns.yaml": `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${ns} }\n`,
      "after/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: after }\ndata: { a: \"1\" }\n",
    };
    for (const s of stacks) {
      files[`${s}/deploy.yaml`] = `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${s} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${s} } }
  template:
    metadata: { labels: { app: ${s} } }
    spec: { containers: [{ name: app, image: "registry.invalid/gitward/never-starts:1" }] }
`;
    }
    repo = makeRepo();
    repo.commit(files, "v1");
    running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(work, "cache"), concurrency: 1, healthTimeout: 300,
        intervals: { poll: 3600, drift: 3600, health: 1, dependencyWait: 0.5 },
        targets: { cluster: { kubeconfig: cluster.kubeconfigPath, context: cluster.context } },
      }),
      repo: repo.dir, state: `sqlite:${join(work, "state.db")}`, listen: "127.0.0.1:0",
      logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }),
    });
  });
  after(async () => {
    await running.stop();
    const client = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
    await client.delete({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: ns }, {}).catch(() => undefined);
    client.close();
    await cluster.close();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("applies every stack with one worker, well before the 8 s health timeout; they are progressing", async () => {
    const started = performance.now();
    await until("every Deployment stack applied", async () => {
      const syncs = await running.store.listSyncs({ limit: 100 });
      return stacks.every((s) => syncs.some((r) => r.stack === s && r.outcome === "succeeded"));
    }, 20_000);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 8000, `applied in ${Math.round(elapsed)} ms`);
    const status = await running.agent.status();
    const states = status.environments[0]?.stacks.filter((s) => stacks.includes(s.stack)).map((s) => s.health?.state);
    assert.ok(states?.every((h) => h === "progressing" || h === "timed-out"), JSON.stringify(states));
  });

  it("records each as timed out after the environment's timeout, with the reason, and skips the stack that depends on one", async () => {
    await until("every Deployment stack timed out", async () => {
      const status = await running.agent.status();
      return status.environments[0]?.stacks.filter((s) => stacks.includes(s.stack)).every((s) => s.health?.state === "timed-out") === true;
    }, 30_000);
    const s1 = (await running.store.listSyncs({ stack: "s1", limit: 1 }))[0];
    assert.match(s1?.health?.message ?? "", /Deployment\/gitward-unready-\d+\/s1: progressing/);
    await until("the dependent skipped", async () => (await running.store.listSyncs({ stack: "after", limit: 1 }))[0]?.outcome === "skipped", 10_000);
    assert.match((await running.store.listSyncs({ stack: "after", limit: 1 }))[0]?.error ?? "", /dependency s1 failed/);
  });
});
