import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retypePlain, retypeWithYaml, substituteString, SubstitutionError, substituteValue, VarResolver } from "../../src/render/substitute.ts";
import { PlainTemplate } from "../../src/render/yaml-fast.ts";
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

describe("which ${…} are gitward's", () => {
  // greeting is set; tier is declared for the stack in another environment only.
  const set = { greeting: "hello" };
  const declared = ["tier"];
  type Case = { text: string; expected?: string; error?: RegExp; strict?: boolean };
  const cases: Case[] = [
    // One line: a manifest field, where every ${…} is gitward's.
    { text: "${greeting}", expected: "hello" },
    { text: "${nope}", error: /^variable "nope" is not defined and has no default$/ },
    { text: "${nope:=d}", expected: "d" },
    { text: "${tier:-bronze}", expected: "bronze" },
    { text: "${tier}", error: /^variable "tier" is not defined in this environment and has no default$/ },
    { text: "${greting}", error: /^variable "greting" is not defined; did you mean \$\{greeting\}\?$/ },
    { text: "${GREETING:=x}", error: /did you mean \$\{greeting\}/ },
    { text: "${not valid}", error: /^invalid substitution "\$\{not valid\}"/ },
    { text: "$${nope}", expected: "${nope}" },
    // Several lines: a script or file, where only declared names (and names near them) are gitward's.
    { text: "echo ${greeting}\n", expected: "echo hello\n" },
    { text: "echo ${HOME} ${KEY}\n", expected: "echo ${HOME} ${KEY}\n" },
    { text: "EXIT=${BACKUP_EXIT:-0}\nurl=${FRONTEND_URL:=http://frontend}\n", expected: "EXIT=${BACKUP_EXIT:-0}\nurl=${FRONTEND_URL:=http://frontend}\n" },
    { text: "n=${#items[@]} base=${file%.*} ${1}\n", expected: "n=${#items[@]} base=${file%.*} ${1}\n" },
    { text: "a ${x\ny}\n", expected: "a ${x\ny}\n" },
    { text: "tier=${tier}\n", error: /^variable "tier" is not defined in this environment/ },
    { text: "tier=${tier:-bronze}\n", expected: "tier=bronze\n" },
    { text: "echo ${greting}\n", error: /did you mean \$\{greeting\}/ },
    { text: "echo ${greting:-hi}\n", error: /did you mean \$\{greeting\}/ },
    { text: "echo $${HOME}\n", expected: "echo ${HOME}\n" },
    // substitute: strict: every ${…} is gitward's, as in one-line text.
    { text: "echo ${HOME}\n", strict: true, error: /^variable "HOME" is not defined and has no default$/ },
    { text: "EXIT=${BACKUP_EXIT:-0}\n", strict: true, expected: "EXIT=0\n" },
    { text: "base=${file%.*}\n", strict: true, error: /^invalid substitution/ },
  ];
  for (const c of cases) {
    it(`${c.strict === true ? "strict: " : ""}${JSON.stringify(c.text)}`, () => {
      const resolver = new VarResolver(set, { declared, strict: c.strict === true });
      if (c.error === undefined) assert.equal(resolver.substitute(c.text), c.expected);
      else {
        const error = c.error;
        assert.throws(() => resolver.substitute(c.text), (e: unknown) => e instanceof SubstitutionError && error.test(e.message));
      }
    });
  }

  it("says which reference failed, where it is in the text, and what to do", () => {
    const text = "a ${greeting}\nb ${greting} ${greting}\n";
    assert.throws(() => new VarResolver(set, { declared }).substitute(text), (e: unknown) => {
      assert.ok(e instanceof SubstitutionError);
      assert.deepEqual([e.variable, e.reference, e.index, e.text], ["greting", "${greting}", 16, text]);
      assert.match(e.hint, /write \$\$\{greting\} or annotate the object with gitward.dev\/substitute: disabled/);
      return true;
    });
  });

  it("does not take names from Object.prototype for variables", () => {
    assert.throws(() => substituteString("${constructor}", {}), /variable "constructor" is not defined/);
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

describe("substitution on values from the fast parser", () => {
  it("re-types templates, substitutes other strings and keys without re-typing them", () => {
    const value = { [`\${replicas}`]: [new PlainTemplate("${replicas}"), "${replicas}", new PlainTemplate("x-${name}")], k: new PlainTemplate("${missing:=~}") };
    assert.deepStrictEqual(substituteValue(value, new VarResolver(vars)), { 3: [3, "3", "x-web"], k: null });
  });

  it("gives templates back their text when an object opts out", () => {
    assert.deepStrictEqual(substituteValue({ a: [new PlainTemplate("${nope}")], "${b}": "${c}" }, undefined), { a: ["${nope}"], "${b}": "${c}" });
  });

  it("refuses keys that collide after substitution, for the reference path to decide", () => {
    assert.throws(() => substituteValue({ "${name}": 1, web: 2 }, new VarResolver(vars)), /ambiguous/);
  });

  it("types block, quoted and flow scalars as before", () => {
    const text = "a: |\n  n=${replicas}\nb: '${replicas}'\nc: [\"${replicas}\", '${replicas}']\n${replicas}: k\nd: ${name:=x} ${replicas}\n";
    const [obj] = parseManifestFile("f.yaml", Buffer.from(text), { vars }).map((m) => m.object);
    assert.deepStrictEqual(obj, { a: "n=3\n", b: "3", c: ["3", "3"], 3: "k", d: "web 3" });
  });
});

describe("retypePlain", () => {
  it("types text as parsing it with the yaml package does", () => {
    const notable = ["3", "-0", "0x1F", "0o17", "0755", "1e3", "7e12345", "1e400", ".inf", "-.inf", ".nan", "true", "yes", "~", "null", "-",
      "---", "...", "a:", ":", "a: b", "- x", "[1]", "{a: 1}", "'q'", "\"q\"", "x # c", "&a x", "!!str 3", "a\nb: c", "@x", "1_000", "v1.2"];
    for (const text of notable) assert.deepStrictEqual(retypePlain(text), retypeWithYaml(text), JSON.stringify(text));
  });

  it("agrees with the yaml package on generated text (seeded)", () => {
    const alphabet = "0123456789abefxoEINnaturlsTRUFALS._+-/=:~ #[]{}',\"\n";
    const pieces = ["0x", "0o", "1e", ".inf", ".nan", "-", "---", "...", "true", "Null", "~", ":", "a:", "7e12345", "1e400", "0755"];
    let state = 7;
    const random = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    for (let i = 0; i < 5000; i++) {
      let text = "";
      for (let k = 1 + random(6); k > 0; k--) text += random(3) === 0 ? (pieces[random(pieces.length)] ?? "") : alphabet.charAt(random(alphabet.length));
      assert.deepStrictEqual(retypePlain(text), retypeWithYaml(text), JSON.stringify(text));
    }
  });
});
