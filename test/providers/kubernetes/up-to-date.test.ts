import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../../src/core/object.ts";
import { parseFieldsV1 } from "../../../src/providers/kubernetes/field-path.ts";
import { compareWithLive, releasedFields } from "../../../src/providers/kubernetes/up-to-date.ts";

const applied = (fieldsV1: object, apiVersion = "v1", manager = "gitward") => ({ manager, operation: "Apply", apiVersion, time: "2026-11-22T05:00:00Z", fieldsType: "FieldsV1", fieldsV1 });

function liveConfigMap(data: Record<string, string>, managedFields: object[]): KObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app", namespace: "demo", resourceVersion: "7", managedFields: managedFields as KObject[] }, data };
}
const desiredConfigMap = (data: Record<string, string>): KObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app", namespace: "demo" }, data });

describe("compareWithLive", () => {
  const owned = applied({ "f:data": { "f:color": {}, "f:size": {} } });
  const cases: { name: string; live: KObject; desired: KObject; apiVersion?: string; upToDate: boolean; reason?: RegExp }[] = [
    { name: "same values, all owned", live: liveConfigMap({ color: "blue", size: "2" }, [owned]), desired: desiredConfigMap({ color: "blue", size: "2" }), upToDate: true },
    { name: "a value changed", live: liveConfigMap({ color: "blue", size: "2" }, [owned]), desired: desiredConfigMap({ color: "red", size: "2" }), upToDate: false, reason: /\.data\.color changed/ },
    { name: "a key dropped from desired", live: liveConfigMap({ color: "blue", size: "2" }, [owned]), desired: desiredConfigMap({ color: "blue" }), upToDate: false, reason: /\.data\.size no longer desired/ },
    { name: "never applied by gitward", live: liveConfigMap({ color: "blue" }, [applied({ "f:data": { "f:color": {} } }, "v1", "kubectl")]), desired: desiredConfigMap({ color: "blue" }), upToDate: false, reason: /never applied/ },
    {
      name: "a field taken over by an update",
      live: liveConfigMap({ color: "purple", size: "2" }, [applied({ "f:data": { "f:size": {} } }), { manager: "kubectl-edit", operation: "Update", apiVersion: "v1", time: "2026-11-22T06:00:00Z", fieldsType: "FieldsV1", fieldsV1: { "f:data": { "f:color": {} } } }]),
      desired: desiredConfigMap({ color: "blue", size: "2" }),
      upToDate: false,
      reason: /\.data\.color missing/,
    },
    { name: "applied as another API version", live: liveConfigMap({ color: "blue" }, [applied({ "f:data": { "f:color": {} } }, "v2")]), desired: desiredConfigMap({ color: "blue" }), upToDate: false, reason: /another API version/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = compareWithLive(c.live, c.desired, c.apiVersion ?? "v1", "gitward");
      assert.equal(r.upToDate, c.upToDate);
      if (c.reason !== undefined) assert.match(r.reason ?? "", c.reason);
    });
  }

  it("attributes a take-over to the manager and time", () => {
    const live = liveConfigMap({ color: "purple" }, [applied({ "f:metadata": { "f:labels": { "f:app": {} } } }), { manager: "kubectl-edit", operation: "Update", apiVersion: "v1", time: "2026-11-22T06:00:00Z", fieldsType: "FieldsV1", fieldsV1: { "f:data": { "f:color": {} } } }]);
    assert.deepEqual(compareWithLive(live, desiredConfigMap({ color: "blue" }), "v1", "gitward").drift, [{ field: ".data.color", manager: "kubectl-edit", time: "2026-11-22T06:00:00Z" }]);
  });
});

describe("releasedFields", () => {
  const cases: { name: string; fields: object; desired: KObject; released: string[] }[] = [
    { name: "nothing dropped", fields: { "f:metadata": { "f:labels": { "f:a": {} } } }, desired: { metadata: { labels: { a: "1" } } }, released: [] },
    { name: "a label dropped", fields: { "f:metadata": { "f:labels": { "f:a": {}, "f:b": {} } } }, desired: { metadata: { labels: { a: "1" } } }, released: [".metadata.labels.b"] },
    {
      name: "list items matched by key, a defaulted key field left out",
      fields: { "f:spec": { "f:ports": { 'k:{"port":80,"protocol":"TCP"}': { ".": {}, "f:port": {} }, 'k:{"port":443,"protocol":"TCP"}': { ".": {}, "f:port": {} } } } },
      desired: { spec: { ports: [{ port: 80 }] } },
      released: ['.spec.ports[port=443,protocol="TCP"]'],
    },
    { name: "a set item dropped", fields: { "f:metadata": { "f:finalizers": { 'v:"a"': {}, 'v:"b"': {} } } }, desired: { metadata: { finalizers: ["a"] } }, released: ['.metadata.finalizers[="b"]'] },
    { name: "a field set to null", fields: { "f:spec": { "f:replicas": {} } }, desired: { spec: { replicas: null } }, released: [".spec.replicas"] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(releasedFields(parseFieldsV1(c.fields), c.desired), c.released));
  }
});
