import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { load } from "./helpers.ts";

const docs = readFileSync(new URL("../../docs/policies.md", import.meta.url), "utf8");
const policyBlocks = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "").filter((b) => b.includes("kind: Policy"));

describe("docs/policies.md", () => {
  it("has policy examples", () => {
    assert.ok(policyBlocks.length >= 5);
  });

  policyBlocks.forEach((block, i) => {
    const name = /name: (\S+)/.exec(block)?.[1] ?? `block ${i}`;
    it(`example ${name} loads`, () => {
      assert.equal(load({ [`docs/example-${i}.yaml`]: block }).policies.length, 1);
    });
  });
});
