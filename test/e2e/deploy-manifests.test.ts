import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { KubeClient } from "../../src/providers/kubernetes/client.ts";
import { readTreeFiles, runCli } from "../support/cli.ts";
import { testCluster, type TestCluster } from "../support/fake-apiserver.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

// deploy/ as a platform engineer uses it: gitward validates the example overlay, kustomize renders
// every variant, and gitward apply puts it into a cluster (the fake API server, or a real one with
// GITWARD_TEST_KUBECONFIG; there it creates the namespaces gitward and shop and a ClusterRole,
// removed after).

const gitwardYaml = `version: 1
environments:
  ops:
    targets: { cluster: { provider: kubernetes, namespace: gitward } }
stacks:
  gitward:
    target: cluster
    path: deploy/overlays/example
  gitward-cluster-rbac:
    target: cluster
    path: deploy/overlays/cluster
`;

interface ApplyJson {
  ok: boolean;
  counts: Record<string, number>;
}

function kustomize(dir: string): Record<string, unknown>[] {
  const out = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
  return out.split(/^---$/m).map((d) => parse(d) as Record<string, unknown>).filter((d) => d !== null);
}

const byKind = (docs: readonly Record<string, unknown>[], kind: string): Record<string, unknown>[] => docs.filter((d) => d["kind"] === kind);

describe("the deploy/ manifests", () => {
  let cluster: TestCluster;
  let repo: TestRepo;
  let cache: string;
  let client: KubeClient;
  const files = readTreeFiles("deploy");

  before(async () => {
    cluster = await testCluster();
    client = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
    cache = mkdtempSync(join(tmpdir(), "gitward-deploy-cache-"));
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": gitwardYaml,
      ...Object.fromEntries(Object.entries(files).map(([p, text]) => [`deploy/${p}`, text])),
      // The cluster-wide RBAC as an overlay would choose it, on its own (the agent's objects come from the example), so both components are applied.
      "deploy/overlays/cluster/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ncomponents:\n  - ../../rbac/cluster\n",
    });
  });
  after(async () => {
    if (cluster.fake === undefined) {
      for (const name of ["shop", "gitward"]) await client.delete({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name }).catch(() => undefined);
      for (const [resource, kind] of [["clusterroles", "ClusterRole"], ["clusterrolebindings", "ClusterRoleBinding"]] as const) {
        await client.delete({ group: "rbac.authorization.k8s.io", version: "v1", resource, kind, name: "gitward-agent" }).catch(() => undefined);
      }
    }
    client.close();
    await cluster.close();
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  it("give agent configurations the agent accepts", () => {
    for (const path of ["base/agent.yaml", "overlays/example/agent.yaml"]) {
      const parsed = agentConfigSchema.safeParse(parse(files[path] ?? ""));
      assert.ok(parsed.success, `${path}: ${parsed.error?.message ?? ""}`);
      assert.equal(parsed.data.listen, "0.0.0.0:8080", `${path}: the probes and the Service reach the agent on 8080`);
      assert.equal(parsed.data.cacheDir, "/var/cache/gitward", `${path}: the cache is the writable emptyDir`);
    }
  });

  it("render with kustomize: a hardened agent of two replicas with probes, its state URL from a Secret", () => {
    const docs = kustomize(join(repo.dir, "deploy/overlays/example"));
    const [deployment] = byKind(docs, "Deployment") as [{ spec: { replicas: number; template: { spec: Record<string, unknown> } } }];
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec as { serviceAccountName: string; securityContext: Record<string, unknown>; containers: Record<string, unknown>[] };
    assert.equal(pod.serviceAccountName, "gitward");
    assert.deepEqual(pod.securityContext["seccompProfile"], { type: "RuntimeDefault" });
    assert.equal(pod.securityContext["runAsNonRoot"], true);
    const [agent] = pod.containers as [Record<string, unknown>];
    assert.equal(agent["image"], "ghcr.io/gitward/gitward:0.1.0");
    assert.deepEqual(agent["args"], ["agent", "--config=/etc/gitward/agent.yaml", "--state=$(GITWARD_STATE)"]);
    assert.deepEqual((agent["env"] as unknown[])[0], { name: "GITWARD_STATE", valueFrom: { secretKeyRef: { name: "gitward-state", key: "url" } } });
    assert.deepEqual(agent["securityContext"], {
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
    });
    assert.equal((agent["livenessProbe"] as { httpGet: { path: string } }).httpGet.path, "/healthz");
    assert.equal((agent["readinessProbe"] as { httpGet: { path: string } }).httpGet.path, "/readyz");
    assert.deepEqual(byKind(docs, "Role").map((r) => `${(r["metadata"] as { namespace: string }).namespace}/${(r["metadata"] as { name: string }).name}`).sort(), ["gitward/gitward-inventory", "shop/gitward-apply"]);
    assert.equal(byKind(docs, "ClusterRole").length, 0, "namespaced RBAC grants nothing cluster-wide");
    assert.equal(byKind(docs, "Secret").length, 0, "no secret in Git");
    const cm = byKind(docs, "ConfigMap")[0] as { data: Record<string, string> };
    assert.match(cm.data["agent.yaml"] ?? "", /environments: \[prod\]/);
    const clusterWide = kustomize(join(repo.dir, "deploy/overlays/cluster"));
    assert.deepEqual(clusterWide.map((d) => d["kind"]), ["ClusterRole", "ClusterRoleBinding"]);
    assert.deepEqual((clusterWide[0] as { rules: unknown[] }).rules, [{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "list", "create", "patch", "delete"] }]);
  });

  it("pass gitward validate", async () => {
    const r = await runCli(["validate", "--repo", repo.dir, "--cache-dir", cache]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it("are applied by gitward apply, and a second apply changes nothing", async () => {
    const cli = (): ReturnType<typeof runCli> =>
      runCli(["apply", "-o", "json", "--repo", repo.dir, "--env", "ops", "--kubeconfig", cluster.kubeconfigPath, "--context", cluster.context, "--cache-dir", cache, "-q"]);
    const first = await cli();
    assert.equal(first.code, 0, first.stderr);
    const doc = JSON.parse(first.stdout) as ApplyJson;
    assert.equal(doc.ok, true);
    assert.equal(doc.counts["created"], 13, first.stdout);
    const live = (await client.getJson("/apis/apps/v1/namespaces/gitward/deployments/gitward")) as { spec: { replicas: number } };
    assert.equal(live.spec.replicas, 2);
    const role = (await client.getJson("/apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles/gitward-apply")) as { rules: unknown[] };
    assert.equal(role.rules.length, 6);
    const inventory = (await client.getJson("/api/v1/namespaces/gitward/configmaps")) as { items: { metadata: { name: string; labels?: Record<string, string> } }[] };
    assert.ok(inventory.items.some((c) => c.metadata.labels?.["app.kubernetes.io/managed-by"] === "gitward"), "inventories kept in the agent's namespace");
    const second = JSON.parse((await cli()).stdout) as ApplyJson;
    assert.equal(second.counts["unchanged"], 13);
  });
});
