import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { GitwardError } from "../../src/core/errors.ts";
import {
  isManifestFile, parseManifestFile, parseManifestsFast, parseManifestsReference, type ParsedManifest, type ParseOptions,
} from "../../src/render/parse-manifests.ts";
import type { Vars } from "../../src/render/substitute.ts";

const parse = (text: string | Buffer) =>
  parseManifestFile("m.yaml", typeof text === "string" ? Buffer.from(text) : text, { vars: undefined });

function refused(text: string | Buffer, message: string): void {
  assert.throws(() => parse(text), (e: unknown) => {
    assert.ok(e instanceof GitwardError, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

describe("parseManifestFile", () => {
  it("reads several documents with the line each starts on, skipping empty ones", () => {
    const got = parse("# lead comment\na: 1\n---\n---\n# only a comment\n---\nb: 2\n");
    assert.deepEqual(got.map((m) => [m.object, m.location.line]), [[{ a: 1 }, 2], [{ b: 2 }, 7]]);
  });

  it("reads JSON", () => {
    assert.deepEqual(parse('{"kind": "ConfigMap", "data": {"a": "1"}}').map((m) => m.object), [{ kind: "ConfigMap", data: { a: "1" } }]);
  });

  it("uses YAML 1.2: yes, on and 0755 are not booleans or octal", () => {
    const [m] = parse("a: yes\nb: on\nc: 0755\nd: no\n");
    assert.deepEqual(m?.object, { a: "yes", b: "on", c: 755, d: "no" });
  });

  it("reads merge keys as kubectl does", () => {
    const [m] = parse("base: &b {a: 1, b: 2}\nobj:\n  <<: *b\n  b: 3\n");
    assert.deepEqual(m?.object, { base: { a: 1, b: 2 }, obj: { a: 1, b: 3 } });
  });

  it("expands a v1 List", () => {
    const got = parse("apiVersion: v1\nkind: List\nitems:\n  - {kind: A}\n  - {kind: B}\n");
    assert.deepEqual(got.map((m) => m.object), [{ kind: "A" }, { kind: "B" }]);
  });

  it("refuses malformed YAML with its position", () => refused("a: 1\nb: [1, 2\nc: 3\n", "m.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]"));
  it("refuses a document that is a list", () => refused("a: 1\n---\n- x\n- y\n", "m.yaml:3:1: document is a list, not an object"));
  it("refuses a document that is a string", () => refused("just text\n", "m.yaml:1:1: document is a string, not an object"));
  it("refuses a binary file", () => refused(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]), "m.yaml: binary file is not a manifest"));
  it("refuses duplicate keys", () => refused("a: 1\na: 2\n", "m.yaml:2:1: invalid YAML: Map keys must be unique"));
  it("refuses an alias bomb", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 12; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`);
    assert.throws(() => parse(lines.join("\n") + "\n"), /alias/i);
  });
});

// The fast parser (js-yaml) must give exactly what the reference parser (`yaml`) gives, or
// decline; parseManifestFile must answer exactly as the reference, errors included.
type Outcome = { ok: unknown } | { error: { message: string; code: string; hint: string | undefined } } | { thrown: string };

function outcome(run: () => ParsedManifest[]): Outcome {
  try {
    return { ok: ordered(run()) };
  } catch (e: unknown) {
    // A few inputs (a merge key whose value is a scalar) throw the `yaml` package's own error.
    if (!(e instanceof GitwardError)) return { thrown: String(e) };
    return { error: { message: e.message, code: e.code, hint: e.hint } };
  }
}

/** Objects as key/value lists, so that key order is compared too; -0 and NaN compare as values. */
function ordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ordered);
  if (value !== null && typeof value === "object") return Object.entries(value).map(([k, v]) => [k, ordered(v)]);
  return value;
}

const root = join(import.meta.dirname, "../..");
const corpusVars = {
  GITWARD_ENVIRONMENT: "staging", domain: "example.com", host: "web", logLevel: "debug", redisMemory: "256Mi",
  redisVersion: "7e12345", replicas: "3", x: "3", y: "7e12345", z: "a: b", sha: "00009e395456",
};

/** Strict substitution, with a name declared elsewhere: errors must agree too. */
const strictCorpus: ParseOptions = { vars: corpusVars, substitution: { strict: true, declared: ["tier"] } };

function corpusFiles(): { name: string; text: string }[] {
  const dirs = ["examples/infra", "test/policy/fixtures", "test/providers/kubernetes/fixtures"];
  return dirs.flatMap((dir) => readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => isManifestFile(f))
    .map((f) => ({ name: `${dir}/${f}`, text: readFileSync(join(root, dir, f), "utf8") })));
}

const scalarForms = [
  "1e3", "1.0E+2", ".inf", "-.Inf", "+.INF", ".NaN", ".nan", "0x1F", "-0x1F", "+12", "-0", "-0.0", "1_000", "0o17", "0755",
  "2001-12-14", "2001-12-14T21:59:43.10-05:00", "12:30:45", "~", "null", "NULL", "nUll", "True", "FALSE", "tRue", "yes", "on", "no",
  "7e12345", "-7E999", "00009e395456", "1e-400", "1" + "0".repeat(400), "0x" + "f".repeat(300), "9007199254740993", "1.", ".5",
  "v1", "${x}", "a-${x}", "${y}", "${sha}", "${z}", "$${x}", "${missing:=5}", "${missing:=a b}", "'${x}'", '"${x}"', "a b  c", "a#b",
  "a:b", "http://h/p?q=1&r", "-x", "'it''s'", '"\\x41\\u00e9\\U0001F600\\N\\_\\L\\0\\/\\ "', '"line\\\n  cont"',
  "\"multi\n  line\n\n  quoted\"", "plain\n  multi\n  line", "|\n  lit ${x}\n   more\n\n",
  "|\n  sh ${HOME} ${x:-1} ${nope:=d} ${#a[@]}\n", "|\n  ${hots}\n", "\"two\n\n  ${nope} ${x}\"", "plain\n\n  ${nope}", ">\n  ${HOME}\n  ${x}\n", "|-\n  strip\n", "|+\n  keep\n\n",
  ">\n  fold\n  ed\n\n  para\n   indented\n  back\n", "|2\n   two\n", "!!str 3", "!!int '7'", "!!float 7e12345", "&a x", '""', "''", "",
  "[]", "{}", "[a, ${x}, 'b']", "{a: 1, 'b': \"c\"}", "[a: 1]", "é😀", "<<", "=", "-", "---x",
];
const contexts = [
  (s: string) => `k: ${s}\n`, (s: string) => `l:\n  - ${s.replace(/\n/g, "\n  ")}\n`, (s: string) => `f: [${s}]\n`,
  (s: string) => `m: {k: ${s}}\n`, (s: string) => `${s}: v\n`, (s: string) => `"${s}": v\n`, (s: string) => `--- ${s}\n`,
];
const documents = [
  "# c\na: 1\n---\n---\n# only a comment\n---\nb: 2\n", "a: 1\n...\n---\nb: 2\n...\n", "---\n...\n--- {a: 1}\n", "\n\n  a: 1\n  b: 2\n",
  "a: 1\r\nb: 2\r\n---\r\nc: 3\r\n", "a: |\r\n  x\r\n  y\r\n\r\nb: \"p\r\n  q\"\r\nc: >\r\n  r\r\n\r\n  s\r\n", "a: 1\rb: 2\n", "\uFEFFa: 1\n", "a: 1\n\uFEFF---\nb: 2\n", "%YAML 1.2\n---\na: yes\n",
  "a: &x {b: 1}\nc: *x\n", "base: &b {a: 1, b: 2}\nobj:\n  <<: *b\n  b: 3\n", "obj:\n  b: 3\n  <<: [{b: 1, c: 2}, {c: 3, d: 4}]\n",
  "a: <<\n", "--- !!map\na: 1\n", "? a\n\t: b\n", "? [a]\n: b\n", "1: a\n01: b\n", "1: a\n'1': b\n", "true: 1\n", "~: 1\n",
  "__proto__: 1\n", "constructor: 1\ntoString: 2\n", "${x}: 1\n${y}: 2\n", "${x}: 1\n'3': 2\n", "a: 1\n${x}: 2\n3: 4\n",
  "metadata:\n  annotations:\n    gitward.dev/substitute: disabled\ndata: {a: ${x}, b: '${nope}'}\n",
  "metadata:\n  annotations:\n    gitward.dev/substitute: \"disabled\"\nk: ${x}\n", "metadata: {annotations: {gitward.dev/substitute: ${x}}}\n",
  "apiVersion: v1\nkind: List\nitems:\n  - {kind: A, n: ${x}}\n  - kind: B\n", "apiVersion: v1\nkind: List\nitems: [a]\n",
  "apiVersion: v1\nkind: List\nitems: {}\n", "kind: List\nitems: [{a: 1}]\n", `${"k".repeat(1100)}: 1\n`, `x: 1\n${"k".repeat(1100)}: 1\n`,
  `{${"k".repeat(1100)}: 1}\n`, `a: ${"v".repeat(1100)}\n`, "a: b: c\n", "a:\n\t- b\n", "a: [1, 2\nb: 3\n", "a: 1\na: 2\n",
  "a: 1\n...\n... {b: 1}\n", "a: 1\n... # c\nb: 2\n", "? e\n\tx: 1\n", "a: |\n  x\n\t # c\n", "a: |\n  x\n\t\n", "a: 1\n\t# c\n",
  "make: |\n  all:\n  \tcc -o x\n  \t-rm y\n", "a: {b: 1,\n\tc: 2}\n", "x: ${nope}\n", "x: '${nope}'\n", "x: ${not valid}\n", "f: [${x}, {a: ${x}}]\n", "- a\n", "just text\n", "--- 3\n", "--- ~\n", "--- ${x}\n",
];

function edgeCases(): string[] {
  // Collections as keys are covered once, in `documents`: the reference parser warns on each.
  const asKey = (c: (s: string) => string) => c("s").startsWith("s") || c("s").startsWith('"s');
  return [...scalarForms.flatMap((s) => contexts.filter((c) => !(/^[[{]/.test(s) && asKey(c))).map((c) => c(s))), ...documents];
}

function assertAgree(name: string, text: string, options: ParseOptions): boolean {
  const reference = outcome(() => parseManifestsReference(name, text, options));
  assert.deepStrictEqual(outcome(() => parseManifestFile(name, Buffer.from(text), options)), reference, `${name}: ${JSON.stringify(text)}`);
  // Read in chunks of one document: the answer, errors included, is the whole file's.
  const chunked = outcome(() => parseManifestFile(name, Buffer.from(text), { ...options, chunkSize: 1 }));
  assert.deepStrictEqual(chunked, reference, `chunked ${name}: ${JSON.stringify(text)}`);
  const fast = parseManifestsFast(name, text, options);
  if (fast === undefined) return false;
  assert.deepStrictEqual({ ok: ordered(fast) }, reference, `fast path on ${name}: ${JSON.stringify(text)}`);
  return true;
}

describe("fast and reference parsers", () => {
  it("agree on the examples and test fixtures, and the fast path reads them all", () => {
    const files = corpusFiles();
    assert.ok(files.length > 40, `corpus has ${files.length} files`);
    for (const { name, text } of files) {
      for (const vars of [undefined, corpusVars]) {
        const fast = assertAgree(name, text, { vars });
        assert.ok(fast, `${name} should not need the reference parser`);
      }
    }
  });

  it("agree on edge cases: scalar forms, keys, documents, errors", () => {
    let fast = 0;
    const cases = edgeCases();
    for (const text of cases) {
      for (const options of [{ vars: undefined }, { vars: corpusVars }, strictCorpus]) if (assertAgree("edge.yaml", text, options)) fast++;
    }
    assert.ok(fast > cases.length, `fast path took ${fast} of ${cases.length * 3}`);
  });

  it("agree on mutated manifests (seeded)", () => {
    const seeds = [...corpusFiles().map((f) => f.text), ...documents];
    const random = seeded(20261122);
    const bits = [" ", "\t", "\n", ":", ": ", "- ", "#", " #", "'", '"', "\\", "[", "]", "{", "}", ",", "? ", "&a ", "*a", "!!str ", "|", ">-",
      "---\n", "...\n", "${x}", "$${x}", "<<: ", "~", "1e999", "\r", "\uFEFF", "\u0085", "\x01", "é", "\n  ", "k".repeat(1030)];
    let fast = 0;
    for (let i = 0; i < 1500; i++) {
      let text = seeds[random(seeds.length)] ?? "";
      for (let n = 1 + random(3); n > 0; n--) {
        const at = random(text.length + 1);
        text = random(3) === 0 ? text.slice(0, at) + text.slice(at + 1 + random(3)) : text.slice(0, at) + (bits[random(bits.length)] ?? "") + text.slice(at);
      }
      if (assertAgree("fuzz.yaml", text, { vars: random(2) === 0 ? undefined : corpusVars })) fast++;
    }
    assert.ok(fast > 200, `fast path took ${fast} of 1500`);
  });
});

/** A small deterministic PRNG (mulberry32): answers an integer below n. */
function seeded(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

describe("numbers that overflow a double", () => {
  const read = (text: string, vars?: Vars) => parseManifestFile("k.yaml", Buffer.from(text), { vars }).map((m) => m.object);

  it("keeps an unquoted short SHA such as 7e12345 a string, as kustomize means it", () => {
    const text = "kind: ConfigMap\ndata:\n  tag: 7e12345\n  old: 00009e395456\n  big: 1" + "0".repeat(400) + "\n  neg: -7E999\n";
    const expected = [{ kind: "ConfigMap", data: { tag: "7e12345", old: "00009e395456", big: "1" + "0".repeat(400), neg: "-7E999" } }];
    assert.deepStrictEqual(read(text), expected);
    assert.deepStrictEqual(parseManifestsReference("k.yaml", text, { vars: undefined }).map((m) => m.object), expected);
  });

  it("still reads .inf, .nan and numbers that fit", () => {
    const [obj] = read("a: .inf\nb: -.Inf\nc: .NaN\nd: 1e3\ne: 0x1F\nf: 1e-400\ng: '7e12345'\n7e12345: key\n");
    assert.deepStrictEqual(obj, { a: Infinity, b: -Infinity, c: NaN, d: 1000, e: 31, f: 0, g: "7e12345", "7e12345": "key" });
  });

  it("keeps a substituted SHA a string", () => {
    const [obj] = read("tag: ${sha}\nn: ${n}\n", { sha: "7e12345", n: "3" });
    assert.deepStrictEqual(obj, { tag: "7e12345", n: 3 });
  });
});

describe("what the fast path leaves to the reference parser", () => {
  const fast = (text: string) => parseManifestsFast("d.yaml", text, { vars: undefined });

  it("reads tabs inside block scalars itself", () => {
    assert.deepStrictEqual(fast("make: |\n  all:\n  \tcc -o x\n")?.map((m) => m.object), [{ make: "all:\n\tcc -o x\n" }]);
  });

  it("reads plain manifests itself", () => {
    assert.deepStrictEqual(fast("# c\n---\nkind: A\n---\n{\"kind\": \"B\"}\n")?.map((m) => [m.object, m.location]), [
      [{ kind: "A" }, { file: "d.yaml", line: 3, column: 1 }],
      [{ kind: "B" }, { file: "d.yaml", line: 5, column: 1 }],
    ]);
  });

  const declined: [string, string][] = [
    ["aliases and merge keys", "a: &x {b: 1}\nc: *x\n"],
    ["tags", "a: !!str 3\n"],
    ["directives", "%YAML 1.2\n---\na: 1\n"],
    ["non-scalar keys", "? [a]\n: b\n"],
    ["null keys", ": b\n"],
    ["a lone CR", "a: 1\rb: 2\n"],
    ["a BOM after the start", "a: 1\n\uFEFF---\nb: 2\n"],
    ["an implicit key over 1024 characters", `${"k".repeat(1100)}: 1\n`],
    ["a tab before an explicit key's colon", "? a\n\t: b\n"],
    ["a tab in the indentation of a key", "? e\n\tx: 1\n"],
    ["a blank line with a tab", "a: |\n  x\n\t\n"],
    ["content after a document end marker", "a: 1\n...\n... {b: 1}\n"],
    ["syntax errors", "a: [1\n"],
    ["duplicate keys", "a: 1\na: 2\n"],
    ["documents that are not objects", "- a\n"],
  ];
  for (const [what, text] of declined) {
    it(`declines ${what}`, () => assert.equal(fast(text), undefined));
  }

  it("refuses the billion laughs through the reference parser", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 12; i++) {
      const [name, prev] = [String.fromCharCode(98 + i), String.fromCharCode(97 + i)];
      lines.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    const text = lines.join("\n") + "\n";
    assert.equal(fast(text), undefined);
    assert.throws(() => parse(text), /alias/i);
  });

  it("refuses a long implicit key with the reference message", () => {
    refused(`${"k".repeat(1100)}: 1\n`, "m.yaml:1:1: invalid YAML: The : indicator must be at most 1024 chars after the start of an implicit block mapping key");
  });
});
