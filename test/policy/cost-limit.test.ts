import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/core/object.ts";
import { CostEstimator } from "../../src/policy/cel-cost.ts";
import { parse } from "@bufbuild/cel";
import { context, load, policy, rendered } from "./helpers.ts";

const tripleLoop = "object.data.items.all(x, object.data.items.all(y, object.data.items.all(z, x + y + z >= 0)))";

function listObject(length: number): KObject {
  return { apiVersion: "example.dev/v1", kind: "Bag", metadata: { name: "bag" }, data: { items: Array.from({ length }, (_, i) => i) } };
}

function evaluateOne(expression: string, object: KObject, limits?: { costLimit: number }, extra = "") {
  const doc = policy("loop", `  validations:\n    - expression: ${JSON.stringify(expression)}\n${extra}`);
  const set = load({ "p/loop.yaml": doc }, [], limits);
  return set.evaluate([rendered(object)], context());
}

describe("the cost limit", () => {
  it("runs a nested comprehension over a small list", () => {
    const { findings } = evaluateOne(tripleLoop, listObject(10));
    assert.deepEqual(findings, []);
  });

  it("refuses, at once, a nested comprehension over a large list that would run for hours", () => {
    const started = performance.now();
    const { findings } = evaluateOne(tripleLoop, listObject(5000));
    assert.ok(performance.now() - started < 1000, "refused before running");
    assert.equal(findings.length, 1);
    const [f] = findings;
    assert.equal(f?.rule, "policy.evaluation-error");
    assert.equal(f?.severity, "error");
    assert.match(f?.message ?? "", /^policy loop: validations\[0\]: not evaluated: estimated cost \S+ exceeds the cost limit 1000000 for this object \(object size \d+\)$/);
  });

  it("bounds loops over lists the expression builds (map, split) by the sizes they come from", () => {
    const big = { ...listObject(3000), spec: { text: "a,".repeat(3000) } } as KObject;
    for (const expression of [
      "object.data.items.map(x, object.data.items).all(l, l.all(y, l.all(z, true)))",
      "object.spec.text.split(',').all(a, object.spec.text.split(',').all(b, a == b || true))",
    ]) {
      const { findings } = evaluateOne(expression, big);
      assert.deepEqual(findings.map((f) => f.rule), ["policy.evaluation-error"], expression);
    }
  });

  it("follows a configured limit", () => {
    const expression = "object.data.items.all(x, object.data.items.all(y, x >= 0 && y >= 0))";
    assert.deepEqual(evaluateOne(expression, listObject(100)).findings, []);
    const { findings } = evaluateOne(expression, listObject(100), { costLimit: 5000 });
    assert.match(findings[0]?.message ?? "", /exceeds the cost limit 5000/);
  });

  it("falls back to the message when a messageExpression would exceed the limit", () => {
    const { findings } = evaluateOne(
      "size(object.data.items) < 3",
      listObject(2000),
      undefined,
      `      message: too many items\n      messageExpression: ${JSON.stringify(`string(${tripleLoop})`)}\n`,
    );
    assert.equal(findings.length, 1);
    assert.match(findings[0]?.message ?? "", /^too many items \(messageExpression: not evaluated: estimated cost/);
  });

  it("estimates nested comprehensions as the product of the sizes they iterate", () => {
    const estimate = (n: number) =>
      new CostEstimator({ object: { c: 1, n, l: 1, t: n + 3 } }, () => false).estimate(parse(tripleLoop).expr).cost;
    const [small, large] = [estimate(100), estimate(1000)];
    // Three nested loops over ten times as many elements: about a thousand times the cost.
    assert.ok(large / small > 900 && large / small < 1100, `growth ${small} -> ${large}`);
  });
});

describe("the cost limit on large objects", () => {
  it("measures what an expression loops over on the object itself, so big workloads with few containers run", () => {
    const env = Array.from({ length: 300 }, (_, i) => ({ name: `VAR_${i}`, value: `value-${i}` }));
    const container = (name: string) => ({
      name,
      image: "ghcr.io/acme/app:1.0.0",
      args: ["-c", "x".repeat(20_000)],
      env,
      resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
    });
    const big = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "big", namespace: "web", labels: { app: "big", team: "a" } },
      spec: { template: { spec: { initContainers: [container("init")], containers: [container("a"), container("b")] } } },
    } as KObject;
    const set = load({}, [
      { name: "no-latest-image" },
      { name: "resources-required" },
      { name: "no-privileged" },
      { name: "no-host-path" },
      { name: "no-host-namespaces" },
      { name: "no-added-capabilities" },
      { name: "required-labels", params: { labels: ["app", "team"] } },
    ]);
    assert.deepEqual(set.evaluate([rendered(big)], context()).findings, []);
  });
});
