import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fetchClusterInfo } from "../../src/check/cluster-info.ts";
import { builtinScopes, chainScopes } from "../../src/render/scopes.ts";
import type { ScopeResolver } from "../../src/render/scopes.ts";
import { listExchanges, readExchange, testCluster } from "../support/fake-apiserver.ts";

const builtin = builtinScopes();

const cases = [
  { name: "ConfigMap", group: "", kind: "ConfigMap", want: true },
  { name: "Secret", group: "", kind: "Secret", want: true },
  { name: "Service", group: "", kind: "Service", want: true },
  { name: "Deployment", group: "apps", kind: "Deployment", want: true },
  { name: "Namespace", group: "", kind: "Namespace", want: false },
  { name: "Node", group: "", kind: "Node", want: false },
  { name: "PersistentVolume", group: "", kind: "PersistentVolume", want: false },
  { name: "ClusterRole", group: "rbac.authorization.k8s.io", kind: "ClusterRole", want: false },
  { name: "ClusterRoleBinding", group: "rbac.authorization.k8s.io", kind: "ClusterRoleBinding", want: false },
  { name: "CustomResourceDefinition", group: "apiextensions.k8s.io", kind: "CustomResourceDefinition", want: false },
  { name: "StorageClass", group: "storage.k8s.io", kind: "StorageClass", want: false },
  { name: "PriorityClass", group: "scheduling.k8s.io", kind: "PriorityClass", want: false },
  { name: "IngressClass", group: "networking.k8s.io", kind: "IngressClass", want: false },
  { name: "ValidatingWebhookConfiguration", group: "admissionregistration.k8s.io", kind: "ValidatingWebhookConfiguration", want: false },
  { name: "MutatingWebhookConfiguration", group: "admissionregistration.k8s.io", kind: "MutatingWebhookConfiguration", want: false },
  { name: "APIService", group: "apiregistration.k8s.io", kind: "APIService", want: false },
  { name: "CSIDriver", group: "storage.k8s.io", kind: "CSIDriver", want: false },
  { name: "RuntimeClass", group: "node.k8s.io", kind: "RuntimeClass", want: false },
  { name: "a CRD kind is unknown", group: "gitward.example.com", kind: "Widget", want: undefined },
  { name: "a gitward kind is unknown", group: "host.gitward.dev", kind: "Host", want: undefined },
  { name: "a kind of the wrong group is unknown", group: "apps", kind: "ConfigMap", want: undefined },
  { name: "inherited property names are not groups", group: "constructor", kind: "Pod", want: undefined },
];

describe("builtinScopes", () => {
  for (const c of cases) it(c.name, () => assert.equal(builtin.isNamespaced(c.group, c.kind), c.want));

  it("agrees with the discovery of a cluster on every kind both know", async () => {
    const cluster = await testCluster();
    try {
      const info = await fetchClusterInfo({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
      let compared = 0;
      for (const c of cases) {
        const served = info.resources.isNamespaced(c.group, c.kind);
        if (served === undefined) continue;
        compared += 1;
        assert.equal(builtin.isNamespaced(c.group, c.kind), served, `${c.group}/${c.kind}`);
      }
      assert.ok(compared >= 18);
    } finally {
      await cluster.close();
    }
  });
});

describe("builtinScopes against the recorded discovery", () => {
  it("knows every recorded kind, with its recorded scope", async () => {
    const files = [...(await listExchanges("01-discovery")), ...(await listExchanges("01-discovery/all-group-versions"))];
    let checked = 0;
    for (const file of files) {
      const body = (await readExchange(file)).response.body as { kind?: string; groupVersion?: string; resources?: unknown[] };
      if (body.kind !== "APIResourceList" || body.groupVersion === undefined) continue;
      const group = body.groupVersion.includes("/") ? body.groupVersion.split("/")[0] ?? "" : "";
      for (const r of (body.resources ?? []) as { name: string; kind: string; namespaced: boolean }[]) {
        if (r.name.includes("/")) continue;
        checked += 1;
        assert.equal(builtin.isNamespaced(group, r.kind), r.namespaced, `${group}/${r.kind}`);
      }
    }
    assert.ok(checked > 50);
  });
});

describe("chainScopes", () => {
  const only = (group: string, kind: string, answer: boolean): ScopeResolver => ({
    isNamespaced: (g, k) => (g === group && k === kind ? answer : undefined),
  });
  const chain = chainScopes(only("gitward.example.com", "Widget", true), builtin);
  const chainCases = [
    { name: "first resolver answers", group: "gitward.example.com", kind: "Widget", want: true },
    { name: "falls through to the next", group: "", kind: "Namespace", want: false },
    { name: "nobody knows", group: "example.com", kind: "Thing", want: undefined },
  ];
  for (const c of chainCases) it(c.name, () => assert.equal(chain.isNamespaced(c.group, c.kind), c.want));

  it("of nothing knows nothing", () => assert.equal(chainScopes().isNamespaced("", "Pod"), undefined));
});
