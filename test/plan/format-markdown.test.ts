import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Change, Plan, StackPlan } from "../../src/plan/change.ts";
import { planToJson } from "../../src/plan/format-json.ts";
import { planToMarkdown } from "../../src/plan/format-markdown.ts";

const ref = (name: string): Change["ref"] => ({ group: "", kind: "ConfigMap", namespace: "app", name });
const counts = (create: number, update: number, unchanged: number): StackPlan["counts"] => ({ create, update, delete: 0, orphan: 0, unchanged });
const stack = (name: string, changes: Change[], c: StackPlan["counts"]): StackPlan => ({ stack: name, target: "cluster", provider: "kubernetes", dir: name, changes, counts: c });

function planOf(stacks: StackPlan[], findings: Plan["findings"] = []): Plan {
  const total = counts(stacks.reduce((n, s) => n + s.counts.create, 0), stacks.reduce((n, s) => n + s.counts.update, 0), stacks.reduce((n, s) => n + s.counts.unchanged, 0));
  return {
    base: { rev: "main", sha: "a".repeat(40), author: "ada", subject: "base" },
    head: { rev: "HEAD", sha: "b".repeat(40), author: "ada", subject: "head" },
    environments: [{ environment: "dev", stacks, counts: total }],
    findings, exemptions: [], counts: total,
  };
}

const created = (name: string, yaml: string): Change => ({ action: "create", ref: ref(name), apiVersion: "v1", source: { file: `app/${name}.yaml`, line: 1, column: 1 }, yaml });

describe("the markdown PR comment", () => {
  it("shows a new object's YAML in its stack's section", () => {
    const md = planToMarkdown(planOf([stack("app", [created("new", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new")], counts(1, 0, 0))]));
    assert.match(md, /\| 🟢 create \| `ConfigMap\/app\/new` \| `app\/new.yaml:1:1` \|\n\n`ConfigMap\/app\/new`\n\n```yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n {2}name: new\n```\n\n<\/details>/);
  });

  it("cuts a long new object after 150 lines", () => {
    const yaml = Array.from({ length: 200 }, (_, i) => `k${i}: v`).join("\n");
    const md = planToMarkdown(planOf([stack("app", [created("big", yaml)], counts(1, 0, 0))]));
    assert.match(md, /\nk149: v\n\.\.\. 50 more lines\n```/);
    assert.doesNotMatch(md, /k150: v/);
  });

  it("leaves out stacks without changes, naming them on one line", () => {
    const md = planToMarkdown(planOf([
      stack("app", [created("new", "kind: ConfigMap")], counts(1, 0, 2)),
      stack("db", [], counts(0, 0, 3)),
      stack("web", [], counts(0, 0, 1)),
    ]));
    assert.equal(md.match(/<details>/g)?.length, 1);
    assert.doesNotMatch(md, /<b>db<\/b>|<b>web<\/b>/);
    assert.match(md, /\n\nno changes: db, web\n/);
  });

  it("gives each finding its environment and stack", () => {
    const md = planToMarkdown(planOf([stack("db", [], counts(0, 0, 1))], [
      { severity: "error", rule: "policy.x", message: "bad", ref: ref("c"), location: { file: "app/c.yaml", line: 1, column: 1 }, environment: "dev", stack: "app" },
      { severity: "warning", rule: "plan.base-invalid", message: "at base main: gitward.yaml is invalid" },
    ]));
    assert.match(md, /\| Severity \| Rule \| Object \| Environment\/stack \| Source \| Message \|\n\|---\|---\|---\|---\|---\|---\|\n/);
    assert.match(md, /\| ❌ error \| policy.x \| `ConfigMap\/app\/c` \| dev\/app \| `app\/c.yaml:1:1` \| bad \|/);
    assert.match(md, /\| ⚠️ warning \| plan.base-invalid \| {2}\| {2}\| {2}\| at base main: gitward.yaml is invalid \|/);
  });

  it("keeps the new object's YAML out of the JSON document", () => {
    const doc = JSON.parse(planToJson(planOf([stack("app", [created("new", "kind: ConfigMap")], counts(1, 0, 0))]))) as { environments: { stacks: { changes: object[] }[] }[] };
    assert.deepEqual(Object.keys(doc.environments[0]?.stacks[0]?.changes[0] ?? {}), ["action", "ref", "apiVersion", "source"]);
  });
});
