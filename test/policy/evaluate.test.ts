import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/core/object.ts";
import { context, load, policy, rendered } from "./helpers.ts";

function deployment(name: string, extra: { namespace?: string; labels?: Record<string, string>; replicas?: number } = {}): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: extra.namespace ?? "web", ...(extra.labels === undefined ? {} : { labels: extra.labels }) },
    spec: { replicas: extra.replicas ?? 1, template: { spec: { containers: [{ name: "app", image: "nginx:1.27" }] } } },
  };
}

const configMap: KObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "web" }, data: { a: "1" } };

const replicas = policy(
  "min-replicas",
  `
  environments:
    dev: { enforcement: warn }
  match:
    resources:
      - { apiGroups: [apps], kinds: [Deployment] }
  validations:
    - expression: "object.spec.replicas >= 2"
      messageExpression: "'replicas is ' + string(object.spec.replicas) + ', ' + env.name + ' needs 2'"
`,
);

function summary(findings: readonly { severity: string; rule: string; message: string }[]): string[] {
  return findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`);
}

describe("PolicySet.evaluate", () => {
  it("reports a failed validation with the object, its source, the environment and the stack", () => {
    const set = load({ "p/replicas.yaml": replicas });
    const obj = rendered(deployment("api"), "apps/web/deploy.yaml", 7);
    const { findings } = set.evaluate([obj], context("prod", "web"));
    assert.deepEqual(findings, [
      {
        severity: "error",
        rule: "policy.min-replicas",
        message: "replicas is 1, prod needs 2",
        ref: obj.ref,
        location: { file: "apps/web/deploy.yaml", line: 7 },
        environment: "prod",
        stack: "web",
      },
    ]);
  });

  it("reads YAML integers as CEL ints, so comparisons with int literals work", () => {
    const set = load({ "p/replicas.yaml": replicas });
    assert.deepEqual(set.evaluate([rendered(deployment("api", { replicas: 3 }))], context("prod")).findings, []);
  });

  it("applies per-environment enforcement: warn in dev, deny elsewhere", () => {
    const set = load({ "p/replicas.yaml": replicas });
    const objs = [rendered(deployment("api"))];
    assert.deepEqual(summary(set.evaluate(objs, context("dev")).findings), ["warning policy.min-replicas: replicas is 1, dev needs 2"]);
    assert.deepEqual(summary(set.evaluate(objs, context("prod")).findings), ["error policy.min-replicas: replicas is 1, prod needs 2"]);
  });

  it("applies a built-in's enforcement and per-environment overrides from gitward.yaml", () => {
    const set = load({}, [{ name: "no-latest-image", enforcement: "warn", environments: { prod: { enforcement: "deny" } } }]);
    const latest = deployment("api");
    const containers = (latest["spec"] as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers;
    containers[0]!.image = "nginx";
    assert.deepEqual(set.evaluate([rendered(latest)], context("dev")).findings.map((f) => f.severity), ["warning"]);
    assert.deepEqual(set.evaluate([rendered(latest)], context("prod")).findings.map((f) => f.severity), ["error"]);
  });

  it("uses message, then messageExpression, then the expression text", () => {
    const doc = policy(
      "labels",
      `
  validations:
    - expression: "has(object.metadata.labels)"
      message: "objects need labels"
    - expression: "has(object.metadata.annotations)"
    - expression: "object.metadata.name.size() > 20"
      message: "names are long"
      messageExpression: "object.metadata.name + ' is short'"
    - expression: "object.metadata.name.size() > 30"
      message: "names are very long"
      messageExpression: "object.metadata.missing"
`,
    );
    const { findings } = load({ "p/a.yaml": doc }).evaluate([rendered(configMap)], context());
    assert.deepEqual(summary(findings), [
      "error policy.labels: objects need labels",
      "error policy.labels: failed expression: has(object.metadata.annotations)",
      "error policy.labels: settings is short",
      "error policy.labels: names are very long (messageExpression: evaluation failed: field not found: missing)",
    ]);
  });

  it("turns a run-time error or a non-boolean result into policy.evaluation-error, naming policy and validation", () => {
    const doc = policy(
      "broken",
      `
  validations:
    - expression: "true"
    - expression: "object.spec.replicas > 1"
    - expression: "object.metadata.name"
`,
    );
    const { findings } = load({ "p/a.yaml": doc }).evaluate([rendered(configMap)], context());
    assert.deepEqual(summary(findings), [
      "error policy.evaluation-error: policy broken: validations[1]: evaluation failed: field not found: spec",
      "error policy.evaluation-error: policy broken: validations[2]: expression returned a string, not a bool",
    ]);
  });

  it("exposes env (name, vars) and stack (name, target, namespace)", () => {
    const doc = policy(
      "context",
      `
  validations:
    - expression: "env.name == 'prod' && env.vars.tier == 'gold' && stack.name == 'web' && stack.target == 'cluster' && stack.namespace == 'web'"
`,
    );
    const set = load({ "p/a.yaml": doc });
    assert.deepEqual(set.evaluate([rendered(configMap)], context("prod", "web", { tier: "gold" })).findings, []);
    assert.equal(set.evaluate([rendered(configMap)], context("prod", "web", { tier: "silver" })).findings.length, 1);
  });

  describe("match", () => {
    const matching = (match: string) =>
      load({ "p/a.yaml": policy("flag", `  match:\n${match}\n  validations:\n    - expression: "false"\n      message: flagged`) });
    const objects = [
      rendered(deployment("api", { labels: { tier: "front" } })),
      rendered(deployment("worker", { namespace: "jobs", labels: { tier: "back" } })),
      rendered(deployment("unlabelled", { namespace: "jobs" })),
      rendered(configMap),
      rendered({ apiVersion: "example.dev/v1", kind: "Deployment", metadata: { name: "custom" } }),
    ];
    const cases: { name: string; match: string; env?: string; stack?: string; expected: string[] }[] = [
      { name: "no filters: every object", match: "    {}", expected: ["api", "worker", "unlabelled", "settings", "custom"] },
      { name: "a kind in a group", match: "    resources: [{ apiGroups: [apps], kinds: [Deployment] }]", expected: ["api", "worker", "unlabelled"] },
      { name: "a kind in any group", match: "    resources: [{ kinds: [Deployment] }]", expected: ["api", "worker", "unlabelled", "custom"] },
      { name: "the core group", match: "    resources: [{ apiGroups: [''], kinds: ['*'] }]", expected: ["settings"] },
      { name: "any of several rules", match: "    resources: [{ apiGroups: [''], kinds: [ConfigMap] }, { apiGroups: [example.dev], kinds: ['*'] }]", expected: ["settings", "custom"] },
      { name: "namespaces (cluster-scoped objects never match)", match: "    namespaces: [jobs]", expected: ["worker", "unlabelled"] },
      { name: "matchLabels", match: "    labelSelector: { matchLabels: { tier: front } }", expected: ["api"] },
      {
        name: "matchExpressions NotIn (objects without the label match)",
        match: "    labelSelector:\n      matchExpressions:\n        - { key: tier, operator: NotIn, values: [front] }",
        expected: ["worker", "unlabelled", "settings", "custom"],
      },
      { name: "matchExpressions DoesNotExist", match: "    labelSelector:\n      matchExpressions:\n        - { key: tier, operator: DoesNotExist }", expected: ["unlabelled", "settings", "custom"] },
      { name: "matchExpressions In", match: "    labelSelector:\n      matchExpressions:\n        - { key: tier, operator: In, values: [back, side] }", expected: ["worker"] },
      { name: "matchExpressions Exists", match: "    labelSelector:\n      matchExpressions:\n        - { key: tier, operator: Exists }", expected: ["api", "worker"] },
      { name: "an environment it lists", match: "    environments: [prod]", env: "prod", expected: ["api", "worker", "unlabelled", "settings", "custom"] },
      { name: "an environment it does not list", match: "    environments: [prod]", env: "dev", expected: [] },
      { name: "a stack it does not list", match: "    stacks: [db]", stack: "web", expected: [] },
      { name: "a stack it lists", match: "    stacks: [db]\n    resources: [{ kinds: [ConfigMap] }]", stack: "db", expected: ["settings"] },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const { findings } = matching(c.match).evaluate(objects, context(c.env ?? "dev", c.stack ?? "web"));
        assert.deepEqual(findings.map((f) => f.ref?.name), c.expected);
      });
    }
  });
});
