import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createOfflineValidator, formatFieldPath, pointerSegments } from "../../src/check/schema-offline.ts";
import type { SchemaIssue } from "../../src/check/schema-offline.ts";
import type { KObject } from "../../src/core/object.ts";
import { configMap, crd, deployment, service, withContainer } from "./schema-fixtures.ts";

interface Case {
  readonly name: string;
  readonly obj: KObject;
  /** Undefined: the kind is not known to the validator. */
  readonly want: SchemaIssue[] | undefined;
}

const cases: Case[] = [
  { name: "valid Deployment", obj: deployment(), want: [] },
  { name: "valid Service, targetPort a number", obj: service(8080), want: [] },
  { name: "valid Service, targetPort a name", obj: service("http"), want: [] },
  { name: "valid ConfigMap", obj: configMap(), want: [] },
  { name: "valid CustomResourceDefinition", obj: crd(), want: [] },
  {
    name: "Deployment without selector",
    obj: deployment({ selector: undefined }),
    want: [{ field: "spec.selector", message: 'required field "selector" is missing' }],
  },
  {
    name: "replicas as a string",
    obj: deployment({ replicas: "3" }),
    want: [{ field: "spec.replicas", message: "must be integer" }],
  },
  {
    name: "image as a number",
    obj: withContainer({ image: 5 }),
    want: [{ field: "spec.template.spec.containers[0].image", message: "must be string" }],
  },
  {
    name: "imagePullPolicy outside the enum",
    obj: withContainer({ imagePullPolicy: "always" }),
    want: [{ field: "spec.template.spec.containers[0].imagePullPolicy", message: 'must be one of "Always", "IfNotPresent", "Never"' }],
  },
  {
    name: "targetPort a boolean",
    obj: service(true),
    want: [{ field: "spec.ports[0].targetPort", message: "must be string or integer" }],
  },
  {
    name: "targetPort a fraction",
    obj: service(80.5),
    want: [{ field: "spec.ports[0].targetPort", message: "must be string or integer" }],
  },
  {
    name: "quantities as strings and numbers",
    obj: withContainer({ resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: 2, memory: 1e9 } } }),
    want: [],
  },
  {
    name: "quantity that is not one",
    obj: withContainer({ resources: { limits: { cpu: "lots" } } }),
    want: [{ field: "spec.template.spec.containers[0].resources.limits.cpu", message: 'must be a quantity such as "500m" or "1Gi", or a number' }],
  },
  {
    name: "label value that is not a string, key with dots",
    obj: { ...configMap(), metadata: { name: "c", labels: { "app.kubernetes.io/name": 3 } } },
    want: [{ field: "metadata.labels[app.kubernetes.io/name]", message: "must be string" }],
  },
  {
    name: "Secret data that is not base64",
    obj: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { key: "not base64!" } },
    want: [{ field: "data.key", message: "must be base64-encoded" }],
  },
  { name: "status is not checked", obj: { ...deployment(), status: { replicas: "many" } }, want: [] },
  { name: "creationTimestamp null is accepted", obj: { ...configMap(), metadata: { name: "c", creationTimestamp: null } }, want: [] },
  { name: "CRD instance is not known", obj: { apiVersion: "gitward.example.com/v1", kind: "Widget", metadata: { name: "w" } }, want: undefined },
  { name: "gitward kind is not known", obj: { apiVersion: "host.gitward.dev/v1", kind: "Host", metadata: { name: "h" } }, want: undefined },
  { name: "nested type is not a kind", obj: { apiVersion: "apps/v1", kind: "DeploymentSpec" }, want: undefined },
  { name: "unserved version is not known", obj: { apiVersion: "apps/v9", kind: "Deployment" }, want: undefined },
  { name: "path-like kind is not known", obj: { apiVersion: "apps/v1", kind: "../../_schemas/X" }, want: undefined },
  { name: "object without apiVersion is not known", obj: { kind: "ConfigMap" }, want: undefined },
];

describe("offline schema validator", () => {
  const validator = createOfflineValidator();

  for (const c of cases) {
    it(c.name, async () => {
      assert.deepEqual(await validator.validate(c.obj), c.want);
    });
  }

  it("is named after the Kubernetes version of its schemas", () => {
    assert.equal(validator.name, "kubernetes 1.36 (offline)");
  });

  it("gives the same answer from its cache", async () => {
    const bad = deployment({ replicas: "3" });
    assert.deepEqual(await validator.validate(bad), await validator.validate(bad));
  });
});

describe("field paths", () => {
  const pathCases = [
    { name: "root", pointer: "", data: {}, want: "" },
    { name: "array index", pointer: "/spec/containers/0/image", data: { spec: { containers: [{}] } }, want: "spec.containers[0].image" },
    { name: "key with a slash", pointer: "/metadata/labels/a.b~1c", data: {}, want: "metadata.labels[a.b/c]" },
    { name: "numeric map key", pointer: "/data/8080", data: { data: { "8080": "x" } }, want: "data[8080]" },
  ];
  for (const c of pathCases) {
    it(c.name, () => assert.equal(formatFieldPath(pointerSegments(c.pointer, c.data)), c.want));
  }
});
