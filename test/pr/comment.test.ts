import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Finding } from "../../src/check/finding.ts";
import { addCounts, countChange, emptyCounts, type Change, type EnvironmentPlan, type Plan, type StackPlan } from "../../src/plan/change.ts";
import { commentLimits, planComment, planMarker } from "../../src/pr/comment.ts";
import { planStatuses, statusContext, type PlanResult } from "../../src/pr/statuses.ts";

/** A plan of `stacks` stacks per environment, each creating one ConfigMap and updating one with a diff of `diffLines` lines. */
function makePlan(opts: { envs: string[]; stacks: number; diffLines: number; findings?: Finding[] }): Plan {
  const total = emptyCounts();
  const environments: EnvironmentPlan[] = opts.envs.map((environment) => {
    const stacks: StackPlan[] = Array.from({ length: opts.stacks }, (_, i) => {
      const name = `stack-${String(i).padStart(3, "0")}`;
      const ref = (n: string) => ({ provider: "kubernetes", group: "", kind: "ConfigMap", namespace: name, name: n });
      const changes: Change[] = [
        { action: "create", ref: ref("new"), apiVersion: "v1", source: { file: `${name}/new.yaml`, line: 1, column: 1 }, yaml: "apiVersion: v1\nkind: ConfigMap\n" },
        { action: "update", ref: ref("settings"), apiVersion: "v1", source: { file: `${name}/settings.yaml`, line: 1, column: 1 }, diff: Array.from({ length: opts.diffLines }, (_, l) => `-  k${l}: old\n+  k${l}: new`).join("\n") },
      ];
      const counts = emptyCounts();
      for (const c of changes) countChange(counts, c.action);
      counts.unchanged = 3;
      return { stack: name, target: "cluster", provider: "kubernetes", dir: name, changes, counts };
    });
    const counts = emptyCounts();
    for (const s of stacks) addCounts(counts, s.counts);
    addCounts(total, counts);
    return { environment, stacks, counts };
  });
  const rev = (sha: string, subject: string) => ({ rev: sha, sha: sha.repeat(40).slice(0, 40), author: "a", subject });
  return { base: rev("b", "base"), head: rev("c", "head"), environments, findings: opts.findings ?? [], exemptions: [], counts: total };
}

const ok = (plan: Plan): PlanResult => ({ ok: true, plan });
const marker = planMarker();
const opts = { marker, limit: commentLimits.github, fullPlanAt: "the CI artifact `gitward-plan.md`" };

describe("the plan comment", () => {
  it("is the whole markdown plan, marker first, when it fits", () => {
    const c = planComment(ok(makePlan({ envs: ["dev", "prod"], stacks: 3, diffLines: 5 })), opts);
    assert.equal(c.summarized, false);
    assert.ok(c.body.startsWith("<!-- gitward:plan -->\n## gitward plan\n"));
    assert.match(c.body, /```diff\n- {2}k0: old\n\+ {2}k0: new/);
    assert.equal(c.fullPlan, c.body.slice(marker.length + 1));
  });

  it("carries the marker id when one is given", () => {
    assert.equal(planMarker("platform"), "<!-- gitward:plan:platform -->");
    const c = planComment(ok(makePlan({ envs: ["dev"], stacks: 1, diffLines: 1 })), { ...opts, marker: planMarker("platform") });
    assert.ok(c.body.startsWith("<!-- gitward:plan:platform -->\n"));
  });

  it("is a summary within the limit for a 500-stack plan, with the full plan for the artifact", () => {
    const plan = makePlan({ envs: ["dev", "staging", "prod"], stacks: 500, diffLines: 20 });
    const c = planComment(ok(plan), opts);
    assert.equal(c.summarized, true);
    assert.ok(c.body.length <= commentLimits.github, `${c.body.length} characters`);
    assert.ok(c.body.startsWith("<!-- gitward:plan -->\n## gitward plan (summary)\n"));
    assert.match(c.body, /The full plan is too large for one comment: it is in the CI artifact `gitward-plan.md`\./);
    assert.match(c.body, /\| \*\*prod\*\* \| 500 \| 500 \| 0 \| 0 \| 1500 \|/);
    assert.match(c.body, /### dev\n\n\| Stack \| Create \| Update \| Delete \| Orphan \| Unchanged \|\n\|---\|---:\|---:\|---:\|---:\|---:\|\n\| stack-000 \| 1 \| 1 \| 0 \| 0 \| 3 \|/);
    assert.doesNotMatch(c.body, /```diff/);
    // The full plan holds every stack's every diff line, which no comment could.
    for (const env of ["dev", "staging", "prod"]) assert.match(c.fullPlan, new RegExp(`Environment ${env} `));
    assert.equal(c.fullPlan.match(/\+ {2}k19: new/g)?.length, 1500);
  });

  it("cuts the summary's tables to the limit and says how many rows it left out", () => {
    const plan = makePlan({ envs: ["dev", "prod"], stacks: 500, diffLines: 1 });
    const c = planComment(ok(plan), { ...opts, limit: 8_000 });
    assert.equal(c.summarized, true);
    assert.ok(c.body.length <= 8_000, `${c.body.length} characters`);
    assert.match(c.body, /_… and \d+ more changing stacks in dev: see the full plan\._/);
  });

  it("follows --max-comment-chars: a small plan that fits GitHub becomes a summary under a lower limit", () => {
    const plan = makePlan({ envs: ["dev"], stacks: 20, diffLines: 30 });
    assert.equal(planComment(ok(plan), opts).summarized, false);
    const small = planComment(ok(plan), { ...opts, limit: 3_000 });
    assert.equal(small.summarized, true);
    assert.match(small.fullPlan, /```diff/, "the artifact has the markdown plan with its diffs");
  });

  it("says why there is no plan, with the stacks that failed and the error findings", () => {
    const failure: PlanResult = {
      ok: false, reason: "head ccccccccc did not render in prod", environments: ["dev", "prod"],
      failedStacks: new Map([["dev", []], ["prod", ["web"]]]),
      findings: [{ severity: "error", rule: "render.render", message: "web/deploy.yaml: bad | yaml", environment: "prod", stack: "web" }, { severity: "warning", rule: "x", message: "not shown" }],
    };
    const c = planComment(failure, opts);
    assert.match(c.body, /❌ \*\*No plan was made\*\*: head ccccccccc did not render in prod/);
    assert.match(c.body, /\| \*\*prod\*\* \| web \|/);
    assert.doesNotMatch(c.body, /\*\*dev\*\*/);
    assert.match(c.body, /\| ❌ error \| render\.render \| {2}\| prod\/web \| web\/deploy\.yaml: bad \\\| yaml \|/);
    assert.doesNotMatch(c.body, /not shown/);
  });
});

describe("the plan statuses", () => {
  it("are success per environment: no changes, or the counts", () => {
    const plan = makePlan({ envs: ["dev", "prod"], stacks: 2, diffLines: 1 });
    const quiet: EnvironmentPlan = { environment: "qa", stacks: [], counts: emptyCounts() };
    const s = planStatuses(ok({ ...plan, environments: [...plan.environments, quiet] }), { targetUrl: "https://ci.example.com/run/1" });
    assert.deepEqual(s.map((x) => [x.status.context, x.status.state, x.status.description, x.status.targetUrl]), [
      ["gitward/plan/dev", "success", "2 to create, 2 to update, 0 to delete", "https://ci.example.com/run/1"],
      ["gitward/plan/prod", "success", "2 to create, 2 to update, 0 to delete", "https://ci.example.com/run/1"],
      ["gitward/plan/qa", "success", "no changes", "https://ci.example.com/run/1"],
    ]);
  });

  it("fail the environments with error findings, naming policy denials; errors of no environment fail all", () => {
    const findings: Finding[] = [
      { severity: "error", rule: "policy.no-latest-tag", message: "m", environment: "prod", stack: "web" },
      { severity: "error", rule: "policy.no-latest-tag", message: "m", environment: "prod", stack: "api" },
      { severity: "error", rule: "schema", message: "m", environment: "prod" },
      { severity: "warning", rule: "policy.resources", message: "m", environment: "dev" },
    ];
    const plan = makePlan({ envs: ["dev", "prod"], stacks: 1, diffLines: 1, findings });
    assert.deepEqual(planStatuses(ok(plan)).map((x) => [x.status.state, x.status.description]), [
      ["success", "1 to create, 1 to update, 0 to delete"],
      ["failure", "2 policy denials (no-latest-tag), 1 error finding"],
    ]);
    const global = makePlan({ envs: ["dev", "prod"], stacks: 1, diffLines: 1, findings: [{ severity: "error", rule: "policy.evaluation-error", message: "m" }] });
    assert.deepEqual(planStatuses(ok(global)).map((x) => x.status.state), ["failure", "failure"]);
  });

  it("all fail when the plan could not be made; one gitward/plan status when no environment is known", () => {
    const failure: PlanResult = { ok: false, reason: "head did not render in prod", environments: ["dev", "prod"], failedStacks: new Map([["dev", []], ["prod", ["web", "api"]]]), findings: [] };
    assert.deepEqual(planStatuses(failure).map((x) => [x.status.context, x.status.state, x.status.description]), [
      ["gitward/plan/dev", "failure", "no plan: head did not render in prod"],
      ["gitward/plan/prod", "failure", "did not render: web, api"],
    ]);
    const invalid: PlanResult = { ok: false, reason: "gitward.yaml at head is invalid: " + "x".repeat(300), environments: [], failedStacks: new Map(), findings: [] };
    const [only, ...rest] = planStatuses(invalid, { markerId: "infra" });
    assert.deepEqual(rest, []);
    assert.equal(only?.status.context, "gitward/plan/infra");
    assert.equal(only?.status.state, "failure");
    assert.equal(only?.status.description.length, 140, "cut to GitHub's 140 characters");
  });

  it("carry the marker id in their context", () => {
    assert.equal(statusContext("prod"), "gitward/plan/prod");
    assert.equal(statusContext("prod", "platform"), "gitward/plan/platform/prod");
  });
});
