import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/core/object.ts";
import { context, load, policy, rendered } from "./helpers.ts";

const never = (name: string, kinds = "['*']") =>
  policy(name, `  match:\n    resources: [{ kinds: ${kinds} }]\n  validations:\n    - expression: "false"\n      message: ${name} failed`);

const set = () =>
  load({ "p/a.yaml": `${never("first")}---\n${never("second")}---\n${never("services-only", "[Service]")}` }, [{ name: "no-privileged" }]);

function configMap(annotations: Record<string, string>): KObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "web", annotations }, data: {} };
}

describe("exemptions", () => {
  it("skips the named policies, records each exemption with its reason, and still runs the others", () => {
    const obj = rendered(configMap({ "gitward.dev/policy-exempt": "first, services-only", "gitward.dev/policy-exempt-reason": " legacy app, see JIRA-12 " }), "apps/c.yaml", 3);
    const result = set().evaluate([obj], context("prod", "web"));
    assert.deepEqual(result.findings.map((f) => f.rule), ["policy.second"]);
    // services-only does not apply to a ConfigMap: nothing was exempted from it, so it is not listed.
    assert.deepEqual(result.exemptions, [
      { policy: "first", ref: obj.ref, location: { file: "apps/c.yaml", line: 3 }, reason: "legacy app, see JIRA-12", environment: "prod", stack: "web" },
    ]);
  });

  it("refuses an exemption without a reason: an error finding, and the policy still applies", () => {
    for (const annotations of [{ "gitward.dev/policy-exempt": "first" }, { "gitward.dev/policy-exempt": "first", "gitward.dev/policy-exempt-reason": "  " }]) {
      const result = set().evaluate([rendered(configMap(annotations))], context());
      assert.deepEqual(
        result.findings.map((f) => `${f.severity} ${f.rule} ${f.field ?? ""}`),
        ["error policy.exemption-without-reason metadata.annotations", "error policy.first ", "error policy.second "],
      );
      assert.match(result.findings[0]?.message ?? "", /^ConfigMap\/web\/c is exempted from first without a reason/);
      assert.deepEqual(result.exemptions, []);
    }
  });

  it("warns about an exemption from a policy that is not loaded", () => {
    const obj = rendered(configMap({ "gitward.dev/policy-exempt": "second,frist", "gitward.dev/policy-exempt-reason": "typo test" }));
    const result = set().evaluate([obj], context());
    assert.deepEqual(result.findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`), [
      'warning policy.exemption-unknown-policy: ConfigMap/web/c is exempted from "frist", which is not a loaded policy',
      "error policy.first: first failed",
    ]);
    assert.deepEqual(result.exemptions.map((e) => e.policy), ["second"]);
  });

  it("exempts from built-in policies by name", () => {
    const pod: KObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "web", annotations: { "gitward.dev/policy-exempt": "no-privileged,first,second", "gitward.dev/policy-exempt-reason": "CNI plugin" } },
      spec: { containers: [{ name: "cni", image: "cni:1.0", securityContext: { privileged: true } }] },
    };
    const result = set().evaluate([rendered(pod)], context());
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.exemptions.map((e) => e.policy), ["first", "second", "no-privileged"]);
  });

  it("ignores an empty exemption list", () => {
    const result = set().evaluate([rendered(configMap({ "gitward.dev/policy-exempt": " , " }))], context());
    assert.deepEqual(result.findings.map((f) => f.rule), ["policy.first", "policy.second"]);
  });
});
