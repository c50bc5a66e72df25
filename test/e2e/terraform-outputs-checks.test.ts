import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { runCli, type CliRun } from "../support/cli.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { makeTfSandbox, requireTerraform, terraformBinary, type TfSandbox } from "../support/terraform.ts";

// The gate checks a stack reading outputs with their values known after apply; the render with
// the real values, just before it syncs, is checked again and refused when it fails the checks.

function gitwardYaml(sb: TfSandbox, root: string, exposure: string): string {
  return `version: 1
environments:
  dev:
    targets:
      tf:
        provider: terraform
        binary: ${terraformBinary}
        backendConfig: { path: ${sb.statePath("dev")} }
        env: [TF_CLI_CONFIG_FILE]
      edge: { provider: host, root: ${root} }
stacks:
  db: { target: tf, path: tf/db, vars: { exposure: "${exposure}" } }
  site: { target: edge, path: site, dependsOn: [db] }
  web: { target: edge, path: web, dependsOn: [site] }
policies: { path: policies }
`;
}

const dbModule = `terraform {
  backend "local" {}
}

variable "exposure" {
  type = string
}

resource "terraform_data" "db" {
  input = var.exposure
}

output "exposure" {
  value = terraform_data.db.output
}
`;

// The label's value comes from the producer; the policy denies a public database.
const siteFiles = `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata:
  name: app-conf
  labels: { exposure: "\${outputs.db.exposure}" }
spec:
  path: app.conf
  content: "exposure \${outputs.db.exposure}\\n"
---
apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: extra }
spec:
  path: "\${outputs.db.exposure}.conf"
  content: "extra\\n"
`;

const policy = `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: no-public-db }
spec:
  match:
    resources: [{ apiGroups: ["host.gitward.dev"], kinds: ["File"] }]
  validations:
    - expression: "!has(object.metadata.labels) || !('exposure' in object.metadata.labels) || object.metadata.labels['exposure'] != 'public'"
      message: "the database must not be public"
`;

const webFiles = `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: web }
spec: { path: web.conf, content: "web\\n" }
`;

describe("the render with the current outputs is checked again before it syncs (real terraform)", () => {
  let sb: TfSandbox;
  let repo: TestRepo;
  let root: string;
  let env: Record<string, string>;
  const state = (): string => join(sb.dir, "gitward.db");

  const cli = (args: readonly string[]): Promise<CliRun> => runCli([...args, "--repo", repo.dir, "--cache-dir", join(sb.dir, "cache")], { env });
  const apply = (...extra: string[]): Promise<CliRun> => cli(["apply", "--env", "dev", "-q", "--state", `sqlite:${state()}`, ...extra]);
  const rows = (stack: string): { outcome: string; error: string | null; revision: string }[] => {
    const db = new DatabaseSync(state(), { readOnly: true });
    try {
      return db.prepare("SELECT outcome, error, revision_sha AS revision FROM syncs WHERE environment = 'dev' AND stack = ? ORDER BY rowid").all(stack) as { outcome: string; error: string | null; revision: string }[];
    } finally {
      db.close();
    }
  };

  before(() => {
    requireTerraform();
    sb = makeTfSandbox();
    repo = makeRepo();
    root = join(sb.dir, "edge");
    mkdirSync(root);
    env = { GITWARD_CACHE_DIR: join(sb.dir, "cache"), TF_CLI_CONFIG_FILE: sb.cliConfig };
  });
  after(() => {
    repo.remove();
    sb.remove();
  });

  it("syncs a consumer whose outputs pass the policy", async () => {
    repo.commit({ "gitward.yaml": gitwardYaml(sb, root, "internal"), "tf/db/main.tf": dbModule, "site/files.yaml": siteFiles, "web/files.yaml": webFiles, "policies/db.yaml": policy }, "db, site, web");
    const r = await apply();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(root, "app.conf"), "utf8"), "exposure internal\n");
  });

  it("refuses the consumer at sync when an output makes it denied, although the gate passed with known after apply", async () => {
    const sha = repo.commit({ "gitward.yaml": gitwardYaml(sb, root, "public") }, "db goes public");
    const validate = await cli(["validate", "-q"]);
    assert.equal(validate.code, 0, `the gate sees known after apply: ${validate.stdout}${validate.stderr}`);
    const r = await apply();
    assert.notEqual(r.code, 0, "the apply reports the refused stack");
    assert.match(r.stdout + r.stderr, /site/);
    assert.equal(readFileSync(join(root, "app.conf"), "utf8"), "exposure internal\n", "the consumer was not synced");
    const db = rows("db").at(-1);
    assert.equal(db?.outcome, "succeeded", "the producer synced");
    const site = rows("site").at(-1);
    assert.equal(site?.revision, sha);
    assert.equal(site?.outcome, "failed");
    assert.match(site?.error ?? "", /rendered with the current outputs of its dependencies, the stack has 0 error\(s\), 1 policy denial\(s\) \(first: site\/files\.yaml:\d+: the database must not be public \(policy\.no-public-db\)\)/);
    const web = rows("web").at(-1);
    assert.equal(web?.outcome, "skipped", "its dependent is skipped");
  });

  it("lets the denial through with an override of the gate", async () => {
    const r = await apply("--override-policy", "the database is public on purpose");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(root, "app.conf"), "utf8"), "exposure public\n");
  });

  it("refuses the consumer when an output makes it invalid (a check error, which no override lets through)", async () => {
    // The extra File's path from the output: app.conf, where the other File of the stack is.
    const sha = repo.commit({ "gitward.yaml": gitwardYaml(sb, root, "app") }, "exposure app: a path clash");
    const validate = await cli(["validate", "-q"]);
    assert.equal(validate.code, 0, validate.stdout + validate.stderr);
    const r = await apply("--override-policy", "not for errors");
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    const site = rows("site").at(-1);
    assert.equal(site?.revision, sha);
    assert.equal(site?.outcome, "failed");
    assert.match(site?.error ?? "", /rendered with the current outputs of its dependencies, the stack has 1 error\(s\), 0 policy denial\(s\) \(first: site\/files\.yaml:\d+: File\/extra manages path app\.conf.*\(host\.path-clash\)\)/);
    assert.equal(readFileSync(join(root, "app.conf"), "utf8"), "exposure public\n", "the consumer was not synced");
  });
});
