import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GitwardError } from "../../src/core/errors.ts";
import { parseManifestFile, parseManifestsReference } from "../../src/render/parse-manifests.ts";

const parse = (text: string | Buffer, options = {}) =>
  parseManifestFile("m.yaml", typeof text === "string" ? Buffer.from(text) : text, { vars: undefined, ...options });

function refused(text: string | Buffer, message: string | RegExp, code?: string): void {
  assert.throws(() => parse(text), (e: unknown) => {
    assert.ok(e instanceof GitwardError, `not a GitwardError: ${String(e)}`);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    if (code !== undefined) assert.equal(e.code, code);
    return true;
  });
}

/** A document with `n` aliases of one anchor, one per line from line 4. */
function aliases(n: number): string {
  return `kind: ConfigMap\nx: &a v\ndata:\n${Array.from({ length: n }, (_, i) => `  k${i}: *a\n`).join("")}`;
}

describe("manifests that are not UTF-8", () => {
  it("are refused at the line, column and byte of the first bad byte, not read as U+FFFD", () => {
    const text = Buffer.concat([Buffer.from("kind: ConfigMap\ndata:\n  é: ca"), Buffer.from([0xff]), Buffer.from("fé\n")]);
    refused(text, "m.yaml:3:8: invalid UTF-8 at byte 30 (0xff): manifests must be UTF-8 text", "render");
  });

  for (const [what, bytes, where] of [
    ["a truncated sequence", [0x61, 0x3a, 0x20, 0xe2, 0x82], "1:4: invalid UTF-8 at byte 3 (0xe2)"],
    ["an overlong form", [0x61, 0x3a, 0x20, 0xc0, 0xaf], "1:4: invalid UTF-8 at byte 3 (0xc0)"],
    ["a surrogate", [0x61, 0x3a, 0x20, 0xed, 0xa0, 0x80], "1:4: invalid UTF-8 at byte 3 (0xed)"],
    ["a code point above U+10FFFF", [0x61, 0x3a, 0x20, 0xf4, 0x90, 0x80, 0x80], "1:4: invalid UTF-8 at byte 3 (0xf4)"],
    ["a Latin-1 file", [...Buffer.from("kind: A\nv: caf\xe9\n", "latin1")], "2:7: invalid UTF-8 at byte 14 (0xe9)"],
  ] as const) {
    it(`refuses ${what}`, () => refused(Buffer.from(bytes), `m.yaml:${where}: manifests must be UTF-8 text`));
  }

  it("still reads UTF-8 text with a byte order mark and characters of every length", () => {
    const [m] = parse(Buffer.from("\uFEFFkind: A\nv: \"é€😀\"\n"));
    assert.deepEqual(m?.object, { kind: "A", v: "é€😀" });
  });
});

describe("alias limits in manifests", () => {
  it("allow 100 aliases in a document", () => {
    assert.equal(parse(aliases(100)).length, 1);
  });

  it("name the file, the line of the alias past the limit, and the limit", () => {
    refused(aliases(101), /^m\.yaml:104:9: more than 100 aliases in one document \(an alias counts as many times as the aliases inside what it refers to\)$/, "limit");
  });

  it("count an alias as many times as the aliases inside what it refers to (the billion laughs)", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 4; i++) {
      const [name, prev] = [String.fromCharCode(98 + i), String.fromCharCode(97 + i)];
      lines.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    // The third line's aliases (each counting 10) pass 100 at its eleventh... there are ten: the fourth line's first does.
    refused(lines.join("\n") + "\n", /^m\.yaml:3:\d+: more than 100 aliases in one document/, "limit");
  });

  it("are counted per document", () => {
    assert.equal(parse(`${aliases(60)}---\n${aliases(60)}`).length, 2);
  });

  it("give the same error in the whole-file reference", () => {
    assert.throws(() => parseManifestsReference("m.yaml", aliases(101), { vars: undefined }), /m\.yaml:104:9: more than 100 aliases/);
  });
});

describe("other YAML that cannot become an object", () => {
  const cases: [string, string, RegExp][] = [
    ["an alias without an anchor", "kind: A\nv: *nope\n", /^m\.yaml:2:4: invalid YAML: alias \*nope has no anchor &nope before it$/],
    ["an alias inside what it refers to", "kind: A\nv: &x [1, *x]\n", /^m\.yaml:2:11: invalid YAML: alias \*x is inside the node it refers to$/],
    ["a merge of a scalar", "kind: A\nb: &s 1\nc:\n  <<: *s\n", /^m\.yaml:4:3: invalid YAML: a merge key \(<<\) must refer to a mapping or a list of mappings$/],
    ["a mapping as a key", "kind: A\n? {a: 1}\n: v\n", /^m\.yaml:2:3: invalid YAML: a mapping key must be a scalar, not a mapping or a list$/],
    ["nesting deeper than 256", `kind: A\nv: ${"[".repeat(300)}${"]".repeat(300)}\n`, /^m\.yaml:2:\d+: collections nested more than 256 levels deep$/],
  ];
  for (const [what, text, expected] of cases) {
    it(`refuses ${what} with its line`, () => refused(text, expected));
  }

  it("refuses block nesting deep enough to overflow the parser's stack, near the line where it passes 256", () => {
    const nested = Array.from({ length: 3000 }, (_, i) => `${" ".repeat(i)}k${i}:\n`).join("");
    refused(`kind: A\n${nested}`, /^m\.yaml:(2[5-9]\d|3\d\d|\d{4}):\d+: collections nested more than 256 levels deep$/, "limit");
  });

  it("reads 256 levels of nesting", () => {
    assert.equal(parse(`kind: A\nv: ${"[".repeat(255)}${"]".repeat(255)}\n`).length, 1);
  });

  it("keeps !!binary, !!set and !!timestamp values as the text or collection they tag", () => {
    const [m] = parse("kind: A\nb: !!binary aGk=\ns: !!set {a}\nt: !!timestamp 2001-12-14\n");
    assert.deepEqual(m?.object, { kind: "A", b: "aGk=", s: { a: null }, t: "2001-12-14" });
  });
});

describe("objects per file", () => {
  const many = (n: number): string => Array.from({ length: n }, (_, i) => `---\nkind: ConfigMap\nmetadata: {name: c${i}}\n`).join("");
  const limit = { max: 5, message: "more than 5 objects in one file (limits.maxObjectsPerFile)" };

  it("stop at the first object past the limit, at its line", () => {
    assert.equal(parse(many(5), { objectLimit: limit }).length, 5);
    assert.throws(() => parse(many(6), { objectLimit: limit }), (e: unknown) => e instanceof GitwardError && e.code === "limit" && e.message === "m.yaml:17:1: more than 5 objects in one file (limits.maxObjectsPerFile)");
  });

  it("count the items of a List", () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n${Array.from({ length: 6 }, (_, i) => `  - {kind: ConfigMap, metadata: {name: c${i}}}\n`).join("")}`;
    assert.throws(() => parse(list, { objectLimit: limit }), /m\.yaml:1:1: more than 5 objects in one file/);
  });
});
