import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { SchemaIssue, SchemaValidator } from "../../src/check/schema-offline.ts";
import { createOpenApiValidator } from "../../src/check/schema-openapi.ts";
import { isGitwardError } from "../../src/core/errors.ts";
import type { KObject } from "../../src/core/object.ts";
import { readRecordedBytes } from "../support/fake-apiserver.ts";
import { configMap, crd, deployment, service, widget, withContainer } from "./schema-fixtures.ts";

interface Case {
  readonly name: string;
  readonly obj: KObject;
  /** Undefined: the kind is not known to the validator. */
  readonly want: SchemaIssue[] | undefined;
}

// Against the OpenAPI document the recorded v1.24 server served, Widget CRD included.
const recordedCases: Case[] = [
  { name: "valid Deployment", obj: deployment(), want: [] },
  { name: "valid Service, targetPort a number", obj: service(8080), want: [] },
  { name: "valid Service, targetPort a name", obj: service("http"), want: [] },
  { name: "valid ConfigMap", obj: configMap(), want: [] },
  { name: "valid CustomResourceDefinition", obj: crd(), want: [] },
  { name: "valid Widget (a CRD instance)", obj: widget({ size: 3, color: "red", tags: ["a"], settings: { k: "v" } }), want: [] },
  {
    name: "unknown field",
    obj: deployment({ replica: 2 }),
    want: [{ field: "spec.replica", message: 'unknown field "replica"' }],
  },
  {
    name: "unknown field in metadata",
    obj: { ...configMap(), metadata: { name: "c", label: { a: "b" } } },
    want: [{ field: "metadata.label", message: 'unknown field "label"' }],
  },
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
  { name: "targetPort a boolean", obj: service(true), want: [{ field: "spec.ports[0].targetPort", message: "must be string or integer" }] },
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
    name: "Widget breaking its CRD schema",
    obj: widget({ size: 11, color: "pink", extra: true, settings: { k: 1 }, tags: [2] }),
    want: [
      { field: "spec.size", message: "must be <= 10" },
      { field: "spec.color", message: 'must be one of "red", "green", "blue"' },
      { field: "spec.extra", message: 'unknown field "extra"' },
      { field: "spec.settings.k", message: "must be string" },
      { field: "spec.tags[0]", message: "must be string" },
    ],
  },
  {
    name: "Widget missing required fields",
    obj: widget({}),
    want: [
      { field: "spec.size", message: 'required field "size" is missing' },
      { field: "spec.color", message: 'required field "color" is missing' },
    ],
  },
  { name: "status is not checked", obj: { ...deployment(), status: { bogus: "x" } }, want: [] },
  { name: "creationTimestamp null is accepted", obj: { ...configMap(), metadata: { name: "c", creationTimestamp: null } }, want: [] },
  { name: "kind the cluster does not serve", obj: { apiVersion: "example.com/v1", kind: "Thing" }, want: undefined },
  { name: "version the cluster does not serve", obj: { apiVersion: "apps/v1beta1", kind: "Deployment" }, want: undefined },
];

describe("OpenAPI schema validator (recorded v1.24 document)", () => {
  let validator: SchemaValidator;
  before(async () => {
    const doc = JSON.parse((await readRecordedBytes("02-openapi/openapi-v2.json")).toString("utf8")) as unknown;
    validator = createOpenApiValidator(doc, "cluster recorded (v1.24.0)");
  });

  for (const c of recordedCases) {
    it(c.name, async () => {
      assert.deepEqual(await validator.validate(c.obj), c.want);
    });
  }
});

// Schema features the recorded document barely uses, on a small document of their own.
const syntheticDoc = {
  definitions: {
    "com.example.v1.Thing": {
      type: "object",
      properties: {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        free: { "x-kubernetes-preserve-unknown-fields": true },
        open: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { n: { type: "integer" } } },
        bag: { type: "object" },
        raw: { $ref: "#/definitions/io.k8s.apimachinery.pkg.runtime.RawExtension" },
        port: { type: "string", format: "int-or-string" },
        crdPort: { "x-kubernetes-int-or-string": true },
        list: { type: "array", items: { $ref: "#/definitions/com.example.v1.Item" } },
        both: { allOf: [{ $ref: "#/definitions/com.example.v1.Item" }] },
      },
      "x-kubernetes-group-version-kind": [{ group: "example.com", version: "v1", kind: "Thing" }],
    },
    "com.example.v1.Item": { type: "object", required: ["id"], properties: { id: { type: "integer" }, next: { $ref: "#/definitions/com.example.v1.Item" } } },
    "io.k8s.apimachinery.pkg.runtime.RawExtension": { type: "object" },
  },
};
const thing = (fields: Record<string, unknown>): KObject => ({ apiVersion: "example.com/v1", kind: "Thing", ...fields });

const syntheticCases: Case[] = [
  { name: "preserve-unknown-fields without a type takes anything", obj: thing({ free: [1, { a: 2 }] }), want: [] },
  { name: "preserve-unknown-fields keeps checking declared fields", obj: thing({ open: { n: "x", other: 1 } }), want: [{ field: "open.n", message: "must be integer" }] },
  { name: "object without declared properties takes any keys", obj: thing({ bag: { a: 1, b: [2] } }), want: [] },
  { name: "RawExtension takes anything", obj: thing({ raw: "text" }), want: [] },
  { name: "int-or-string format takes both", obj: thing({ port: 80, crdPort: "http" }), want: [] },
  { name: "int-or-string rejects a boolean", obj: thing({ crdPort: false }), want: [{ field: "crdPort", message: "must be string or integer" }] },
  {
    name: "recursive $ref and array items",
    obj: thing({ list: [{ id: 1, next: { id: "2", next: {} } }] }),
    want: [
      { field: "list[0].next.id", message: "must be integer" },
      { field: "list[0].next.next.id", message: 'required field "id" is missing' },
    ],
  },
  { name: "allOf applies its parts", obj: thing({ both: {} }), want: [{ field: "both.id", message: 'required field "id" is missing' }] },
  { name: "array where an array is expected", obj: thing({ list: { id: 1 } }), want: [{ field: "list", message: "must be array" }] },
];

describe("OpenAPI schema validator (schema features)", () => {
  const validator = createOpenApiValidator(syntheticDoc, "synthetic");
  for (const c of syntheticCases) {
    it(c.name, async () => {
      assert.deepEqual(await validator.validate(c.obj), c.want);
    });
  }

  it("refuses a document without definitions", () => {
    assert.throws(
      () => createOpenApiValidator({ swagger: "2.0" }, "cluster x"),
      (err: unknown) => isGitwardError(err) && err.code === "cluster" && /no definitions/.test(err.message),
    );
  });
});
