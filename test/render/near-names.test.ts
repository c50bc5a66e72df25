import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { editDistance, nearestName } from "../../src/render/near-names.ts";

describe("nearestName", () => {
  const cases: { name: string; declared: string[]; expected: string | undefined }[] = [
    { name: "greting", declared: ["greeting", "tier"], expected: "greeting" },
    { name: "Greeting", declared: ["greeting"], expected: "greeting" },
    { name: "KEY", declared: ["key"], expected: "key" },
    { name: "kye", declared: ["key"], expected: undefined },
    { name: "hots", declared: ["host"], expected: "host" },
    { name: "log_level", declared: ["logLevel"], expected: "logLevel" },
    { name: "relpicas", declared: ["replicas"], expected: "replicas" },
    { name: "domian", declared: ["domains", "domain"], expected: "domain" },
    { name: "abcd", declared: ["abcf", "abce"], expected: "abce" },
    { name: "FRONTEND", declared: ["replicas", "domain", "GITWARD_ENVIRONMENT", "GITWARD_STACK"], expected: undefined },
    { name: "BACKUP_EXIT", declared: ["GITWARD_STACK"], expected: undefined },
    { name: "GITWARD_STAK", declared: ["GITWARD_STACK"], expected: "GITWARD_STACK" },
    { name: "greeting", declared: ["greeting"], expected: undefined },
  ];
  for (const c of cases) {
    it(`${c.name} among ${c.declared.join(", ")} -> ${c.expected ?? "nothing"}`, () => {
      assert.equal(nearestName(c.name, c.declared), c.expected);
    });
  }
});

describe("editDistance", () => {
  const cases: [string, string, number][] = [["", "", 0], ["a", "", 1], ["kitten", "sitting", 3], ["ab", "ba", 1], ["abc", "ca", 3], ["greting", "greeting", 1]];
  for (const [a, b, d] of cases) it(`${a} -> ${b}: ${d}`, () => assert.equal(editDistance(a, b), d));
});
