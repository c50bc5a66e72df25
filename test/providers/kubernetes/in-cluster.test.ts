import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isGitwardError } from "../../../src/core/errors.ts";
import type { KObject } from "../../../src/core/object.ts";
import { refOf } from "../../../src/core/object.ts";
import { KubeClient } from "../../../src/providers/kubernetes/client.ts";
import { loadKubeCredentials } from "../../../src/providers/kubernetes/kubeconfig.ts";
import { kubernetesProvider } from "../../../src/providers/kubernetes/provider.ts";
import type { DesiredObject } from "../../../src/providers/provider.ts";
import type { TestCluster } from "../../support/fake-apiserver.ts";
import { testCluster } from "../../support/fake-apiserver.ts";
import type { FakePod } from "../../support/fake-pod.ts";
import { startFakePod } from "../../support/fake-pod.ts";
import { quickRetry } from "./session-support.ts";

// An agent in a pod with no kubeconfig reaches the pod's own cluster through its service account.
// The "pod" is a service-account directory and an HTTPS front door to the test cluster (the fake
// API server, or a real cluster with GITWARD_TEST_KUBECONFIG) admitting only that account's token.

const emptyHome = mkdtempSync(join(tmpdir(), "gitward-home-"));
after(() => rmSync(emptyHome, { recursive: true, force: true }));

/** Runs `fn` with these variables set (undefined: unset) and the rest of the environment as it was. */
async function withEnv<T>(vars: Readonly<Record<string, string | undefined>>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (k: string, v: string | undefined): void => {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };
  for (const [k, v] of Object.entries(vars)) set(k, v);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) set(k, v);
  }
}

const noKubeconfig = { KUBECONFIG: undefined, HOME: emptyHome, KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined };

function desired(object: KObject): DesiredObject {
  const ref = refOf(object);
  assert.ok(ref !== undefined);
  return { ref, apiVersion: object["apiVersion"] as string, object };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof Error, "expected a failure");
  return err;
}

describe("in a pod without a kubeconfig", () => {
  let cluster: TestCluster;
  let pod: FakePod;
  let raw: KubeClient;
  const suffix = randomBytes(3).toString("hex");
  const namespace = `gw-pod-${suffix}`;

  before(async () => {
    cluster = await testCluster();
    pod = await startFakePod(cluster);
    raw = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context, settings: { retry: quickRetry } });
  });
  after(async () => {
    if (cluster.fake === undefined) {
      for (const ns of [namespace, `gw-inv-${suffix}`]) await raw.delete({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: ns }).catch(() => undefined);
    }
    raw.close();
    await pod.close();
    await cluster.close();
  });

  it("applies through the service account, ignoring gitward.yaml's context and saying so once", async () => {
    const notices: string[] = [];
    const provider = kubernetesProvider({ serviceAccountPrefix: pod.prefix, notice: (m) => notices.push(m), settings: { retry: quickRetry } });
    const target = { provider: "kubernetes", context: "prod-eu", namespace: `gw-inv-${suffix}` };
    await withEnv({ ...noKubeconfig, ...pod.env }, async () => {
      const session = await provider.open("cluster", target, {});
      const again = await provider.open("cluster", target, {});
      try {
        const entries = await session.apply([
          desired({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }),
          desired({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "from-pod", namespace }, data: { via: "service-account" } }),
        ], { stack: { environment: "prod", stack: "pod" }, dryRun: false, force: false });
        assert.deepEqual(entries.map((e) => `${e.ref.kind}/${e.ref.name} ${e.action}`), ["Namespace/" + namespace + " created", "ConfigMap/from-pod created"]);
      } finally {
        await session.close();
        await again.close();
      }
    });
    const live = await raw.getJson(`/api/v1/namespaces/${namespace}/configmaps/from-pod`) as { data?: unknown };
    assert.deepEqual(live.data, { via: "service-account" });
    assert.ok(pod.admitted() > 0);
    assert.equal(pod.refused(), 0);
    assert.deepEqual(notices, [`target cluster: no kubeconfig given, so the in-cluster service account is used (${pod.server}); gitward.yaml's context prod-eu is ignored`]);
  });

  it("refuses a second context mapped to the pod's cluster, unless the runner names the in-cluster context", async () => {
    const provider = kubernetesProvider({ serviceAccountPrefix: pod.prefix, notice: () => undefined });
    await withEnv({ ...noKubeconfig, ...pod.env }, async () => {
      await (await provider.open("web", { provider: "kubernetes", context: "staging" }, {})).close();
      const err = await failure(provider.open("db", { provider: "kubernetes", context: "prod" }, {}));
      assert.ok(isGitwardError(err));
      assert.match(err.message, /^target db: gitward\.yaml names context prod, but context staging \(target web\) already maps to this pod's own cluster \(https:\/\/127\.0\.0\.1:\d+\), and no kubeconfig is given/);
      assert.match(err.hint ?? "", /targets\.db\.kubeconfig/);
      const session = await provider.open("db", { provider: "kubernetes", context: "prod" }, { context: "inClusterContext" });
      await session.close();
    });
  });

  it("refuses a context the runner names, which only a kubeconfig can hold", async () => {
    const provider = kubernetesProvider({ serviceAccountPrefix: pod.prefix, notice: () => undefined });
    await withEnv({ ...noKubeconfig, ...pod.env }, async () => {
      const err = await failure(provider.open("web", { provider: "kubernetes", context: "staging" }, { context: "prod-admin" }));
      assert.ok(isGitwardError(err));
      assert.match(err.message, /context prod-admin cannot be used in-cluster: no kubeconfig is given/);
    });
  });

  it("prefers a kubeconfig given by path or $KUBECONFIG over the service account", async () => {
    const provider = kubernetesProvider({ serviceAccountPrefix: pod.prefix, notice: () => assert.fail("nothing is ignored") });
    await withEnv({ ...noKubeconfig, ...pod.env }, async () => {
      const before = pod.admitted();
      const session = await provider.open("web", { provider: "kubernetes", context: cluster.context }, { kubeconfigPath: cluster.kubeconfigPath });
      await session.readInventory({ environment: "prod", stack: "none" });
      await session.close();
      await withEnv({ KUBECONFIG: cluster.kubeconfigPath }, async () => {
        const viaEnv = await provider.open("web", { provider: "kubernetes", context: cluster.context }, {});
        await viaEnv.readInventory({ environment: "prod", stack: "none" });
        await viaEnv.close();
      });
      assert.equal(pod.admitted(), before);
    });
  });
});

describe("with no kubeconfig anywhere", () => {
  it("says what was looked at and how to give one", async () => {
    await withEnv(noKubeconfig, async () => {
      const err = await failure(loadKubeCredentials({ repositoryContext: "prod" }));
      assert.ok(isGitwardError(err));
      assert.equal(err.message, `no kubeconfig found: no --kubeconfig and no kubeconfig in the agent configuration; $KUBECONFIG is not set; not in a pod ($KUBERNETES_SERVICE_HOST is not set); ${join(emptyHome, ".kube", "config")} does not exist`);
      assert.match(err.hint ?? "", /--kubeconfig FILE, set KUBECONFIG, give targets\.<target>\.kubeconfig/);
    });
  });

  it("names the missing token when in a pod without a mounted service account", async () => {
    const prefix = mkdtempSync(join(tmpdir(), "gitward-nosa-"));
    try {
      await withEnv({ ...noKubeconfig, KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" }, async () => {
        const err = await failure(loadKubeCredentials({ serviceAccountPrefix: prefix }));
        assert.match(err.message, new RegExp(`in a pod, but no service-account token at ${prefix}/var/run/secrets/kubernetes\\.io/serviceaccount/token \\(automountServiceAccountToken: false\\?\\)`));
      });
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
