import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, formatConfigIssue } from "../../src/config/config-error.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import { stackInstances } from "../../src/config/stack-instances.ts";
import { GitwardError } from "../../src/core/errors.ts";
import { readTreeFiles } from "../support/cli.ts";

const valid = `version: 1
environments:
  dev:
    vars: { replicas: 1, debug: true }
    targets:
      cluster: { provider: kubernetes, context: dev }
  prod:
    promoteFrom: dev
    vars: { replicas: "3" }
    targets:
      cluster: { provider: kubernetes }
    sync: { auto: false, prune: false }
stacks:
  web:
    target: cluster
    path: apps/web
    namespace: web
    vars: { replicas: "0", image: "nginx:1.27" }
    environments:
      prod: { path: apps/web-prod, vars: { image: "nginx:1.26" } }
  worker:
    target: cluster
    path: apps/worker
    dependsOn: [web]
    environments:
      dev: { enabled: false }
`;

function issues(text: string): string[] {
  try {
    parseConfig(text, "gitward.yaml");
  } catch (e: unknown) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.issues.map(formatConfigIssue);
  }
  assert.fail("expected the configuration to be refused");
}

describe("parseConfig", () => {
  it("loads a valid file with defaults filled in", () => {
    const { config } = parseConfig(valid, "gitward.yaml");
    assert.deepEqual(config.environments["dev"]?.sync, { auto: false, prune: true, selfHeal: false });
    assert.equal(config.environments["dev"]?.vars["replicas"], "1", "numbers become strings for substitution");
    assert.equal(config.environments["dev"]?.vars["debug"], "true");
    assert.deepEqual(config.stacks["worker"]?.dependsOn, ["web"]);
  });

  it("accepts policies as a directory or with built-ins", () => {
    assert.deepEqual(parseConfig(`${valid}policies: rules/\n`, "g.yaml").config.policies, { path: "rules/", builtin: [] });
    const full = parseConfig(`${valid}policies:\n  builtin: [no-latest-image, {name: required-labels, params: {labels: [team]}, environments: {dev: {enforcement: warn}}}]\n`, "g.yaml");
    assert.deepEqual(full.config.policies?.builtin, [
      { name: "no-latest-image" },
      { name: "required-labels", params: { labels: ["team"] }, environments: { dev: { enforcement: "warn" } } },
    ]);
  });

  it("keeps variables as written: 1.10 stays 1.10", () => {
    const { config } = parseConfig("version: 1\nenvironments:\n  dev:\n    vars: {a: 1.10, b: 0x1F, c: 007, d: true}\n", "g.yaml");
    assert.deepEqual(config.environments["dev"]?.vars, { a: "1.10", b: "0x1F", c: "007", d: "true" });
  });

  it("loads the bundled example", () => {
    const files = readTreeFiles("examples/infra");
    const { config } = parseConfig(files["gitward.yaml"] ?? "", "gitward.yaml");
    assert.deepEqual(Object.keys(config.environments), ["dev", "staging", "prod"]);
  });

  const cases: { name: string; text: string; expected: string[] }[] = [
    {
      name: "unknown key, with its position and a suggestion",
      text: valid.replace("    namespace: web", "    namespce: web"),
      expected: ['gitward.yaml:17:5: stacks.web.namespce: unknown key (did you mean "namespace"?)'],
    },
    {
      name: "wrong type",
      text: valid.replace("sync: { auto: false, prune: false }", "sync: { auto: maybe, prune: false }"),
      expected: ["gitward.yaml:12:19: environments.prod.sync.auto: Invalid input: expected boolean, received string"],
    },
    {
      name: "missing version",
      text: valid.replace("version: 1\n", ""),
      expected: ["gitward.yaml:1:1: version: required key is missing"],
    },
    {
      name: "unsupported version",
      text: valid.replace("version: 1", "version: 2"),
      expected: ["gitward.yaml:1:10: version: Invalid input: expected 1"],
    },
    {
      name: "a YAML 1.1 boolean is a string in YAML 1.2",
      text: valid.replace("sync: { auto: false, prune: false }", "sync: { auto: yes }"),
      expected: ["gitward.yaml:12:19: environments.prod.sync.auto: Invalid input: expected boolean, received string"],
    },
    {
      name: "invalid YAML",
      text: "version: 1\nenvironments: {dev: [\n",
      expected: ["gitward.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]", "gitward.yaml:3:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }"],
    },
    {
      name: "duplicate key",
      text: valid.replace("    path: apps/worker\n", "    path: apps/worker\n    path: apps/other\n"),
      expected: ["gitward.yaml:24:5: invalid YAML: Map keys must be unique"],
    },
    {
      name: "promoteFrom an unknown environment",
      text: valid.replace("promoteFrom: dev", "promoteFrom: qa"),
      expected: ['gitward.yaml:8:18: environments.prod.promoteFrom: environment "qa" is not defined'],
    },
    {
      name: "dependsOn cycle",
      text: valid.replace("    path: apps/web\n", "    path: apps/web\n    dependsOn: [worker]\n"),
      expected: ["gitward.yaml:17:5: stacks.web.dependsOn: dependency cycle: web -> worker -> web"],
    },
    {
      name: "target defined nowhere",
      text: valid.replace("    target: cluster\n    path: apps/worker", "    target: clustr\n    path: apps/worker"),
      expected: [
        'gitward.yaml:22:13: stacks.worker.target: target "clustr" is not defined in any environment',
      ],
    },
    {
      name: "override for an unknown environment",
      text: valid.replace("      dev: { enabled: false }", "      qa: { enabled: false }"),
      expected: ['gitward.yaml:26:7: stacks.worker.environments.qa: environment "qa" is not defined'],
    },
    {
      name: "path escaping the repository",
      text: valid.replace("path: apps/worker", "path: ../elsewhere"),
      expected: ["gitward.yaml:23:11: stacks.worker.path: must not contain '..'"],
    },
    {
      name: "bad environment name",
      text: valid.replace("  prod:\n", "  Prod_1:\n").replace("prod: { path", "Prod_1: { path"),
      expected: [
        "gitward.yaml:7:3: environments.Prod_1: invalid name: must be a lowercase DNS label (a-z, 0-9, '-'; at most 63)",
        "gitward.yaml:20:7: stacks.web.environments.Prod_1: invalid name: must be a lowercase DNS label (a-z, 0-9, '-'; at most 63)",
      ],
    },
    { name: "empty file", text: "", expected: ["gitward.yaml:1:1: file is empty"] },
    {
      name: "a misspelt built-in policy option",
      text: `${valid}policies:\n  builtin: [{nme: no-latest-image}]\n`,
      expected: [
        "gitward.yaml:28:13: policies.builtin[0].name: required key is missing",
        'gitward.yaml:28:14: policies.builtin[0].nme: unknown key (did you mean "name"?)',
      ],
    },
    { name: "policies of the wrong type", text: `${valid}policies: 5\n`, expected: ["gitward.yaml:27:11: policies: expected string or object"] },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      const got = issues(c.text);
      assert.deepEqual(got, c.expected);
    });
  }
});

describe("stackInstances", () => {
  const loaded = parseConfig(valid, "infra/gitward.yaml");

  it("expands stacks per environment with overrides and var precedence", () => {
    const all = stackInstances(loaded);
    assert.deepEqual(all.map((i) => `${i.environment}/${i.stack}:${i.dir}`), [
      "dev/web:infra/apps/web",
      "prod/web:infra/apps/web-prod",
      "prod/worker:infra/apps/worker",
    ]);
    const prodWeb = all.find((i) => i.environment === "prod" && i.stack === "web");
    assert.equal(prodWeb?.vars["replicas"], "3", "environment vars override stack vars");
    assert.equal(prodWeb?.vars["image"], "nginx:1.26", "the stack's per-environment vars win");
    assert.equal(prodWeb?.vars["GITWARD_ENVIRONMENT"], "prod");
  });

  it("declares, for each stack, every variable name gitward.yaml gives it in any environment", () => {
    const all = stackInstances(loaded);
    const devWeb = all.find((i) => i.environment === "dev" && i.stack === "web");
    // image is set for web in prod only, and replicas and debug by the environments: all are web's in dev too.
    assert.deepEqual(devWeb?.declaredVars, ["GITWARD_ENVIRONMENT", "GITWARD_STACK", "debug", "image", "replicas"]);
    const prodWorker = all.find((i) => i.environment === "prod" && i.stack === "worker");
    assert.deepEqual(prodWorker?.declaredVars, ["GITWARD_ENVIRONMENT", "GITWARD_STACK", "debug", "replicas"], "another stack's vars are not worker's");
  });

  it("reads substitute as true, false or strict", () => {
    const modes = ["true", "false", "strict"].map((v) => {
      const text = valid.replace("    dependsOn: [web]\n", `    dependsOn: [web]\n    substitute: ${v}\n`);
      return stackInstances(parseConfig(text, "gitward.yaml")).find((i) => i.stack === "worker")?.substitute;
    });
    assert.deepEqual(modes, [true, false, "strict"]);
    assert.equal(stackInstances(loaded).find((i) => i.stack === "worker")?.substitute, true, "true by default");
    assert.deepEqual(issues(valid.replace("    dependsOn: [web]\n", "    dependsOn: [web]\n    substitute: lenient\n")), [
      'gitward.yaml:25:17: stacks.worker.substitute: expected true, false or "strict"',
    ]);
  });

  it("filters by environment and stack", () => {
    assert.equal(stackInstances(loaded, { environments: ["prod"], stacks: ["worker"] }).length, 1);
  });

  it("refuses an unknown environment name with the known ones", () => {
    assert.throws(() => stackInstances(loaded, { environments: ["qa"] }), (e: unknown) => {
      assert.ok(e instanceof GitwardError);
      assert.equal(e.message, 'unknown environment "qa"');
      assert.equal(e.hint, "environments defined in gitward.yaml: dev, prod");
      return true;
    });
  });
});
