import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Finding } from "../../src/check/finding.ts";
import { policyGate } from "../../src/policy/index.ts";

const finding = (severity: Finding["severity"], rule: string): Finding => ({ severity, rule, message: `${rule} says so` });

describe("policyGate", () => {
  const deny = finding("error", "policy.no-privileged");
  const evalError = finding("error", "policy.evaluation-error");
  const noReason = finding("error", "policy.exemption-without-reason");
  const warn = finding("warning", "policy.no-external-services");
  const schema = finding("error", "schema");

  const cases: { name: string; findings: Finding[]; override: boolean; expected: { allowed: boolean; denials: Finding[]; overridden: boolean } }[] = [
    { name: "no findings: allowed", findings: [], override: false, expected: { allowed: true, denials: [], overridden: false } },
    { name: "warnings only: allowed", findings: [warn], override: false, expected: { allowed: true, denials: [], overridden: false } },
    { name: "other stages' errors are not the policy gate's to judge", findings: [schema], override: false, expected: { allowed: true, denials: [], overridden: false } },
    {
      name: "deny findings, evaluation errors and reasonless exemptions refuse",
      findings: [warn, deny, schema, evalError, noReason],
      override: false,
      expected: { allowed: false, denials: [deny, evalError, noReason], overridden: false },
    },
    { name: "an override lets denials through, and says so", findings: [deny], override: true, expected: { allowed: true, denials: [deny], overridden: true } },
    { name: "an override with nothing to override is not an override", findings: [warn], override: true, expected: { allowed: true, denials: [], overridden: false } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(policyGate(c.findings, { override: c.override }), c.expected);
    });
  }
});
