import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attributeDiff, dottedPaths, maskSensitive } from "../../../src/providers/terraform/attribute-diff.ts";
import { actionOf } from "../../../src/providers/terraform/plan-json.ts";

describe("Terraform attribute diffs", () => {
  const cases: { name: string; before: unknown; after: unknown; unknown?: unknown; replace?: string[]; diff: string }[] = [
    { name: "create with an unknown id", before: null, after: { input: "a" }, unknown: { id: true }, diff: '+ id = (known after apply)\n+ input = "a"' },
    { name: "delete", before: { input: "a", n: 1 }, after: null, diff: '- input = "a"\n- n = 1' },
    { name: "update of a nested value, unchanged ones left out", before: { tags: { a: "1", b: "2" } }, after: { tags: { a: "1", b: "3" } }, diff: '~ tags.b: "2" → "3"' },
    { name: "a list element forcing replacement", before: { t: [1] }, after: { t: [2] }, replace: ["t"], diff: "~ t[0]: 1 → 2  # forces replacement" },
    { name: "an emptied map", before: { m: { k: "v" } }, after: { m: {} }, diff: '+ m = {}\n- m.k = "v"' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(attributeDiff(c.before, c.after, c.unknown ?? {}, c.replace ?? []), c.diff));
  }

  it("masks what the sensitivity tree marks, whole subtrees included", () => {
    assert.deepEqual(maskSensitive({ a: "x", b: { c: "y", d: ["p", "q"] }, e: null }, { b: { d: [false, true] }, e: true }), {
      a: "x", b: { c: "y", d: ["p", "(sensitive value)"] }, e: null,
    });
    assert.deepEqual(maskSensitive({ a: { b: 1 } }, { a: true }), { a: "(sensitive value)" });
  });

  it("reads replace paths and action lists", () => {
    assert.deepEqual(dottedPaths([["triggers_replace", 0], ["input", "name"]]), ["triggers_replace[0]", "input.name"]);
    assert.equal(actionOf(["delete", "create"]), "replace");
    assert.equal(actionOf(["create", "delete"]), "replace");
    assert.equal(actionOf(["update"]), "update");
    assert.equal(actionOf(["forget"]), "no-op");
  });
});
