import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, formatConfigIssue } from "../../src/config/config-error.ts";
import { loadPolicies } from "../../src/policy/index.ts";

/** The issues loading one policy file gives; it must be a ConfigError, never another exception. */
function issues(content: Buffer | string): string[] {
  try {
    loadPolicies({ files: new Map([["policies/p.yaml", Buffer.from(content)]]), builtins: [], configFile: "gitward.yaml" });
  } catch (e: unknown) {
    assert.ok(e instanceof ConfigError, `not a ConfigError: ${String(e)}`);
    return e.issues.map(formatConfigIssue);
  }
  assert.fail("the policy file was accepted");
}

const head = "apiVersion: policy.gitward.dev/v1alpha1\nkind: Policy\nmetadata: {name: p}\nspec:\n";

describe("policy files: the same YAML limits as manifests", () => {
  it("refuses text that is not UTF-8 at its line, column and byte", () => {
    const bytes = Buffer.concat([Buffer.from(`${head}  description: caf`), Buffer.from([0xe9]), Buffer.from("\n")]);
    assert.deepEqual(issues(bytes), [`policies/p.yaml:5:19: invalid UTF-8 at byte ${Buffer.byteLength(head) + 18} (0xe9): policy files must be UTF-8 text`]);
  });

  it("names the line of the alias past 100, not an internal error", () => {
    const text = `${head}  description: &d x\n  x:\n${Array.from({ length: 101 }, (_, i) => `    k${i}: *d\n`).join("")}`;
    assert.deepEqual(issues(text), [
      "policies/p.yaml:107:11: more than 100 aliases in one document (an alias counts as many times as the aliases inside what it refers to)",
    ]);
  });

  it("names a line for nesting deep enough to overflow the parser's stack", () => {
    const nested = Array.from({ length: 3000 }, (_, i) => `${" ".repeat(i + 2)}k${i}:\n`).join("");
    assert.match(issues(`${head}${nested}`)[0] ?? "", /^policies\/p\.yaml:\d+:\d+: collections nested more than 256 levels deep$/);
  });
});
