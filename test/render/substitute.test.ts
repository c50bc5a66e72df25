import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { substituteString } from "../../src/render/substitute.ts";
import { parseManifestFile } from "../../src/render/parse-manifests.ts";
import { GitwardError } from "../../src/core/errors.ts";

const vars = { name: "web", replicas: "3", empty: "" };

describe("substituteString", () => {
  const cases: { input: string; expected: string }[] = [
    { input: "plain", expected: "plain" },
    { input: "${name}", expected: "web" },
    { input: "app-${name}-${replicas}", expected: "app-web-3" },
    { input: "${missing:=fallback}", expected: "fallback" },
    { input: "${missing:-fallback}", expected: "fallback" },
    { input: "${name:=fallback}", expected: "web" },
    { input: "${empty:=fallback}", expected: "", },
    { input: "${missing:=}", expected: "" },
    { input: "$${name}", expected: "${name}" },
    { input: "$$${name}", expected: "$${name}" },
    { input: "cost: $5 and $name", expected: "cost: $5 and $name" },
    { input: "${missing:=a:b/c}", expected: "a:b/c" },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.input)} -> ${JSON.stringify(c.expected)}`, () => {
      assert.equal(substituteString(c.input, vars), c.expected);
    });
  }
  it("refuses an undefined variable without default", () => {
    assert.throws(() => substituteString("x-${nope}", vars), /variable "nope" is not defined and has no default/);
  });
  it("refuses a malformed reference", () => {
    assert.throws(() => substituteString("${not valid}", vars), /invalid substitution/);
  });
});

describe("substitution in manifests", () => {
  const parse = (text: string): unknown[] =>
    parseManifestFile("app/deploy.yaml", Buffer.from(text), { vars }).map((m) => m.object);

  it("re-types plain scalars and keeps quoted ones as strings", () => {
    const [obj] = parse('spec:\n  replicas: ${replicas}\n  label: "${replicas}"\n  name: ${name}\n') as [{ spec: unknown }];
    assert.deepEqual(obj.spec, { replicas: 3, label: "3", name: "web" });
  });

  it("cannot inject YAML structure through a value", () => {
    const [obj] = parseManifestFile("a.yaml", Buffer.from("data:\n  v: ${evil}\n"), { vars: { evil: "x\nkind: Secret" } }).map((m) => m.object);
    assert.deepEqual(obj, { data: { v: "x\nkind: Secret" } });
  });

  it("names the file and line of an undefined variable", () => {
    assert.throws(() => parse("a: 1\n---\nkind: ConfigMap\ndata:\n  x: ${nope}\n"), (e: unknown) => {
      assert.ok(e instanceof GitwardError);
      assert.equal(e.code, "variable");
      assert.equal(e.message, 'app/deploy.yaml:5:6: variable "nope" is not defined and has no default');
      return true;
    });
  });

  it("leaves an object alone when it opts out", () => {
    const text = "metadata:\n  annotations:\n    gitward.dev/substitute: disabled\ndata:\n  script: echo ${HOME}\n";
    const [obj] = parse(text) as [{ data: unknown }];
    assert.deepEqual(obj.data, { script: "echo ${HOME}" });
  });

  it("does nothing when substitution is off for the stack", () => {
    const objs = parseManifestFile("a.yaml", Buffer.from("x: ${nope}\n"), { vars: undefined }).map((m) => m.object);
    assert.deepEqual(objs, [{ x: "${nope}" }]);
  });
});
