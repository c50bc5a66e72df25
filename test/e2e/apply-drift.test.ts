import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KubeClient } from "../../src/providers/kubernetes/client.ts";
import { runCli } from "../support/cli.ts";
import { testCluster, type TestCluster } from "../support/fake-apiserver.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

// Issue 11, through the CLI: an unchanged re-apply of objects with non-canonical quantities
// writes nothing; a `kubectl patch` is taken back and reported; another applier's field is a
// conflict until --force-conflicts.

const ns = `gw-e2e-drift-${process.pid}`;
const gitwardYaml = `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
stacks:
  app:
    target: cluster
    path: app
    namespace: ${ns}
`;
const manifests = {
  "app/ns.yaml": `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`,
  "app/web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  minReadySeconds: 3
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: nginx:1.25
          resources:
            limits: { cpu: 1000m, memory: 1024Mi }
            requests: { cpu: 0.5, memory: 128974848 }
`,
  "app/limits.yaml": `apiVersion: v1
kind: LimitRange
metadata:
  name: limits
spec:
  limits:
    - type: Container
      default: { cpu: 2000m, memory: 512Mi }
`,
  "app/settings.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n`,
};

interface Entry {
  ref: { kind: string; name: string };
  action: string;
  message?: string;
}
interface ApplyJson {
  ok: boolean;
  counts: Record<string, number>;
  stacks: { entries: Entry[] }[];
}

describe("gitward apply against normalized values and hand edits", () => {
  let cluster: TestCluster;
  let repo: TestRepo;
  let cache: string;
  let client: KubeClient;
  let kubectl: KubeClient;
  const cli = (...args: string[]): ReturnType<typeof runCli> =>
    runCli([...args, "--repo", repo.dir, "--env", "dev", "--kubeconfig", cluster.kubeconfigPath, "--context", cluster.context, "--cache-dir", cache, "-q"]);
  const applyJson = async (...args: string[]): Promise<{ code: number; doc: ApplyJson; stderr: string }> => {
    const r = await cli("apply", "-o", "json", ...args);
    return { code: r.code, doc: JSON.parse(r.stdout || "{}") as ApplyJson, stderr: r.stderr };
  };
  type Live = { metadata: { generation: number; managedFields: { manager: string }[] }; spec: { minReadySeconds: number } };
  const deployment = async (): Promise<Live> => (await client.getJson(`/apis/apps/v1/namespaces/${ns}/deployments/web`)) as Live;
  // Not the resourceVersion: the deployment controller's status writes move it whenever they land.
  const writtenByGitward = (d: Live): unknown => ({ generation: d.metadata.generation, gitward: d.metadata.managedFields.filter((f) => f.manager === "gitward") });

  before(async () => {
    cluster = await testCluster();
    client = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
    kubectl = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context, settings: { userAgent: "kubectl/v1.32.0 (linux/amd64) kubernetes/abcdef" } });
    cache = mkdtempSync(join(tmpdir(), "gitward-drift-cache-"));
    repo = makeRepo();
    repo.commit({ "gitward.yaml": gitwardYaml, ...manifests });
  });
  after(async () => {
    await client.delete({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: ns }, {}).catch(() => undefined);
    client.close();
    kubectl.close();
    await cluster.close();
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  it("re-applies objects with non-canonical quantities without writing anything", async () => {
    const first = await applyJson();
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.doc.counts["created"], 4);
    const before = await deployment();
    cluster.fake?.clearRequests();
    const second = await applyJson();
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(second.doc.counts, { created: 0, configured: 0, unchanged: 4, deleted: 0, skipped: 0, failed: 0 });
    assert.deepEqual(writtenByGitward(await deployment()), writtenByGitward(before), "the Deployment was not written");
    if (cluster.fake !== undefined) assert.deepEqual(cluster.fake.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`), [], "no write at all");
    assert.equal((await cli("diff", "--detailed-exitcode")).code, 0, "diff agrees");
  });

  it("takes back what kubectl patch changed, and reports it with who and when", async () => {
    await kubectl.request({
      method: "PATCH", path: `/apis/apps/v1/namespaces/${ns}/deployments/web`, query: { fieldManager: "kubectl-patch" },
      body: JSON.stringify({ spec: { minReadySeconds: 9 } }), contentType: "application/merge-patch+json",
    });
    const diff = await cli("diff", "--detailed-exitcode");
    assert.equal(diff.code, 2, diff.stderr);
    assert.match(diff.stdout, /# drift: \.spec\.minReadySeconds by kubectl-patch at \d{4}-\d\d-\d\dT/);
    const r = await cli("apply");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`configured Deployment/${ns}/web: took back \\.spec\\.minReadySeconds from kubectl-patch \\(Update\\)`));
    assert.equal((await deployment()).spec.minReadySeconds, 3);
    assert.equal((await cli("diff", "--detailed-exitcode")).code, 0);
  });

  it("reports a conflict with another applier, and takes its fields only with --force-conflicts", async () => {
    await client.applyPatch(
      { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: ns, name: "settings" },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: ns }, data: { color: "red" } },
      { fieldManager: "other-tool", force: true, dryRun: false },
    );
    const conflict = await applyJson();
    assert.equal(conflict.code, 1);
    const failed = conflict.doc.stacks[0]?.entries.find((e) => e.ref.name === "settings");
    assert.equal(failed?.action, "failed");
    assert.match(failed?.message ?? "", /conflict with "other-tool": \.data\.color; apply with --force-conflicts/);
    const live = (await client.getJson(`/api/v1/namespaces/${ns}/configmaps/settings`)) as { data: Record<string, string> };
    assert.equal(live.data["color"], "red", "not forced");
    const forced = await applyJson("--force-conflicts");
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.doc.counts["configured"], 1);
  });
});
