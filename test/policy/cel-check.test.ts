import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ExpressionCompiler } from "../../src/policy/compile-expression.ts";

const compiler = new ExpressionCompiler(1_000_000);

function outcome(expression: string, purpose: "validation" | "message" = "validation", params = false): string {
  const r = compiler.compile(expression, purpose, { params });
  return r.ok ? "ok" : r.issue.message;
}

describe("compiling CEL expressions", () => {
  const cases: { expression: string; expected: string; purpose?: "message"; params?: boolean }[] = [
    { expression: "object.spec.replicas >= 2", expected: "ok" },
    { expression: "has(object.metadata.labels) && 'team' in object.metadata.labels", expected: "ok" },
    { expression: "object.spec.template.spec.containers.all(c, c.image.endsWith(':1.0'))", expected: "ok" },
    { expression: "object.metadata.name.lowerAscii().split('-').size() <= 3", expected: "ok" },
    { expression: "object.metadata.name.matches('^[a-z]+$') || object.spec.ports.exists_one(p, p.port == 80)", expected: "ok" },
    { expression: "env.name == 'prod' && env.vars.replicas == '3' && stack.name.startsWith('web')", expected: "ok" },
    { expression: "strings.quote(object.metadata.name) != ''", expected: "ok" },
    { expression: "gitward.containers(object).map(c, c.name).size() > 0 && size(gitward.podSpec(object)) >= 0", expected: "ok" },
    { expression: "type(object.spec.replicas) == int", expected: "ok" },
    { expression: "object.metadata.name", expected: "ok" },
    { expression: "params.labels.all(l, l in object.metadata.labels)", expected: "ok", params: true },
    { expression: "'replicas: ' + string(object.spec.replicas)", expected: "ok", purpose: "message" },
    { expression: "object.metadata.", expected: "syntax error: found . but expecting end of input" },
    { expression: "params.labels.size() > 0", expected: "type error: undeclared reference to 'params'" },
    { expression: "cel.bind(x, 1, x > 0)", expected: "type error: undeclared reference to 'cel'" },
    { expression: "object.metadata.name.reverse() == ''", expected: "type error: undeclared reference to function 'reverse'" },
    { expression: "object.metadata.name.startsWith(1)", expected: "type error: found no matching overload for 'startsWith' applied to 'dyn.(int)'" },
    { expression: "stack.name + 1 == 'x'", expected: "type error: found no matching overload for '+' applied to '(string, int)'" },
    { expression: "stack.name.team == 'x'", expected: "type error: type 'string' does not support field selection ('.team')" },
    { expression: "1.all(x, x > 0)", expected: "type error: expression of type 'int' cannot be the range of a comprehension (must be list, map, or dynamic)" },
    { expression: "['a'][true] == 'a'", expected: "type error: list index must be int, got bool" },
    { expression: "object.spec.replicas + 1", expected: "must evaluate to bool, but its type is int" },
    { expression: "'replicas'", expected: "must evaluate to bool, but its type is string" },
    { expression: "object.spec.replicas > 1", expected: "must evaluate to string, but its type is bool", purpose: "message" },
  ];
  for (const c of cases) {
    it(`${c.expected === "ok" ? "accepts" : "refuses"} ${c.expression}`, () => {
      assert.equal(outcome(c.expression, c.purpose, c.params), c.expected);
    });
  }
});
