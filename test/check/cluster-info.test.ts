import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildResourceIndex, clusterSchemaValidator, fetchClusterInfo } from "../../src/check/cluster-info.ts";
import type { ClusterInfo } from "../../src/check/cluster-info.ts";
import { isGitwardError } from "../../src/core/errors.ts";
import type { GitwardError } from "../../src/core/errors.ts";
import type { TestCluster } from "../support/fake-apiserver.ts";
import { testCluster, writeKubeconfig } from "../support/fake-apiserver.ts";
import { deployment } from "./schema-fixtures.ts";

const secretToken = "gitward-test-secret-token-5f1e2d";
const noRightsToken = "gitward-test-no-rights-token";

describe("fetchClusterInfo against a cluster", () => {
  let cluster: TestCluster;
  let info: ClusterInfo;
  before(async () => {
    cluster = await testCluster({ users: [{ token: noRightsToken, name: "system:serviceaccount:demo:no-rights" }] });
    info = await fetchClusterInfo({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
  });
  after(() => cluster.close());

  it("reads the version", () => {
    assert.match(info.version, /^v\d+\.\d+\.\d+/);
    if (cluster.fake !== undefined) assert.equal(info.version, "v1.24.0-alpha.1.snap+e5f3f020");
    assert.equal(info.context, cluster.context);
  });

  const scopeCases = [
    { name: "ConfigMap is namespaced", group: "", kind: "ConfigMap", want: true },
    { name: "Namespace is cluster-scoped", group: "", kind: "Namespace", want: false },
    { name: "Deployment is namespaced", group: "apps", kind: "Deployment", want: true },
    { name: "ClusterRole is cluster-scoped", group: "rbac.authorization.k8s.io", kind: "ClusterRole", want: false },
    { name: "an unserved kind is unknown", group: "example.com", kind: "Thing", want: undefined },
  ];
  for (const c of scopeCases) it(c.name, () => assert.equal(info.resources.isNamespaced(c.group, c.kind), c.want));

  const resourceCases = [
    { name: "deployments", group: "apps", version: "v1", kind: "Deployment", want: "deployments" },
    { name: "configmaps", group: "", version: "v1", kind: "ConfigMap", want: "configmaps" },
    { name: "subresources are left out", group: "apps", version: "v1", kind: "Scale", want: undefined },
  ];
  for (const c of resourceCases) it(`resource: ${c.name}`, () => assert.equal(info.resources.resourceFor(c.group, c.version, c.kind), c.want));

  it("carries the OpenAPI document, and validates with it", async () => {
    const definitions = (info.openapi as { definitions?: Record<string, unknown> }).definitions ?? {};
    assert.ok("io.k8s.api.apps.v1.Deployment" in definitions);
    const validator = clusterSchemaValidator(info);
    assert.equal(validator.name, `cluster ${cluster.context} (${info.version})`);
    assert.deepEqual(await validator.validate(deployment({ replica: 1 })), [{ field: "spec.replica", message: 'unknown field "replica"' }]);
  });

  it("reads every served group version", (t) => {
    if (cluster.fake === undefined) return t.skip("checks the fake's request log");
    const paths = new Set(cluster.fake.requests.map((r) => r.url));
    for (const p of ["/version", "/openapi/v2", "/api/v1", "/apis/apps/v1", "/apis/storage.k8s.io/v1beta1", "/apis/autoscaling/v2beta2"]) {
      assert.ok(paths.has(p), p);
    }
  });

  it("works for a user who may only read discovery", async (t) => {
    if (cluster.fake === undefined) return t.skip("needs a token without RBAC bindings");
    const path = await cluster.kubeconfigWithToken(noRightsToken);
    const limited = await fetchClusterInfo({ kubeconfigPath: path });
    assert.equal(limited.resources.isNamespaced("apps", "Deployment"), true);
  });

  it("fails with a clear cluster error for a refused token, never showing it", async () => {
    const path = await cluster.kubeconfigWithToken(secretToken);
    const err = await rejection(fetchClusterInfo({ kubeconfigPath: path }));
    assert.equal(err.code, "cluster");
    assert.match(err.message, new RegExp(`^cluster ${cluster.context} \\(${escape(cluster.server)}\\): GET /\\S+: 401 Unauthorized`));
    assert.match(err.hint ?? "", /credentials/);
    assertNoSecret(err, secretToken);
  });

  it("names an unknown context and the ones there are", async () => {
    const err = await rejection(fetchClusterInfo({ kubeconfigPath: cluster.kubeconfigPath, context: "nope" }));
    assert.match(err.message, /context nope not found in .* \(contexts: .*\)/);
  });
});

describe("fetchClusterInfo without a cluster", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gitward-cluster-info-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("reports a refused connection with the server, never the token", async () => {
    const port = await freePort();
    const path = join(dir, "refused");
    await writeKubeconfig(path, { server: `http://127.0.0.1:${port}`, token: secretToken, context: "gone" });
    const err = await rejection(fetchClusterInfo({ kubeconfigPath: path }));
    assert.equal(err.code, "cluster");
    assert.match(err.message, new RegExp(`^cluster gone \\(http://127\\.0\\.0\\.1:${port}\\): GET /\\S+: connection refused`));
    assertNoSecret(err, secretToken);
  });

  it("times out on a server that never answers", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const path = join(dir, "silent");
      await writeKubeconfig(path, { server: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, token: secretToken });
      const err = await rejection(fetchClusterInfo({ kubeconfigPath: path, timeoutMs: 200 }));
      assert.match(err.message, /timed out after 200 ms/);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it("passes on the caller's cancellation", async () => {
    const path = join(dir, "cancelled");
    await writeKubeconfig(path, { server: "http://127.0.0.1:9", token: secretToken });
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(fetchClusterInfo({ kubeconfigPath: path, signal: controller.signal }), /stop/);
  });

  it("reports a missing kubeconfig file", async () => {
    const err = await rejection(fetchClusterInfo({ kubeconfigPath: join(dir, "missing") }));
    assert.match(err.message, /cannot load kubeconfig .*missing \(ENOENT\)/);
  });

  it("does not quote an unparsable kubeconfig, which may hold a token", async () => {
    const path = join(dir, "broken");
    await writeFile(path, `users:\n- name: u\n  user: {token: ${secretToken}\n  : [\n`);
    const err = await rejection(fetchClusterInfo({ kubeconfigPath: path }));
    assert.equal(err.code, "cluster");
    assertNoSecret(err, secretToken);
  });
});

describe("buildResourceIndex", () => {
  const index = buildResourceIndex(
    [
      { groupVersion: "v1", resources: [{ name: "pods", kind: "Pod", namespaced: true }, { name: "pods/status", kind: "Pod", namespaced: true }] },
      { groupVersion: "gitward.example.com/v1", resources: [{ name: "widgets", kind: "Widget", namespaced: true }] },
      { kind: "NotAList" },
    ],
    ["metrics.k8s.io/v1beta1"],
  );
  const cases = [
    { name: "core kind", got: index.resourceFor("", "v1", "Pod"), want: "pods" },
    { name: "CRD kind", got: index.resourceFor("gitward.example.com", "v1", "Widget"), want: "widgets" },
    { name: "other version", got: index.resourceFor("gitward.example.com", "v2", "Widget"), want: undefined },
    { name: "scope by group and kind", got: index.isNamespaced("gitward.example.com", "Widget"), want: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(c.got, c.want));
  it("lists unavailable group versions", () => assert.deepEqual(index.unavailable, ["metrics.k8s.io/v1beta1"]));
});

async function rejection(promise: Promise<unknown>): Promise<GitwardError> {
  try {
    await promise;
  } catch (err: unknown) {
    if (isGitwardError(err)) return err;
    throw err;
  }
  assert.fail("expected a rejection");
}

function assertNoSecret(err: GitwardError, secret: string): void {
  const cause = err.cause instanceof Error ? `${err.cause.message} ${err.cause.stack ?? ""}` : String(err.cause);
  for (const text of [err.message, err.hint ?? "", err.stack ?? "", cause, JSON.stringify(err)]) {
    assert.ok(!text.includes(secret), `secret leaked into: ${text}`);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
