import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../src/config/config-error.ts";
import { builtinPolicies } from "../../src/policy/index.ts";
import { load, loadIssues, policy } from "./helpers.ts";

const teamLabel = policy(
  "require-team-label",
  `
  description: Every workload names its owning team.
  environments:
    dev: { enforcement: warn }
  match:
    resources:
      - apiGroups: ["apps"]
        kinds: ["Deployment", "StatefulSet"]
  validations:
    - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
      message: "workloads must carry a team label"
`,
);

const oneValidation = (name: string, expression: string) =>
  policy(name, `  validations:\n    - expression: ${JSON.stringify(expression)}\n`);

describe("loadPolicies", () => {
  it("loads every policy document of every YAML file, in path order, and ignores other files", () => {
    const set = load({
      "policies/b.yml": `${oneValidation("b-one", "true")}---\n${oneValidation("b-two", "true")}`,
      "policies/a.yaml": teamLabel,
      "policies/README.md": "# not a policy: {{",
    });
    assert.deepEqual(
      set.policies.map((p) => `${p.name} ${p.source.file}:${p.source.line ?? 0} ${p.builtin}`),
      ["require-team-label policies/a.yaml:4 false", "b-one policies/b.yml:4 false", "b-two policies/b.yml:12 false"],
    );
  });

  it("loads built-ins enabled by name, located at gitward.yaml", () => {
    const set = load({}, [{ name: "no-latest-image" }, { name: "required-labels", params: { labels: ["team"] } }]);
    assert.deepEqual(set.policies, [
      { name: "no-latest-image", source: { file: "gitward.yaml" }, builtin: true },
      { name: "required-labels", source: { file: "gitward.yaml" }, builtin: true },
    ]);
  });

  it("compiles every built-in policy", () => {
    const all = [...builtinPolicies().keys()].map((name) => (name === "required-labels" ? { name, params: { labels: ["team"] } } : { name }));
    assert.equal(load({}, all).policies.length, builtinPolicies().size);
  });

  it("throws a ConfigError that lists every problem, not just the first", () => {
    assert.throws(() => load({ "p/a.yaml": "apiVersion: nope\n", "p/b.yaml": "kind: Policy\n" }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(e.issues.length >= 4, e.issues.map((i) => i.message).join("; "));
      return true;
    });
  });

  const cases: { name: string; files: Record<string, string>; expected: string[] }[] = [
    {
      name: "an unknown key, at the key",
      files: { "p/a.yaml": teamLabel.replace("  description:", "  descripton: typo\n  description:") },
      expected: ['p/a.yaml:6:3: spec.descripton: unknown key (did you mean "description"?)'],
    },
    {
      name: "an unknown key in a validation",
      files: { "p/a.yaml": oneValidation("x", "true").replace("- expression:", "- severity: high\n      expression:") },
      expected: ["p/a.yaml:7:7: spec.validations[0].severity: unknown key"],
    },
    {
      name: "no validations",
      files: { "p/a.yaml": policy("x", "  description: nothing to check") },
      expected: ["p/a.yaml:5:1: spec.validations: required key is missing"],
    },
    {
      name: "a wrong apiVersion",
      files: { "p/a.yaml": oneValidation("x", "true").replace("policy.gitward.dev/v1alpha1", "admissionregistration.k8s.io/v1") },
      expected: ['p/a.yaml:1:13: apiVersion: Invalid input: expected "policy.gitward.dev/v1alpha1"'],
    },
    {
      name: "a bad enforcement",
      files: { "p/a.yaml": oneValidation("x", "true").replace("spec:\n", "spec:\n  enforcement: block\n") },
      expected: ['p/a.yaml:6:16: spec.enforcement: Invalid option: expected one of "deny"|"warn"'],
    },
    {
      name: "an invalid name",
      files: { "p/a.yaml": oneValidation("Team_Label", "true") },
      expected: ["p/a.yaml:4:9: metadata.name: must be lowercase letters, digits and '-', starting and ending with a letter or digit"],
    },
    {
      name: "In without values in a label selector",
      files: { "p/a.yaml": oneValidation("x", "true").replace("spec:\n", "spec:\n  match:\n    labelSelector:\n      matchExpressions:\n        - { key: tier, operator: In }\n") },
      expected: ["p/a.yaml:9:11: spec.match.labelSelector.matchExpressions[0].values: operator In needs at least one value"],
    },
    {
      name: "invalid YAML",
      files: { "p/a.yaml": "apiVersion: [unclosed\n" },
      expected: ["p/a.yaml:2:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]"],
    },
    {
      name: "a duplicate name, naming both files",
      files: { "p/a.yaml": oneValidation("same", "true"), "p/b.yaml": oneValidation("same", "true") },
      expected: ['p/b.yaml:4:9: metadata.name: duplicate policy name "same": also defined by p/a.yaml:4:9'],
    },
    {
      name: "a CEL syntax error, at its column in a plain scalar",
      files: { "p/a.yaml": policy("x", "  validations:\n    - expression: object.spec.replicas >=\n") },
      expected: ["p/a.yaml:7:40: spec.validations[0].expression: syntax error: found > but expecting end of input"],
    },
    {
      name: "a CEL type error, at its column in a quoted scalar",
      files: { "p/a.yaml": oneValidation("x", "obj.metadata.name == 'a'") },
      expected: ["p/a.yaml:7:20: spec.validations[0].expression: type error: undeclared reference to 'obj'"],
    },
    {
      name: "a CEL type error, at its line and column in a literal block (string + string is a string)",
      files: {
        "p/a.yaml": policy("x", "  validations:\n    - expression: |\n        has(object.spec) &&\n          object.spec.replicas + 'x' > 1\n"),
      },
      expected: ["p/a.yaml:9:37: spec.validations[0].expression: type error: found no matching overload for '>' applied to '(string, int)'"],
    },
    {
      name: "an unknown function",
      files: { "p/a.yaml": oneValidation("x", "object.metadata.name.isUpper()") },
      expected: ["p/a.yaml:7:40: spec.validations[0].expression: type error: undeclared reference to function 'isUpper'"],
    },
    {
      name: "a validation that is not boolean",
      files: { "p/a.yaml": oneValidation("x", "size(object.metadata.name)") },
      expected: ["p/a.yaml:7:19: spec.validations[0].expression: must evaluate to bool, but its type is int"],
    },
    {
      name: "a messageExpression that is not a string",
      files: { "p/a.yaml": policy("x", "  validations:\n    - expression: 'true'\n      messageExpression: 1 + 1\n") },
      expected: ["p/a.yaml:8:26: spec.validations[0].messageExpression: must evaluate to string, but its type is int"],
    },
    {
      name: "an expression whose cost exceeds the limit whatever the object",
      files: {
        "p/a.yaml": oneValidation("x", `${JSON.stringify(Array.from({ length: 200 }, (_, i) => i))}.all(a, [${"0,".repeat(199)}0].all(b, [${"0,".repeat(199)}0].all(c, a + b + c >= 0)))`),
      },
      expected: ["p/a.yaml:7:19: spec.validations[0].expression: estimated cost 126108404 exceeds the cost limit 1000000 even for an empty object"],
    },
  ];
  for (const c of cases) {
    it(`reports ${c.name}`, () => {
      assert.deepEqual(loadIssues(c.files), c.expected);
    });
  }

  const builtinCases: { name: string; builtins: Parameters<typeof loadIssues>[1]; expected: string[] }[] = [
    {
      name: "an unknown built-in",
      builtins: [{ name: "no-root" }],
      expected: [`gitward.yaml: policies.builtin[0]: unknown built-in policy "no-root" (built-in policies: ${[...builtinPolicies().keys()].join(", ")})`],
    },
    {
      name: "missing params",
      builtins: [{ name: "no-latest-image" }, { name: "required-labels" }],
      expected: ["gitward.yaml: policies.builtin[1].params.labels: Invalid input: expected array, received undefined"],
    },
    {
      name: "params of the wrong type",
      builtins: [{ name: "required-labels", params: { labels: [1] } }],
      expected: ["gitward.yaml: policies.builtin[0].params.labels[0]: Invalid input: expected string, received number"],
    },
    {
      name: "params a built-in does not take",
      builtins: [{ name: "no-latest-image", params: { allow: ["x"] } }],
      expected: ["gitward.yaml: policies.builtin[0].params: unknown param allow"],
    },
    {
      name: "the same built-in twice",
      builtins: [{ name: "no-privileged" }, { name: "no-privileged", enforcement: "warn" }],
      expected: ['gitward.yaml: policies.builtin[1]: duplicate policy name "no-privileged": also defined by the built-in policy enabled in gitward.yaml'],
    },
  ];
  for (const c of builtinCases) {
    it(`reports ${c.name}`, () => {
      assert.deepEqual(loadIssues({}, c.builtins), c.expected);
    });
  }

  it("reports a repository policy named like an enabled built-in", () => {
    assert.deepEqual(loadIssues({ "p/a.yaml": oneValidation("no-privileged", "true") }, ["no-privileged"].map((name) => ({ name }))), [
      'gitward.yaml: policies.builtin[0]: duplicate policy name "no-privileged": also defined by p/a.yaml:4:9',
    ]);
  });

  it("reports environments and stacks gitward.yaml does not define, when told which exist", () => {
    const doc = policy(
      "x",
      `
  environments:
    prdo: { enforcement: warn }
  match:
    environments: [prod]
    stacks: [web, wbe]
  validations:
    - expression: "true"
`,
    );
    const known = { environments: ["dev", "prod"], stacks: ["web"] };
    assert.deepEqual(loadIssues({ "p/a.yaml": doc }, [{ name: "no-privileged", environments: { staging: { enforcement: "warn" } } }], known), [
      'p/a.yaml:7:5: spec.environments.prdo: unknown environment "prdo" (gitward.yaml defines: dev, prod)',
      'p/a.yaml:10:19: spec.match.stacks[1]: unknown stack "wbe" (gitward.yaml defines: web)',
      'gitward.yaml: policies.builtin[0].environments.staging: unknown environment "staging" (gitward.yaml defines: dev, prod)',
    ]);
  });

  it("refuses a cost limit that is not a positive number", () => {
    assert.throws(() => load({}, [], { costLimit: 0 }), /cost limit must be a positive number/);
  });
});
