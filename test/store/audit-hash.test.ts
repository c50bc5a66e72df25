import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { auditHash, canonicalJson, chainBreak, genesisHash, verifyAuditChain } from "../../src/store/audit-hash.ts";
import type { AuditEvent } from "../../src/store/store.ts";

describe("canonicalJson", () => {
  const cases: { name: string; value: unknown; expected: string }[] = [
    { name: "sorts keys at every level", value: { b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" } }, expected: `{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}` },
    { name: "sorts by code unit, not locale", value: { b: 1, B: 2, "é": 3, a: 4 }, expected: `{"B":2,"a":4,"b":1,"é":3}` },
    { name: "leaves out undefined properties", value: { a: undefined, b: null }, expected: `{"b":null}` },
    { name: "writes numbers as JSON does", value: [1, 1.5, -0, 1e21, 0.1], expected: "[1,1.5,0,1e+21,0.1]" },
    { name: "escapes strings as JSON does", value: ["a\"b\\c\n", "\u2028", "\ud800"], expected: `["a\\"b\\\\c\\n","\u2028","\\ud800"]` },
    { name: "holds scalars", value: true, expected: "true" },
    { name: "holds objects without a prototype", value: Object.assign(Object.create(null) as object, { x: 1 }), expected: `{"x":1}` },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(canonicalJson(c.value), c.expected);
    });
  }

  it("is stable through a JSON round trip", () => {
    const value = { z: [1, "two", { y: null, x: 2.5 }], a: "é\u0000" };
    assert.equal(canonicalJson(JSON.parse(canonicalJson(value))), canonicalJson(value));
  });

  const refused: { name: string; value: unknown; message: RegExp }[] = [
    { name: "NaN", value: { a: Number.NaN }, message: /\$\.a: NaN cannot be written as JSON/ },
    { name: "Infinity", value: [Infinity], message: /\$\[0\]: Infinity/ },
    { name: "a bigint", value: { n: 1n }, message: /a bigint/ },
    { name: "a function", value: { f: () => 1 }, message: /a function/ },
    { name: "undefined in an array", value: [undefined], message: /a undefined/ },
    { name: "a Date", value: { d: new Date(0) }, message: /not a Date/ },
    { name: "a Map", value: new Map(), message: /not a Map/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => {
      assert.throws(() => canonicalJson(c.value), c.message);
    });
  }
});

describe("auditHash", () => {
  const first = { seq: 1, at: "2024-05-01T10:00:00.000Z", kind: "agent-start", actor: "agent", details: { interrupted: 0 }, prevHash: genesisHash };

  it("is SHA-256 of the canonical JSON of every field but the hash (pinned: changing it breaks stored chains)", () => {
    assert.equal(auditHash(first), PINNED_FIRST_HASH);
  });

  it("changes with every field, including prevHash and absent-vs-present optionals", () => {
    const base = auditHash(first);
    const variants = [
      { ...first, seq: 2 }, { ...first, at: "2024-05-01T10:00:00.001Z" }, { ...first, kind: "sync" }, { ...first, actor: "jane" },
      { ...first, environment: "dev" }, { ...first, stack: "web" }, { ...first, revision: "abc" }, { ...first, details: {} },
      { ...first, prevHash: "1".repeat(64) },
    ];
    const hashes = new Set(variants.map(auditHash));
    assert.equal(hashes.size, variants.length);
    assert.ok(!hashes.has(base));
  });

  it("does not depend on key order in details", () => {
    assert.equal(auditHash({ ...first, details: { a: 1, b: 2 } }), auditHash({ ...first, details: { b: 2, a: 1 } }));
  });
});

describe("verifyAuditChain", () => {
  function chain(n: number): AuditEvent[] {
    const out: AuditEvent[] = [];
    let prevHash = genesisHash;
    for (let seq = 1; seq <= n; seq++) {
      const unhashed = { seq, at: "2024-05-01T10:00:00.000Z", kind: "sync", actor: "agent", details: { seq }, prevHash };
      const e = { ...unhashed, hash: auditHash(unhashed) };
      out.push(e);
      prevHash = e.hash;
    }
    return out;
  }

  it("accepts an intact chain and an empty one", () => {
    const c = chain(3);
    assert.deepEqual(verifyAuditChain(c), { ok: true, count: 3, head: c[2]!.hash });
    assert.deepEqual(verifyAuditChain([]), { ok: true, count: 0, head: genesisHash });
  });

  it("names the first break", () => {
    const c = chain(4);
    assert.deepEqual(verifyAuditChain([c[0]!, c[2]!, c[3]!]), { ok: false, count: 1, seq: 3, reason: "seq 3 follows seq 1: events were removed or reordered" });
    assert.deepEqual(verifyAuditChain([{ ...c[0]!, actor: "x" }]), { ok: false, count: 0, seq: 1, reason: "the hash does not match the event's content: it was edited" });
    assert.equal(chainBreak(undefined, { ...c[0]!, prevHash: "f".repeat(64) }), "the first event's prevHash is not the genesis hash");
    assert.equal(chainBreak({ seq: 1, hash: "e".repeat(64) }, c[1]!), "prevHash is not the hash of seq 1: the chain was replaced or reordered");
  });
});

/** Computed independently: `printf %s CANONICAL_JSON | sha256sum`. */
const PINNED_FIRST_HASH = "5f180b80159f61f0c74b31e6fbb263b6a6be5b11363ef13c34bcae4c5580017d";
