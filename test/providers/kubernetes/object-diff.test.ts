import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../../src/core/object.ts";
import { cleanForDiff, diffObjects } from "../../../src/providers/kubernetes/object-diff.ts";

const live: KObject = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    name: "creds", namespace: "demo", uid: "u-1", resourceVersion: "9", creationTimestamp: "2026-11-22T05:00:00Z", generation: 1,
    managedFields: [{ manager: "gitward" }],
    annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"c2VjcmV0"}}' },
  },
  data: { password: "c2VjcmV0", user: "YWRtaW4=" },
  status: { phase: "x" },
};

describe("diffObjects", () => {
  it("drops what the server writes for itself", () => {
    assert.deepEqual(cleanForDiff(live)["metadata"], { name: "creds", namespace: "demo", annotations: (live["metadata"] as { annotations: KObject }).annotations });
    assert.equal(cleanForDiff(live)["status"], undefined);
  });

  it("masks Secret values, the last-applied annotation too, marking only the keys that changed", () => {
    const after: KObject = { ...live, data: { password: "bmV3", user: "YWRtaW4=" } };
    const text = diffObjects(live, after);
    assert.match(text, /^-  password: "\*\*\*"$/m);
    assert.match(text, /^\+  password: "\*\*\* \(changed\)"$/m);
    for (const secret of ["c2VjcmV0", "bmV3", "YWRtaW4="]) assert.ok(!text.includes(secret), `${secret} leaked`);
  });

  it("diffs a new object against nothing", () => {
    const text = diffObjects(undefined, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" }, data: { on: "yes" } });
    assert.equal(text, ["@@ -0,0 +1,6 @@", "+apiVersion: v1", "+kind: ConfigMap", "+metadata:", "+  name: a", "+data:", "+  on: yes"].join("\n"));
  });
});
