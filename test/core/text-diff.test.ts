import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unifiedHunks } from "../../src/core/text-diff.ts";

describe("unifiedHunks", () => {
  const cases = [
    { name: "equal texts", before: "a\nb\n", after: "a\nb\n", want: [] },
    { name: "both empty", before: "", after: "", want: [] },
    { name: "a create: every line an addition", before: "", after: "a\nb\n", want: ["@@ -0,0 +1,2 @@", "+a", "+b"] },
    { name: "a create without a final newline", before: "", after: "a\nb", want: ["@@ -0,0 +1,2 @@", "+a", "+b"] },
    { name: "a create of one empty line", before: "", after: "\n", want: ["@@ -0,0 +1,1 @@", "+"] },
    { name: "a create keeps its inner empty lines", before: "", after: "a\n\nb\n", want: ["@@ -0,0 +1,3 @@", "+a", "+", "+b"] },
    { name: "a delete: every line a deletion", before: "a\nb\n", after: "", want: ["@@ -1,2 +0,0 @@", "-a", "-b"] },
    { name: "a delete without a final newline", before: "a", after: "", want: ["@@ -1,1 +0,0 @@", "-a"] },
    { name: "a changed line with context", before: "1\n2\n3\n4\n5\n", after: "1\n2\nthree\n4\n5\n", want: ["@@ -1,5 +1,5 @@", " 1", " 2", "-3", "+three", " 4", " 5"] },
    {
      name: "changes far apart are two hunks",
      before: "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", after: "one\n2\n3\n4\n5\n6\n7\n8\n9\nten\n",
      want: ["@@ -1,4 +1,4 @@", "-1", "+one", " 2", " 3", " 4", "@@ -7,4 +7,4 @@", " 7", " 8", " 9", "-10", "+ten"],
    },
    { name: "lines added at the end", before: "a\n", after: "a\nb\n", want: ["@@ -1,1 +1,2 @@", " a", "+b"] },
    { name: "no marker for a missing final newline", before: "a\nb", after: "a\nc", want: ["@@ -1,2 +1,2 @@", " a", "-b", "+c"] },
  ];
  for (const c of cases) it(c.name, () => assert.equal(unifiedHunks(c.before, c.after), c.want.join("\n")));
});
