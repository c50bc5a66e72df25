import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../../src/core/object.ts";
import { classifyResponse } from "../../../src/providers/kubernetes/errors.ts";
import { parseFieldsV1 } from "../../../src/providers/kubernetes/field-path.ts";
import { memberPaths, takeBackMessage, takeBackPlan } from "../../../src/providers/kubernetes/take-back.ts";
import { recorded, recordedObject } from "./recordings.ts";

/** The conflicts of a recorded 409, as the client reads them. */
function conflictsOf(relPath: string) {
  const { response } = recorded(relPath);
  return classifyResponse({ status: response.status, body: JSON.stringify(response.body) }, { operation: "apply", apply: true }).conflicts;
}

const entry = (manager: string, operation: string, fieldsV1: object, subresource?: string) => ({
  manager, operation, apiVersion: "v1", time: "2026-12-06T15:32:39Z", fieldsType: "FieldsV1", fieldsV1, ...(subresource === undefined ? {} : { subresource }),
});
const configMapWith = (...managedFields: object[]): KObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app", managedFields: managedFields as KObject[] }, data: { color: "red", size: "9" } });
const conflict = (field: string, manager = "someone") => ({ manager, field });

describe("takeBackPlan", () => {
  it("takes back a field a merge patch took over (08-normalization/27, 28)", () => {
    const live = recordedObject("08-normalization/27-get-deployment-kubectl-patch-owns-minreadyseconds.json");
    const plan = takeBackPlan(live, conflictsOf("08-normalization/28-apply-minreadyseconds-conflict-with-kubectl-patch-409.json"), "gitward");
    assert.deepEqual(plan, { fields: [{ field: ".spec.minReadySeconds", owners: [{ manager: "kubectl-patch" }] }] });
    assert.equal(takeBackMessage(plan ?? assert.fail()), "took back .spec.minReadySeconds from kubectl-patch (Update)");
  });

  it("takes back replicas from a writer through the scale subresource (08-normalization/33, 34)", () => {
    const live = recordedObject("08-normalization/33-get-deployment-kubectl-scale-owns-replicas.json");
    const plan = takeBackPlan(live, conflictsOf("08-normalization/34-apply-replicas-conflict-with-kubectl-scale-409.json"), "gitward");
    assert.deepEqual(plan, { fields: [{ field: ".spec.replicas", owners: [{ manager: "kubectl-scale", subresource: "scale" }] }] });
    assert.equal(takeBackMessage(plan ?? assert.fail(), true), "dry run: would take back .spec.replicas from kubectl-scale (Update, subresource scale)");
  });

  it("takes back a field a PUT took over (03-apply/12, 13)", () => {
    const put = recordedObject("03-apply/12-put-configmap-by-kubectl-edit-200.json");
    assert.equal(takeBackPlan(put, conflictsOf("03-apply/13-apply-configmap-conflict-with-kubectl-edit-409.json"), "gitward")?.fields[0]?.owners[0]?.manager, "kubectl-edit");
  });

  it("takes nothing from another applier (03-apply/16, 17)", () => {
    const live = recordedObject("03-apply/16-apply-deployment-by-other-force-200.json");
    assert.equal(takeBackPlan(live, conflictsOf("03-apply/17-apply-deployment-gitward-conflict-with-other-409.json"), "gitward"), undefined);
  });

  const cases: { name: string; live: KObject; conflicts: { manager: string; field: string }[]; takes: boolean }[] = [
    { name: "two fields, two Update writers", live: configMapWith(entry("a", "Update", { "f:data": { "f:color": {} } }), entry("b", "Update", { "f:data": { "f:size": {} } })), conflicts: [conflict(".data.color"), conflict(".data.size")], takes: true },
    { name: "one field an applier holds among Update ones", live: configMapWith(entry("a", "Update", { "f:data": { "f:color": {} } }), entry("tool", "Apply", { "f:data": { "f:size": {} } })), conflicts: [conflict(".data.color"), conflict(".data.size")], takes: false },
    { name: "a field an Update writer and an applier share", live: configMapWith(entry("a", "Update", { "f:data": { "f:color": {} } }), entry("tool", "Apply", { "f:data": { "f:color": {} } })), conflicts: [conflict(".data.color")], takes: false },
    { name: "gitward's own Update entry", live: configMapWith(entry("gitward", "Update", { "f:data": { "f:color": {} } })), conflicts: [conflict(".data.color", "gitward")], takes: false },
    { name: "a field nobody holds any more (the object moved on)", live: configMapWith(entry("a", "Update", { "f:data": { "f:size": {} } })), conflicts: [conflict(".data.color")], takes: false },
    { name: "no conflicts", live: configMapWith(), conflicts: [], takes: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(takeBackPlan(c.live, c.conflicts, "gitward") !== undefined, c.takes));
  }

  it("groups fields by writer in its message", () => {
    const live = configMapWith(entry("a", "Update", { "f:data": { "f:color": {}, "f:size": {} } }));
    assert.equal(takeBackMessage(takeBackPlan(live, [conflict(".data.color"), conflict(".data.size")], "gitward") ?? assert.fail()), "took back .data.color, .data.size from a (Update)");
  });
});

describe("memberPaths", () => {
  it("names leaves and the items and maps marked with a dot, as conflicts name them", () => {
    const set = parseFieldsV1({
      "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
      "f:spec": { "f:containers": { 'k:{"name":"web"}': { ".": {}, "f:image": {}, "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } } } } },
      "f:finalizers": { 'v:"a"': {} },
    });
    assert.deepEqual([...memberPaths(set)].sort(), [
      ".finalizers[=\"a\"]",
      ".metadata.labels",
      ".metadata.labels.app",
      '.spec.containers[name="web"]',
      '.spec.containers[name="web"].image',
      '.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]',
      '.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].containerPort',
    ]);
  });
});
