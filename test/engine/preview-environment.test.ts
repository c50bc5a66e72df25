import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../src/config/config-error.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import { stackInstances } from "../../src/config/stack-instances.ts";
import { previewEnvironment } from "../../src/engine/preview-environment.ts";
import { confineToNamespace } from "../../src/engine/preview-render.ts";
import { branchLabel, previewNumberOf } from "../../src/config/preview-template.ts";
import type { RenderResult } from "../../src/render/renderer.ts";

const base = (previews: string, extra = ""): string => `version: 1
environments:
  dev:
    vars: { host: dev.example.com, tier: dev }
    targets:
      cluster: { provider: kubernetes, context: dev }
      edge: { provider: host, root: /srv/dev }
    sync: { auto: false, prune: false, selfHeal: true }
    approvals: { required: 1, from: [ops] }
  prod:
    targets:
      cluster: { provider: kubernetes }
groups: { ops: [alice] }
stacks:
  web:
    target: cluster
    path: web
    namespace: web
    environments:
      dev: { vars: { replicas: "1" } }
  api:
    target: cluster
    path: api
  site:
    target: edge
    path: site
${extra}previews:
${previews}`;

const pr = { number: 42, branch: "Feature/Login_Page", sha: "0123456789abcdef0123456789abcdef01234567" };

describe("previewEnvironment", () => {
  it("adds one environment from the template: its targets, its vars under the preview's, auto sync with prune, no approvals", () => {
    const loaded = parseConfig(base("  from: dev\n  namespace: preview-${pr}\n  url: https://pr-${pr}.example.com\n  vars: { host: \"pr-${pr}-${branch}.example.com\", commit: \"${sha}\" }\n  stacks: [web, site]\n"), "gitward.yaml");
    const p = previewEnvironment(loaded, pr);
    assert.equal(p.name, "preview-42");
    assert.equal(p.namespace, "preview-42");
    assert.equal(p.url, "https://pr-42.example.com");
    assert.deepEqual(p.stacks, ["web", "site"]);
    const env = p.loaded.config.environments["preview-42"];
    assert.deepEqual(env?.targets, loaded.config.environments["dev"]?.targets);
    assert.deepEqual(env?.vars, { host: "pr-42-feature-login-page.example.com", tier: "dev", commit: "0123456789ab" });
    assert.deepEqual(env?.sync, { auto: true, prune: true, selfHeal: false });
    assert.equal(env?.approvals, undefined);
    const instances = stackInstances(p.loaded, { environments: ["preview-42"] });
    assert.deepEqual(instances.map((i) => [i.stack, i.namespace, i.vars["replicas"], i.vars["GITWARD_ENVIRONMENT"]]), [
      ["web", "preview-42", "1", "preview-42"],
      ["site", undefined, undefined, "preview-42"],
    ]);
    // The environments gitward.yaml defines are as they were.
    assert.deepEqual(stackInstances(p.loaded, { environments: ["dev"] }).map((i) => i.stack), ["web", "api", "site"]);
    // Keys of the preview are located at the template's.
    assert.deepEqual(p.loaded.locate(["environments", "preview-42", "vars"]), loaded.locate(["environments", "dev", "vars"]));
  });

  it("defaults the name to preview-${pr} and every stack the template deploys", () => {
    const p = previewEnvironment(parseConfig(base("  from: dev\n  ttl: 72h\n"), "gitward.yaml"), pr);
    assert.equal(p.name, "preview-42");
    assert.deepEqual(p.stacks, ["web", "api", "site"]);
    assert.equal(p.ttlMs, 72 * 3_600_000);
    assert.equal(p.url, undefined);
  });

  it("carries a built-in policy's enforcement for the template to the preview", () => {
    const loaded = parseConfig(base("  from: dev\n", "policies:\n  builtin:\n    - name: no-latest-image\n      enforcement: deny\n      environments: { dev: { enforcement: warn } }\n"), "gitward.yaml");
    const builtin = previewEnvironment(loaded, pr).loaded.config.policies?.builtin[0];
    assert.deepEqual(builtin?.environments, { dev: { enforcement: "warn" }, "preview-42": { enforcement: "warn" } });
  });

  it("refuses gitward.yaml without previews, and a name that is not a DNS label for this pull request", () => {
    const none = parseConfig(base("  from: dev\n").replace(/previews:\n.*\n$/, ""), "gitward.yaml");
    assert.throws(() => previewEnvironment(none, pr), /has no previews: section/);
    const long = parseConfig(base("  from: dev\n  name: preview-${pr}-${branch}-${branch}\n"), "gitward.yaml");
    assert.throws(() => previewEnvironment(long, { ...pr, branch: "x".repeat(60) }), /not a lowercase DNS label/);
  });
});

describe("gitward.yaml previews: checks", () => {
  const issues = (previews: string, extra = ""): string[] => {
    try {
      parseConfig(base(previews, extra), "gitward.yaml");
      return [];
    } catch (e: unknown) {
      if (!(e instanceof ConfigError)) throw e;
      return e.issues.map((i) => `${i.keyPath}: ${i.message}`);
    }
  };

  it("names an undefined template, stacks not deployed there, unknown variables, a name without ${pr} and bad durations", () => {
    assert.deepEqual(issues("  from: staging\n"), ['previews.from: environment "staging" is not defined']);
    assert.deepEqual(issues("  from: dev\n  stacks: [nope]\n"), ['previews.stacks[0]: stack "nope" is not defined']);
    assert.deepEqual(issues("  from: dev\n  name: pr-${number}\n"), [
      "previews.name: unknown variable ${number}: a preview template may use ${pr}, ${branch} and ${sha}",
      "previews.name: must contain ${pr}, so that each pull request gets its own environment",
    ]);
    assert.deepEqual(issues("  from: dev\n  name: Preview-${pr}\n"), ['previews.name: must give a lowercase DNS label (a-z, 0-9, \'-\'; at most 63), and gives "Preview-12345" for pull request 12345']);
    assert.match(issues("  from: dev\n  ttl: 3 days\n").join("\n"), /previews\.ttl: must be a duration/);
    assert.match(issues("  from: dev\n  tll: 3h\n").join("\n"), /did you mean "ttl"/);
  });

  it("refuses an environment a preview's name could take", () => {
    const text = base("  from: dev\n").replace("  prod:\n", "  preview-1:\n");
    assert.throws(() => parseConfig(text, "gitward.yaml"), /environment "preview-1" is one previews.name can give/);
  });
});

describe("preview names and namespaces", () => {
  it("makes DNS labels of branches and finds the pull request in a preview's name", () => {
    assert.equal(branchLabel("Feature/Login_Page"), "feature-login-page");
    assert.equal(branchLabel("--"), "branch");
    assert.equal(previewNumberOf("preview-${pr}", "preview-42"), 42);
    assert.equal(previewNumberOf("pr-${pr}-${branch}", "pr-7-feat-x"), 7);
    assert.equal(previewNumberOf("preview-${pr}", "prod"), undefined);
  });

  it("moves every namespaced object, and the stack's Namespace, into the preview's namespace", () => {
    const objects = [
      { kind: "Namespace", apiVersion: "v1", name: "web" },
      { kind: "ConfigMap", apiVersion: "v1", name: "a", namespace: "web" },
      { kind: "ConfigMap", apiVersion: "v1", name: "b", namespace: "other" },
      { kind: "ClusterRole", apiVersion: "rbac.authorization.k8s.io/v1", name: "r" },
    ].map((o) => ({
      object: { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, ...(o.namespace === undefined ? {} : { namespace: o.namespace }) } },
      ref: { group: o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] ?? "" : "", kind: o.kind, name: o.name, ...(o.namespace === undefined ? {} : { namespace: o.namespace }) },
      apiVersion: o.apiVersion, source: { file: "web/x.yaml" },
    }));
    const render = { ok: true, objects, cached: false, key: "k", instance: {} } as unknown as RenderResult;
    const out = confineToNamespace(render, "preview-42");
    assert.ok(out.ok);
    assert.deepEqual(out.objects.map((o) => [o.ref.kind, o.ref.namespace, o.ref.name, (o.object["metadata"] as { namespace?: string; name: string }).namespace]), [
      ["Namespace", undefined, "preview-42", undefined],
      ["ConfigMap", "preview-42", "a", "preview-42"],
      ["ConfigMap", "preview-42", "b", "preview-42"],
      ["ClusterRole", undefined, "r", undefined],
    ]);
  });
});
