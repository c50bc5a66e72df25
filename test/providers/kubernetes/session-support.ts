import { randomBytes } from "node:crypto";
import type { KObject } from "../../../src/core/object.ts";
import { refOf } from "../../../src/core/object.ts";
import { KubeClient } from "../../../src/providers/kubernetes/client.ts";
import type { KubernetesProviderOptions } from "../../../src/providers/kubernetes/provider.ts";
import { kubernetesProvider } from "../../../src/providers/kubernetes/provider.ts";
import type { DesiredObject, StackRef, TargetSession } from "../../../src/providers/provider.ts";
import type { FakeApiServer, FakeApiServerOptions, TestCluster } from "../../support/fake-apiserver.ts";
import { testCluster } from "../../support/fake-apiserver.ts";

/**
 * What a session test works with: a cluster (the fake, or a real one with GITWARD_TEST_KUBECONFIG),
 * an open session through the real provider and client, a raw client for other writers, and a
 * namespace and stack of its own so tests never see each other's objects on a real cluster.
 */
export interface Harness {
  readonly cluster: TestCluster;
  /** The fake, or undefined against a real cluster (tests needing its log or faults skip). */
  readonly fake: FakeApiServer | undefined;
  readonly session: TargetSession;
  /** A client for writes as other managers and status writes as controllers. */
  readonly raw: KubeClient;
  readonly namespace: string;
  readonly stack: StackRef;
  /** Labels the engine puts on the stack's objects. */
  readonly labels: Readonly<Record<string, string>>;
  /** Runs at close, on a real cluster only: removes what the test made outside its namespaces (CRDs). */
  onRealClusterClose(fn: () => Promise<unknown>): void;
  close(): Promise<void>;
}

/** Retries fast enough for a test suite, still several attempts. */
export const quickRetry = { maxAttempts: 4, maxElapsedMs: 2_000, baseDelayMs: 5, maxDelayMs: 40 } as const;

/** Starts a cluster and opens a session on it. */
export async function openHarness(opts: { readonly provider?: KubernetesProviderOptions; readonly fake?: FakeApiServerOptions } = {}): Promise<Harness> {
  const cluster = await testCluster(opts.fake);
  const suffix = randomBytes(3).toString("hex");
  const namespace = `gw-test-${suffix}`;
  const stack = { environment: "test", stack: `web-${suffix}` };
  const provider = kubernetesProvider({ ...opts.provider, settings: { retry: quickRetry, ...opts.provider?.settings } });
  const session = await provider.open("cluster", { provider: "kubernetes", namespace: `gw-inv-${suffix}` }, { kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
  const raw = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context, settings: { userAgent: "test", retry: quickRetry } });
  const cleanups: (() => Promise<unknown>)[] = [];
  return {
    cluster, fake: cluster.fake, session, raw, namespace, stack,
    labels: { "gitward.dev/stack": stack.stack, "gitward.dev/environment": stack.environment },
    onRealClusterClose: (fn) => void cleanups.push(fn),
    async close() {
      if (cluster.fake === undefined) {
        for (const fn of cleanups) await fn().catch(() => undefined);
        // A real cluster keeps what the test made: remove its namespaces.
        for (const ns of [namespace, `gw-inv-${suffix}`]) {
          await raw.delete({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: ns }).catch(() => undefined);
        }
      }
      raw.close();
      await session.close();
      await cluster.close();
    },
  };
}

/** A desired object as the engine hands it over: labelled with the stack. */
export function desired(h: Harness, object: KObject): DesiredObject {
  const meta = (object["metadata"] ?? {}) as Record<string, KObject[string]>;
  const labels = (meta["labels"] ?? {}) as Record<string, string>;
  const obj: KObject = { ...object, metadata: { ...meta, labels: { ...labels, ...h.labels } } };
  const ref = refOf(obj);
  if (ref === undefined) throw new Error("test object without apiVersion, kind or name");
  return { ref, apiVersion: obj["apiVersion"] as string, object: obj };
}

/** The Namespace of a harness. */
export function namespaceObject(h: Harness): KObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name: h.namespace } };
}

/** A ConfigMap in the harness namespace. */
export function configMap(h: Harness, name: string, data: Record<string, string>, extra: { annotations?: Record<string, string> } = {}): KObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: h.namespace, ...(extra.annotations === undefined ? {} : { annotations: extra.annotations }) },
    data,
  };
}

/** A one-container Deployment in the harness namespace. */
export function deployment(h: Harness, name: string, replicas = 1): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: h.namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "web", image: "nginx:1.25", ports: [{ containerPort: 80 }] }] } },
    },
  };
}

/** Where a ConfigMap of the harness namespace lives. */
export function configMapLocation(h: Harness, name: string) {
  return { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: h.namespace, name };
}

/** The requests the fake received with a method, as `METHOD path`. */
export function requestsOf(fake: FakeApiServer, method: string): string[] {
  return fake.requests.filter((r) => r.method === method).map((r) => `${r.method} ${r.path}`);
}

/** Applies (not dry run, no force) and returns the actions by `Kind/name`. */
export async function applyActions(h: Harness, objects: readonly DesiredObject[], opts: { force?: boolean; dryRun?: boolean } = {}): Promise<Record<string, string>> {
  const entries = await h.session.apply(objects, { stack: h.stack, dryRun: opts.dryRun ?? false, force: opts.force ?? false });
  return Object.fromEntries(entries.map((e) => [`${e.ref.kind}/${e.ref.name}`, e.action]));
}
