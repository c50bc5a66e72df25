import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import type { KObject } from "../../../src/core/object.ts";
import { parseFieldsV1 } from "../../../src/providers/kubernetes/field-path.ts";
import { answerChanged, compareWithLive, releasedFields } from "../../../src/providers/kubernetes/up-to-date.ts";
import { recorded, recordedObject } from "./recordings.ts";

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

/** The object an apply sent, from the YAML body of a recorded request. */
function sentBody(relPath: string): KObject {
  return parse(recorded(relPath).request.body as string) as KObject;
}

describe("compareWithLive on values the server normalizes (08-normalization)", () => {
  const cases: { name: string; live: string; desired: KObject; apiVersion: string; upToDate: boolean }[] = [
    {
      name: "non-canonical quantities against the canonical ones stored (1000m, 1024Mi, 0.5)",
      live: "08-normalization/03-get-deployment-quantities-canonicalized.json",
      desired: sentBody("08-normalization/02-apply-deployment-noncanonical-quantities-create-201.json"),
      apiVersion: "apps/v1",
      upToDate: true,
    },
    {
      name: "a quantity that really changed",
      live: "08-normalization/03-get-deployment-quantities-canonicalized.json",
      desired: withCpuLimit(sentBody("08-normalization/02-apply-deployment-noncanonical-quantities-create-201.json"), "2000m"),
      apiVersion: "apps/v1",
      upToDate: false,
    },
    {
      name: "defaults spelled out in the manifest (imagePullPolicy, protocol)",
      live: "08-normalization/14-get-deployment-minimal-defaulted.json",
      desired: sentBody("08-normalization/15-apply-deployment-minimal-explicit-defaults-writes-200.json"),
      apiVersion: "apps/v1",
      upToDate: true,
    },
    {
      name: "an int-or-string number as stored",
      live: "08-normalization/20-get-service-targetport-int.json",
      desired: sentBody("08-normalization/19-apply-service-targetport-int-201.json"),
      apiVersion: "v1",
      upToDate: true,
    },
    {
      name: "an int-or-string percentage as stored",
      live: "08-normalization/22-get-deployment-maxsurge-percent-string.json",
      desired: sentBody("08-normalization/21-apply-deployment-maxsurge-percent-string-201.json"),
      apiVersion: "apps/v1",
      upToDate: true,
    },
    {
      name: "an int-or-string written as a string of digits is another value",
      live: "08-normalization/24-get-deployment-maxsurge-int.json",
      desired: withMaxSurge(sentBody("08-normalization/23-apply-deployment-maxsurge-int-201.json"), "1"),
      apiVersion: "apps/v1",
      upToDate: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(compareWithLive(recordedObject(c.live), c.desired, c.apiVersion, "gitward").upToDate, c.upToDate));
  }

  it("finds a default the manifest sets to another value", () => {
    const desired = sentBody("08-normalization/15-apply-deployment-minimal-explicit-defaults-writes-200.json");
    const container = (((desired["spec"] as KObject)["template"] as KObject)["spec"] as { containers: KObject[] }).containers[0] as KObject;
    container["imagePullPolicy"] = "Always";
    const r = compareWithLive(recordedObject("08-normalization/14-get-deployment-minimal-defaulted.json"), desired, "apps/v1", "gitward");
    assert.equal(r.upToDate, false);
    assert.match(r.reason ?? "", /imagePullPolicy missing/);
  });
});

describe("answerChanged", () => {
  const live = recordedObject("08-normalization/41-get-deployment-after-dryrun.json");
  it("reads a dry run that would write (a new managedFields time) as a change", () => {
    assert.equal(answerChanged(live, recordedObject("08-normalization/40-apply-deployment-noncanonical-dryrun-200.json"), { dryRun: true, manager: "gitward" }), true);
  });
  it("reads a dry run that answers the live object as no change, whatever the controllers wrote to status", () => {
    const withStatus = { ...live, status: { observedGeneration: 9 } };
    assert.equal(answerChanged(live, withStatus, { dryRun: true, manager: "gitward" }), false);
  });
  it("reads a real apply by its resourceVersion", () => {
    const after = recordedObject("08-normalization/07-apply-deployment-same-noncanonical-body-2s-later-writes-again-200.json");
    assert.equal(answerChanged(recordedObject("08-normalization/06-get-deployment-after-same-body-reapply.json"), after, { dryRun: false, manager: "gitward" }), true);
    assert.equal(answerChanged(live, live, { dryRun: false, manager: "gitward" }), false);
  });
});

function withCpuLimit(deployment: KObject, cpu: string): KObject {
  const copy = structuredClone(deployment);
  const container = (((copy["spec"] as KObject)["template"] as KObject)["spec"] as { containers: KObject[] }).containers[0] as { resources: { limits: Record<string, string> } };
  container.resources.limits["cpu"] = cpu;
  return copy;
}

function withMaxSurge(deployment: KObject, maxSurge: string | number): KObject {
  const copy = structuredClone(deployment);
  ((copy["spec"] as KObject)["strategy"] as { rollingUpdate: Record<string, unknown> }).rollingUpdate["maxSurge"] = maxSurge;
  return copy;
}

describe("compareWithLive on empty values the server drops", () => {
  it("finds `env: []` and `annotations: {}` unchanged when the live object has neither", () => {
    const live = recordedObject("08-normalization/10-get-deployment-after-canonical-apply.json");
    const desired = sentBody("08-normalization/09-apply-deployment-canonical-quantities-noop-200.json");
    const meta = desired["metadata"] as KObject;
    meta["annotations"] = {};
    const container = (((desired["spec"] as KObject)["template"] as KObject)["spec"] as { containers: KObject[] }).containers[0] as KObject;
    container["env"] = [];
    assert.equal(compareWithLive(live, desired, "apps/v1", "gitward").upToDate, true);
    container["env"] = [{ name: "A", value: "1" }];
    assert.equal(compareWithLive(live, desired, "apps/v1", "gitward").upToDate, false);
  });
});
