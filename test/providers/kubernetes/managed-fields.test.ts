import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import type { KObject } from "../../../src/core/object.ts";
import { formatPath, parseFieldsV1 } from "../../../src/providers/kubernetes/field-path.ts";
import {
  appliedFieldSet,
  detectDrift,
  extractOwned,
  managedFieldsOf,
} from "../../../src/providers/kubernetes/managed-fields.ts";
import { recorded, recordedObject } from "./recordings.ts";

/** The object an apply sent, from the YAML (or JSON) body of a recorded request. */
function appliedBody(relPath: string): KObject {
  return parse(recorded(relPath).request.body as string) as KObject;
}

/** The differences as `kind field` lines. */
function differenceLines(live: KObject, desired: KObject): string[] {
  return detectDrift(live, desired).differences.map((d) => `${d.kind} ${d.field}`);
}

const cmBody = "03-apply/02-apply-configmap-create-201.json";
const deployBody = "03-apply/17-apply-deployment-gitward-conflict-with-other-409.json";

describe("extractOwned", () => {
  it("takes only what gitward applied from a defaulted Deployment, keeping list keys", () => {
    const live = recordedObject("03-apply/10-get-deployment-defaulted-and-managedfields.json");
    const owned = extractOwned(live, appliedFieldSet(managedFieldsOf(live), "gitward"));
    assert.deepEqual(owned, {
      metadata: { labels: { "app.kubernetes.io/name": "web", "gitward.dev/stack": "demo" } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { "app.kubernetes.io/name": "web" } },
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "web" } },
          spec: { containers: [{ name: "web", image: "nginx:1.25", ports: [{ containerPort: 80, protocol: "TCP" }] }] },
        },
      },
    });
  });

  it("takes set items (v:) that are present", () => {
    const live = recordedObject("04-errors/62-get-configmap-with-finalizer-in-terminating-namespace.json");
    const owned = extractOwned(live, appliedFieldSet(managedFieldsOf(live), "gitward"));
    assert.deepEqual(owned, { data: { a: "1" }, metadata: { finalizers: ["gitward.dev/hold"] } });
  });

  it("owns nothing of an object gitward never applied", () => {
    const live = recordedObject("03-apply/12-put-configmap-by-kubectl-edit-200.json");
    assert.deepEqual(extractOwned(live, appliedFieldSet(managedFieldsOf(live), "someone-else")), {});
  });

  it("leaves out what another manager took over", () => {
    const live = recordedObject("03-apply/12-put-configmap-by-kubectl-edit-200.json");
    const owned = extractOwned(live, appliedFieldSet(managedFieldsOf(live), "gitward"));
    assert.deepEqual(owned, { data: { size: "large" }, metadata: { labels: { "gitward.dev/stack": "demo" } } });
  });

  it("keeps a .-only map empty instead of taking all of it", () => {
    const live: KObject = {
      metadata: { annotations: { a: "1", b: "2" } },
    };
    const set = parseFieldsV1({ "f:metadata": { "f:annotations": { ".": {} } } });
    assert.deepEqual(extractOwned(live, set), { metadata: { annotations: {} } });
  });
});

describe("detectDrift over recorded apply sequences", () => {
  const cases: { name: string; live: string; desired: () => KObject; differences: string[]; drift: { field: string; manager: string; time: string }[] }[] = [
    { name: "just applied ConfigMap", live: cmBody, desired: () => appliedBody(cmBody), differences: [], drift: [] },
    {
      name: "Deployment with server defaults (protocol, resources, strategy)",
      live: "03-apply/10-get-deployment-defaulted-and-managedfields.json",
      desired: () => appliedBody("03-apply/09-apply-deployment-create-201.json"),
      differences: [],
      drift: [],
    },
    {
      name: "the same apply sent as JSON",
      live: "03-apply/07-apply-configmap-json-body-unchanged-200.json",
      desired: () => JSON.parse(recorded("03-apply/07-apply-configmap-json-body-unchanged-200.json").request.body as string) as KObject,
      differences: [],
      drift: [],
    },
    {
      name: "kubectl edit took .data.color (update)",
      live: "03-apply/12-put-configmap-by-kubectl-edit-200.json",
      desired: () => appliedBody("03-apply/13-apply-configmap-conflict-with-kubectl-edit-409.json"),
      differences: ["missing .data.color"],
      drift: [{ field: ".data.color", manager: "kubectl-edit", time: "2026-11-22T03:52:35Z" }],
    },
    {
      name: "after gitward forced it back",
      live: "03-apply/14-apply-configmap-force-200.json",
      desired: () => appliedBody("03-apply/14-apply-configmap-force-200.json"),
      differences: [],
      drift: [],
    },
    {
      name: "another applier forced .spec.replicas away",
      live: "03-apply/16-apply-deployment-by-other-force-200.json",
      desired: () => appliedBody(deployBody),
      differences: ["missing .spec.replicas"],
      drift: [{ field: ".spec.replicas", manager: "other", time: "2026-11-22T03:52:38Z" }],
    },
    {
      name: "after gitward took .spec.replicas back",
      live: "03-apply/19-get-deployment-after-takeover.json",
      desired: () => appliedBody(deployBody),
      differences: [],
      drift: [],
    },
    {
      name: "shared ownership of the same value is not drift",
      live: "03-apply/20-apply-configmap-other-same-value-shared-ownership-200.json",
      desired: () => appliedBody("03-apply/14-apply-configmap-force-200.json"),
      differences: [],
      drift: [],
    },
    {
      name: "fields others added that gitward does not want are not drift",
      live: "03-apply/32-strategic-merge-patch-deployment.json",
      desired: () => appliedBody(deployBody),
      differences: [],
      drift: [],
    },
    {
      name: "a value changed in Git is a difference, not drift",
      live: "03-apply/04-apply-configmap-changed-value-200.json",
      desired: () => appliedBody("03-apply/05-apply-configmap-dryrun-changed-200.json"),
      differences: ["changed .data.color"],
      drift: [],
    },
    {
      name: "a key added back in Git is missing, and nobody's drift",
      live: "03-apply/08-apply-configmap-omit-key-removes-it-200.json",
      desired: () => appliedBody("03-apply/04-apply-configmap-changed-value-200.json"),
      differences: ["missing .data.size"],
      drift: [],
    },
    {
      name: "YAML 1.1 keys the server read as booleans",
      live: "03-apply/34-apply-configmap-yaml11-boolean-like-keys.json",
      desired: () => appliedBody("03-apply/34-apply-configmap-yaml11-boolean-like-keys.json"),
      differences: ["missing .data.n", "missing .data.on"],
      drift: [],
    },
    {
      name: "a custom resource whose status others write",
      live: "05-crd/18-get-widget.json",
      desired: () => appliedBody("05-crd/15-apply-widget-spec-change-bumps-generation-200.json"),
      differences: [],
      drift: [],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const report = detectDrift(recordedObject(c.live), c.desired());
      assert.deepEqual(report.differences.map((d) => `${d.kind} ${d.field}`), c.differences);
      assert.deepEqual(report.drift, c.drift);
    });
  }
});

describe("detectDrift on hand-made objects", () => {
  const deployment = (image: string, managedFields: unknown[]): KObject =>
    ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "demo", managedFields },
      spec: { template: { spec: { containers: [{ name: "web", image, ports: [{ containerPort: 80, protocol: "TCP" }] }] } } },
    }) as KObject;
  const gitwardEntry = (fields: unknown) => ({ manager: "gitward", operation: "Apply", apiVersion: "apps/v1", time: "2026-01-01T00:00:00Z", fieldsType: "FieldsV1", fieldsV1: fields });
  const containerFields = (fields: Record<string, unknown>) => ({ "f:spec": { "f:template": { "f:spec": { "f:containers": { 'k:{"name":"web"}': { ".": {}, ...fields } } } } } });
  const desired = parse(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.25
          ports: [{containerPort: 80}]
`) as KObject;

  it("attributes a container image set by kubectl to it, with the list key in the path", () => {
    const live = deployment("nginx:1.26", [
      gitwardEntry(containerFields({ "f:name": {}, "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } } })),
      { manager: "kubectl-set", operation: "Update", apiVersion: "apps/v1", time: "2026-01-02T00:00:00Z", fieldsType: "FieldsV1", fieldsV1: containerFields({ "f:image": {} }) },
    ]);
    const report = detectDrift(live, desired);
    assert.deepEqual(report.drift, [{ field: '.spec.template.spec.containers[name="web"].image', manager: "kubectl-set", time: "2026-01-02T00:00:00Z" }]);
  });

  it("attributes a field inside an atomic value to the manager owning the whole value", () => {
    const live: KObject = {
      metadata: {
        managedFields: [
          { manager: "gitward", operation: "Apply", fieldsV1: { "f:data": { "f:a": {} } } },
          { manager: "tool", operation: "Update", time: "t", fieldsV1: { "f:spec": { "f:selector": {} } } },
        ],
      },
      data: { a: "1" },
      spec: { selector: { matchLabels: { app: "other" } } },
    };
    const report = detectDrift(live, { data: { a: "1" }, spec: { selector: { matchLabels: { app: "web" } } } });
    assert.deepEqual(report.drift, [{ field: ".spec.selector.matchLabels.app", manager: "tool", time: "t" }]);
  });

  it("compares set items by value", () => {
    const live = recordedObject("04-errors/62-get-configmap-with-finalizer-in-terminating-namespace.json");
    const lines = differenceLines(live, { metadata: { finalizers: ["gitward.dev/hold", "gitward.dev/other"] }, data: { a: "1" } });
    assert.deepEqual(lines, ['missing .metadata.finalizers[="gitward.dev/other"]']);
  });

  it("ignores identity, server metadata, status and null values", () => {
    const live = recordedObject(cmBody);
    const desired = appliedBody(cmBody);
    const meta = desired["metadata"] as Record<string, unknown>;
    meta["creationTimestamp"] = null;
    meta["resourceVersion"] = "1";
    desired["status"] = { phase: "whatever" };
    (desired["data"] as Record<string, unknown>)["gone"] = null;
    assert.deepEqual(differenceLines(live, desired), []);
  });

  it("reports an atomic list that differs as one change", () => {
    const live: KObject = {
      metadata: { managedFields: [{ manager: "gitward", operation: "Apply", fieldsV1: { "f:spec": { "f:args": {} } } }] },
      spec: { args: ["a", "b"] },
    };
    assert.deepEqual(differenceLines(live, { spec: { args: ["a", "c"] } }), ["changed .spec.args"]);
    assert.deepEqual(differenceLines(live, { spec: { args: ["a", "b"] } }), []);
  });
});

describe("formatPath", () => {
  it("writes paths as the API server does in conflicts", () => {
    assert.equal(
      formatPath([{ field: "spec" }, { field: "ports" }, { key: { protocol: "TCP", port: 80 } }, { field: "name" }, { value: "x" }, { index: 2 }]),
      '.spec.ports[port=80,protocol="TCP"].name[="x"][2]',
    );
  });
});
