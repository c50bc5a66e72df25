import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../../src/core/object.ts";
import { refOf } from "../../../src/core/object.ts";
import { formatRef } from "../../../src/core/objref.ts";
import type { OrderItem, OrderResult } from "../../../src/providers/kubernetes/order.ts";
import { applyOrder, pruneOrder } from "../../../src/providers/kubernetes/order.ts";

/** An order item for `apiVersion kind [namespace/]name`, with an optional wave annotation. */
function obj(apiVersion: string, kind: string, nsName: string, wave?: string): OrderItem {
  const [namespace, name] = nsName.includes("/") ? nsName.split("/") : [undefined, nsName];
  const metadata: KObject = { name: name ?? nsName };
  if (namespace !== undefined) metadata["namespace"] = namespace;
  if (wave !== undefined) metadata["annotations"] = { "gitward.dev/wave": wave };
  const object: KObject = { apiVersion, kind, metadata };
  return { ref: refOf(object)!, object };
}

/** The order as lines: `phase wave: Kind/ns/name, ...`. */
function lines(result: OrderResult<OrderItem>): string[] {
  return result.groups.map((g) => `${g.phase} ${g.wave}: ${g.objects.map((o) => formatRef(o.ref)).join(", ")}`);
}

const cases: { name: string; items: OrderItem[]; want: string[] }[] = [
  {
    name: "CRDs, then namespaces and cluster prerequisites, then the rest",
    items: [
      obj("apps/v1", "Deployment", "web/api"),
      obj("example.com/v1", "Widget", "web/w"),
      obj("v1", "Namespace", "web"),
      obj("rbac.authorization.k8s.io/v1", "ClusterRole", "reader"),
      obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
      obj("storage.k8s.io/v1", "StorageClass", "fast"),
    ],
    want: [
      "crds 0: CustomResourceDefinition/widgets.example.com",
      "cluster 0: Namespace/web, ClusterRole/reader, StorageClass/fast",
      "main 0: Deployment/web/api, Widget/web/w",
    ],
  },
  {
    name: "config and RBAC before Services, before workloads, before Ingress, HPA and PDB",
    items: [
      obj("networking.k8s.io/v1", "Ingress", "web/api"),
      obj("policy/v1", "PodDisruptionBudget", "web/api"),
      obj("autoscaling/v2", "HorizontalPodAutoscaler", "web/api"),
      obj("apps/v1", "StatefulSet", "web/db"),
      obj("apps/v1", "Deployment", "web/api"),
      obj("v1", "Service", "web/api"),
      obj("rbac.authorization.k8s.io/v1", "RoleBinding", "web/api"),
      obj("rbac.authorization.k8s.io/v1", "Role", "web/api"),
      obj("v1", "ServiceAccount", "web/api"),
      obj("v1", "Secret", "web/api"),
      obj("v1", "ConfigMap", "web/api"),
    ],
    want: [
      "main 0: ServiceAccount/web/api, Secret/web/api, ConfigMap/web/api, Role/web/api, RoleBinding/web/api, Service/web/api, " +
        "Deployment/web/api, StatefulSet/web/db, HorizontalPodAutoscaler/web/api, PodDisruptionBudget/web/api, Ingress/web/api",
    ],
  },
  {
    name: "custom kinds after built-in ones, webhooks and APIServices last",
    items: [
      obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "check"),
      obj("apiregistration.k8s.io/v1", "APIService", "v1beta1.metrics.k8s.io"),
      obj("example.com/v1", "Widget", "web/w"),
      obj("cert-manager.io/v1", "Certificate", "web/tls"),
      obj("apps/v1", "Deployment", "web/api"),
    ],
    want: ["main 0: Deployment/web/api, Certificate/web/tls, Widget/web/w, APIService/v1beta1.metrics.k8s.io, ValidatingWebhookConfiguration/check"],
  },
  {
    name: "a kind named like a built-in one in another group is a custom kind",
    items: [obj("example.com/v1", "Deployment", "web/x"), obj("v1", "ConfigMap", "web/c")],
    want: ["main 0: ConfigMap/web/c, Deployment/web/x"],
  },
  {
    name: "waves: lower first, default 0, negative allowed, within each phase",
    items: [
      obj("v1", "ConfigMap", "web/late", "10"),
      obj("v1", "ConfigMap", "web/early", "-1"),
      obj("v1", "ConfigMap", "web/default"),
      obj("v1", "ConfigMap", "web/explicit-zero", "0"),
      obj("v1", "ConfigMap", "web/two", "+2"),
      obj("v1", "Namespace", "web", "5"),
      obj("v1", "Namespace", "other"),
    ],
    want: [
      "cluster 0: Namespace/other",
      "cluster 5: Namespace/web",
      "main -1: ConfigMap/web/early",
      "main 0: ConfigMap/web/default, ConfigMap/web/explicit-zero",
      "main 2: ConfigMap/web/two",
      "main 10: ConfigMap/web/late",
    ],
  },
  {
    name: "ties by namespace, then name",
    items: [obj("v1", "ConfigMap", "b/x"), obj("v1", "ConfigMap", "a/y"), obj("v1", "ConfigMap", "a/x")],
    want: ["main 0: ConfigMap/a/x, ConfigMap/a/y, ConfigMap/b/x"],
  },
  {
    name: "refs without objects (prune from an inventory) are wave 0",
    items: [{ ref: { group: "", kind: "ConfigMap", namespace: "web", name: "c" } }, { ref: { group: "", kind: "Namespace", name: "web" } }],
    want: ["cluster 0: Namespace/web", "main 0: ConfigMap/web/c"],
  },
  { name: "an empty batch", items: [], want: [] },
];

describe("applyOrder", () => {
  for (const c of cases) it(c.name, () => assert.deepEqual(lines(applyOrder(c.items)), c.want));

  const invalid = ["abc", "1.5", "", " ", "1e3", "0x10", "99999999999999999"];
  for (const wave of invalid) {
    it(`reports the invalid wave ${JSON.stringify(wave)} as an error naming the object, and leaves it out`, () => {
      const result = applyOrder([obj("v1", "ConfigMap", "demo/app", wave), obj("v1", "ConfigMap", "demo/ok")]);
      assert.equal(result.errors.length, 1);
      assert.match(result.errors[0]!.message, /^ConfigMap\/demo\/app: invalid gitward\.dev\/wave ".*": not an integer$/);
      assert.deepEqual(lines(result), ["main 0: ConfigMap/demo/ok"]);
    });
  }

  it("keeps input order for identical refs", () => {
    const a = obj("v1", "ConfigMap", "demo/same");
    const b = obj("v1", "ConfigMap", "demo/same");
    const result = applyOrder([a, b]);
    assert.equal(result.groups[0]!.objects[0], a);
    assert.equal(result.groups[0]!.objects[1], b);
  });
});

describe("pruneOrder", () => {
  it("is the exact reverse of the apply order", () => {
    const items = cases.flatMap((c) => c.items);
    const applied = applyOrder(items).groups.flatMap((g) => g.objects.map((o) => `${g.phase} ${g.wave} ${formatRef(o.ref)}`));
    const pruned = pruneOrder(items).groups.flatMap((g) => g.objects.map((o) => `${g.phase} ${g.wave} ${formatRef(o.ref)}`));
    assert.deepEqual(pruned, [...applied].reverse());
  });

  it("deletes workloads before namespaces, and CRDs last", () => {
    const result = pruneOrder([
      obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
      obj("v1", "Namespace", "web"),
      obj("example.com/v1", "Widget", "web/w"),
    ]);
    assert.deepEqual(lines(result), ["main 0: Widget/web/w", "cluster 0: Namespace/web", "crds 0: CustomResourceDefinition/widgets.example.com"]);
  });
});
