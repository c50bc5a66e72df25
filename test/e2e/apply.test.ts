import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KubeClient } from "../../src/providers/kubernetes/client.ts";
import { runCli } from "../support/cli.ts";
import { testCluster, type TestCluster } from "../support/fake-apiserver.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const ns = `gw-e2e-${process.pid}`;
const gitwardYaml = (prune: boolean): string => `version: 1
environments:
  dev:
    vars: { color: blue }
    targets: { cluster: { provider: kubernetes } }
    sync: { prune: ${String(prune)} }
stacks:
  app:
    target: cluster
    path: app
    namespace: ${ns}
policies:
  builtin: [no-latest-image]
`;
const namespace = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`;
const cm = (name: string, value: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  color: "${value}"\n`;

interface ApplyJson {
  ok: boolean;
  counts: Record<string, number>;
  gate: { allowed: boolean; overridden: boolean };
}

describe("gitward apply and diff against a cluster", () => {
  let cluster: TestCluster;
  let repo: TestRepo;
  let cache: string;
  let client: KubeClient;
  const cli = (...args: string[]): ReturnType<typeof runCli> =>
    runCli([...args, "--repo", repo.dir, "--env", "dev", "--kubeconfig", cluster.kubeconfigPath, "--context", cluster.context, "--cache-dir", cache, "-q"]);
  const applyJson = async (...args: string[]): Promise<{ code: number; doc: ApplyJson; stderr: string }> => {
    const r = await cli("apply", "-o", "json", ...args);
    return { code: r.code, doc: JSON.parse(r.stdout || "{}") as ApplyJson, stderr: r.stderr };
  };

  before(async () => {
    cluster = await testCluster();
    client = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
    cache = mkdtempSync(join(tmpdir(), "gitward-apply-cache-"));
    repo = makeRepo();
    repo.commit({ "gitward.yaml": gitwardYaml(true), "app/ns.yaml": namespace, "app/a.yaml": cm("a", "${color}"), "app/b.yaml": cm("b", "red") });
  });
  after(async () => {
    await client.delete({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: ns }, {}).catch(() => undefined);
    client.close();
    await cluster.close();
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  it("shows everything to create before the first apply", async () => {
    const r = await cli("diff", "--detailed-exitcode");
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /Environment dev {2}\(3 to create, 0 to update, 0 to delete, 0 unchanged\)/);
  });

  it("creates, then re-applies without writing, then diff is clean", async () => {
    const first = await applyJson();
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.doc.counts["created"], 3);
    const second = await applyJson();
    assert.equal(second.doc.counts["unchanged"], 3);
    assert.equal(second.doc.counts["configured"], 0);
    const live = (await client.getJson(`/api/v1/namespaces/${ns}/configmaps/a`)) as { data: { color: string }; metadata: { labels: Record<string, string> } };
    assert.equal(live.data.color, "blue", "variables substituted");
    assert.equal(live.metadata.labels["gitward.dev/stack"], "app");
    assert.equal((await cli("diff", "--detailed-exitcode")).code, 0);
  });

  it("records the sync in the inventory in the cluster", async () => {
    const inv = (await client.getJson("/api/v1/namespaces/gitward-system/configmaps")) as { items: { data?: Record<string, string> }[] };
    const doc = inv.items.map((i) => i.data?.["inventory.json"]).find((d) => d?.includes(`"stack":"app"`) === true);
    assert.ok(doc !== undefined, "an inventory ConfigMap for the stack");
    const parsed = JSON.parse(doc) as { revision: string; entries: unknown[] };
    assert.equal(parsed.revision, repo.git("rev-parse", "HEAD"));
    assert.equal(parsed.entries.length, 3);
  });

  it("updates and prunes what Git no longer has", async () => {
    repo.commit({ "app/a.yaml": cm("a", "green"), "app/b.yaml": null });
    const diff = await cli("diff");
    assert.match(diff.stdout, /~ ConfigMap\/.*\/a/);
    assert.match(diff.stdout, /- ConfigMap\/.*\/b/);
    const r = await applyJson();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.doc.counts["configured"], 1);
    assert.equal(r.doc.counts["deleted"], 1);
    await assert.rejects(client.getJson(`/api/v1/namespaces/${ns}/configmaps/b`));
  });

  it("a dry run writes nothing", async () => {
    repo.commit({ "app/a.yaml": cm("a", "yellow") });
    const r = await applyJson("--dry-run");
    assert.equal(r.doc.counts["configured"], 1);
    const live = (await client.getJson(`/api/v1/namespaces/${ns}/configmaps/a`)) as { data: { color: string } };
    assert.equal(live.data.color, "green");
  });

  it("refuses a revision with policy denials, and applies it with a recorded override", async () => {
    repo.commit({ "app/pod.yaml": `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: [{name: c, image: "nginx:latest"}]\n` });
    const refused = await cli("apply");
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /policy.no-latest-image/);
    assert.match(refused.stdout, /refused: [0-9a-f]{12} was not applied to dev: policies deny it/);
    const overridden = await applyJson("--override-policy", "hotfix approved by sre");
    assert.equal(overridden.code, 0, overridden.stderr);
    assert.equal(overridden.doc.gate.overridden, true);
    const inv = (await client.getJson("/api/v1/namespaces/gitward-system/configmaps")) as { items: { data?: Record<string, string> }[] };
    const doc = inv.items.map((i) => i.data?.["inventory.json"]).find((d) => d?.includes(`"stack":"app"`) === true) ?? "{}";
    const parsed = JSON.parse(doc) as { syncs: { gateOverride?: { denials: number; reason: string; by: string } }[] };
    assert.equal(parsed.syncs[0]?.gateOverride?.denials, 1);
    assert.equal(parsed.syncs[0]?.gateOverride?.reason, "hotfix approved by sre");
    assert.ok((parsed.syncs[0]?.gateOverride?.by ?? "") !== "");
  });

  it("takes back a hand edit, reports a conflict with another applier, and takes over when the stack says so", async () => {
    await client.request({
      method: "PATCH", path: `/api/v1/namespaces/${ns}/configmaps/a`, query: { fieldManager: "kubectl-edit" },
      body: JSON.stringify({ data: { color: "purple" } }), contentType: "application/merge-patch+json",
    });
    const healed = await cli("apply", "--override-policy", "test");
    assert.equal(healed.code, 0, healed.stdout + healed.stderr);
    assert.match(healed.stdout, /configured ConfigMap\/.*\/a: took back \.data\.color from kubectl-edit \(Update\)/);
    await client.applyPatch(
      { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: ns, name: "a" },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: ns }, data: { color: "purple" } },
      { fieldManager: "other-tool", force: true, dryRun: false },
    );
    const conflict = await cli("apply", "--override-policy", "test");
    assert.equal(conflict.code, 1);
    assert.match(conflict.stdout, /failed ConfigMap\/.*\/a: app\/a.yaml:1:1: conflict with "other-tool"/);
    const yaml = gitwardYaml(true).replace("    path: app\n", "    path: app\n    forceConflicts: true\n");
    repo.commit({ "gitward.yaml": yaml });
    const forced = await applyJson("--override-policy", "test");
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.doc.counts["configured"], 1);
  });

  it("names the file of an object whose kind the cluster does not serve", async () => {
    repo.commit({ "app/gizmo.yaml": "apiVersion: example.com/v1\nkind: Gizmo\nmetadata:\n  name: g\n" });
    const r = await cli("apply", "--override-policy", "test");
    assert.equal(r.code, 1);
    assert.match(r.stdout, /failed Gizmo\/.*\/g: app\/gizmo.yaml:1:1: unknown kind/);
    repo.git("reset", "-q", "--hard", "HEAD~1");
  });

  it("never applies a revision that does not render", async () => {
    repo.commit({ "app/bad.yaml": "data: ${undefined_var}\n" });
    const r = await cli("apply");
    assert.equal(r.code, 1);
    assert.match(r.stdout, /refused: .* the revision has errors/);
    repo.git("reset", "-q", "--hard", "HEAD~1");
  });

  it("reports an unreachable cluster clearly", async () => {
    const bad = await cluster.kubeconfigWithToken("not-a-valid-token");
    const r = await runCli(["apply", "--repo", repo.dir, "--env", "dev", "--kubeconfig", bad, "--context", cluster.context, "--cache-dir", cache, "-q", "--override-policy", "test"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /401|Unauthorized/);
    assert.doesNotMatch(r.stdout + r.stderr, /not-a-valid-token/);
  });
});
