import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Change, Plan } from "../../src/plan/change.ts";
import { planToJson } from "../../src/plan/format-json.ts";
import { planToMarkdown } from "../../src/plan/format-markdown.ts";
import { planToText } from "../../src/plan/format-text.ts";
import { formatRef } from "../../src/core/objref.ts";
import { planRevisions } from "../../src/engine/plan-revisions.ts";
import { testWorkspace, type TestWorkspace } from "../support/engine.ts";

const common = (t: TestWorkspace) => ({ source: t.ws.source, configPath: "gitward.yaml", renderer: t.ws.renderer, check: t.ws.check });
import { makeRepo, type TestRepo } from "../support/repo.ts";

const gitwardYaml = (prodPrune: boolean): string => `version: 1
environments:
  dev:
    vars: { level: debug }
    targets: { cluster: { provider: kubernetes } }
  prod:
    vars: { level: warn }
    targets: { cluster: { provider: kubernetes } }
    sync: { prune: ${String(prodPrune)} }
stacks:
  app:
    target: cluster
    path: app
    namespace: app
  extra:
    target: cluster
    path: extra
    namespace: app
`;

const cm = (name: string, data: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n${data}`;
const plainStyle = { green: String, yellow: String, red: String, cyan: String, dim: String, bold: String };

function summary(plan: Plan, env: string): string[] {
  const e = plan.environments.find((x) => x.environment === env);
  return (e?.stacks ?? []).flatMap((s) => s.changes.map((c: Change) => `${s.stack} ${c.action} ${formatRef(c.ref)}${c.previousStack === undefined ? "" : ` from ${c.previousStack}`}`));
}

describe("plan between two revisions", () => {
  let repo: TestRepo;
  let t: TestWorkspace;
  let base: string;
  let plan: Plan;
  before(async () => {
    repo = makeRepo();
    base = repo.commit({
      "gitward.yaml": gitwardYaml(false),
      "app/settings.yaml": cm("settings", "  level: ${level}\n  size: \"1\"\n"),
      "app/gone.yaml": cm("gone", "  a: \"1\"\n"),
      "app/kept.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  annotations:\n    gitward.dev/prune: disabled\n`,
      "app/moving.yaml": cm("moving", "  a: \"1\"\n"),
      "app/same.yaml": cm("same", "  a: \"1\"\n"),
      "app/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  annotations: { note: base }\nstringData:\n  password: old-password-value\n  user: admin\n",
      "extra/keep.yaml": cm("extra", "  a: \"1\"\n"),
    }, "base");
    repo.commit({
      "app/settings.yaml": cm("settings", "  level: ${level}\n  size: \"2\"\n"),
      "app/gone.yaml": null,
      "app/kept.yaml": null,
      "app/moving.yaml": null,
      "extra/moving.yaml": cm("moving", "  a: \"1\"\n"),
      "app/new.yaml": cm("new", "  a: \"1\"\n"),
      "app/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  annotations: { note: head }\nstringData:\n  password: new-password-value\n  user: admin\n",
    }, "head");
    t = await testWorkspace(repo.dir);
    const outcome = await t.plan(base);
    assert.ok(outcome.plan !== undefined);
    plan = outcome.plan;
  });
  after(async () => {
    await t.close();
    repo.remove();
  });

  it("yields create, update, delete and moved changes per environment", () => {
    assert.deepEqual(summary(plan, "dev"), [
      "app create ConfigMap/app/new",
      "app update ConfigMap/app/settings",
      "app update Secret/app/creds",
      "app orphan ConfigMap/app/kept",
      "app delete ConfigMap/app/gone",
      "extra update ConfigMap/app/moving from app",
    ]);
    const dev = plan.environments.find((e) => e.environment === "dev");
    assert.deepEqual(dev?.counts, { create: 1, update: 3, delete: 1, orphan: 1, unchanged: 2 });
  });

  it("keeps objects where the environment does not prune", () => {
    assert.ok(summary(plan, "prod").includes("app orphan ConfigMap/app/gone"));
    assert.ok(!summary(plan, "prod").some((l) => l.includes(" delete ")));
  });

  it("shows a readable diff of updated objects with their substituted values", () => {
    const settings = plan.environments.find((e) => e.environment === "prod")?.stacks[0]?.changes.find((c) => c.ref.name === "settings");
    assert.equal(settings?.diff, [
      "@@ -5,4 +5,4 @@",
      "   namespace: app",
      " data:",
      "   level: warn",
      '-  size: "1"',
      '+  size: "2"',
    ].join("\n"));
  });

  it("masks secret values in every output, showing only which keys changed", () => {
    const creds = plan.environments[0]?.stacks[0]?.changes.find((c) => c.ref.name === "creds");
    assert.match(creds?.diff ?? "", /-  password: "\*\*\*"\n\+  password: "\*\*\* \(changed\)"/);
    assert.match(creds?.diff ?? "", / {3}user: "\*\*\*"/);
    for (const out of [planToText(plan, plainStyle), planToMarkdown(plan), planToJson(plan)]) {
      assert.doesNotMatch(out, /password-value|admin/);
    }
  });

  it("shows a new object's YAML in the markdown comment, secret values masked", async () => {
    const added = repo.commit({ "app/token.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: brand-new-token-value\n" }, "a new secret");
    try {
      const outcome = await planRevisions({ ...common(t), base: "HEAD~1", head: added, filter: { environments: ["dev"] } });
      assert.ok(outcome.plan !== undefined);
      const md = planToMarkdown(outcome.plan);
      assert.match(md, /`Secret\/app\/token`\n\n```yaml\napiVersion: v1\nkind: Secret\nmetadata:\n {2}name: token\n {2}namespace: app\nstringData:\n {2}token: "\*\*\*"\n```/);
      assert.doesNotMatch(md + planToJson(outcome.plan) + planToText(outcome.plan, plainStyle), /brand-new-token-value/);
    } finally {
      repo.git("reset", "-q", "--hard", "HEAD~1");
    }
  });

  it("renders markdown for a pull-request comment", () => {
    const md = planToMarkdown(plan);
    assert.match(md, /^## gitward plan/);
    assert.match(md, /\| \*\*dev\*\* \| 1 \| 3 \| 1 \| 1 \| 2 \|/);
    assert.match(md, /<details><summary><b>app<\/b> \(kubernetes target <code>cluster<\/code>\): 1 to create, 2 to update, 1 to delete, 1 orphaned<\/summary>/);
    assert.match(md, /```diff\n@@/);
  });

  it("writes the documented JSON document", () => {
    const doc = JSON.parse(planToJson(plan)) as { formatVersion: number; base: { sha: string }; environments: { environment: string; stacks: { changes: { action: string }[] }[] }[] };
    assert.equal(doc.formatVersion, 1);
    assert.equal(doc.base.sha, base);
    assert.deepEqual(doc.environments.map((e) => e.environment), ["dev", "prod"]);
  });

  it("has no changes between a revision and itself", async () => {
    const same = await t.plan("HEAD", "HEAD");
    assert.deepEqual(same.plan?.counts, { create: 0, update: 0, delete: 0, orphan: 0, unchanged: 12 });
  });

  it("plans a pull request that adds an environment, filtered to it", async () => {
    const added = repo.commit({ "gitward.yaml": gitwardYaml(false).replace("stacks:", "  qa:\n    vars: { level: info }\n    targets: { cluster: { provider: kubernetes } }\nstacks:") }, "add qa");
    try {
      const outcome = await t.plan("HEAD~1", added);
      assert.deepEqual(outcome.findings.filter((f) => f.rule.startsWith("render.")), []);
      assert.deepEqual(outcome.plan?.environments.map((e) => e.environment), ["dev", "prod", "qa"]);
      const filtered = await planRevisions({ ...common(t), base: "HEAD~1", head: added, filter: { environments: ["qa"] } });
      assert.equal(filtered.plan?.counts.create, 6);
    } finally {
      repo.git("reset", "-q", "--hard", "HEAD~1");
    }
  });

  it("plans a pull request that fixes a broken gitward.yaml at base, with a warning", async () => {
    const broken = repo.commit({ "gitward.yaml": "version: 1\nenvironments: {dev: {nope: 1}}\n" }, "broken");
    const fixed = repo.commit({ "gitward.yaml": gitwardYaml(false) }, "fixed");
    try {
      const outcome = await t.plan(broken, fixed);
      assert.equal(outcome.plan?.counts.create, 12);
      assert.match(outcome.findings.find((f) => f.rule === "plan.base-invalid")?.message ?? "", /^at base [0-9a-f]+: gitward.yaml is invalid \(gitward.yaml:2:22: environments.dev.nope: unknown key\)/);
    } finally {
      repo.git("reset", "-q", "--hard", "HEAD~2");
    }
  });

  it("plans against nothing when there is no base, or the base has no gitward.yaml", async () => {
    const empty = repo.git("commit-tree", "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "-m", "empty");
    const fromEmpty = await t.plan(empty);
    const fromNothing = await t.plan(undefined);
    assert.equal(fromEmpty.plan?.counts.create, 12);
    assert.equal(fromNothing.plan?.counts.create, 12);
  });
});
