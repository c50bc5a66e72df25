import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GitwardError } from "../../src/core/errors.ts";
import { parseManifestFile } from "../../src/render/parse-manifests.ts";

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
