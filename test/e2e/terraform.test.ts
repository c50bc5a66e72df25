import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, type CliRun } from "../support/cli.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { makeTfSandbox, requireTerraform, terraformBinary, type TfSandbox } from "../support/terraform.ts";

// A value planted through the runner's environment (never Git): it must not appear in any output.
const planted = "pl4nted-S3cret-value-9f2c";

function gitwardYaml(sb: TfSandbox, extra = ""): string {
  return `version: 1
environments:
  dev:
    targets:
      tf:
        provider: terraform
        binary: ${terraformBinary}
        backendConfig: { path: ${sb.statePath("dev")} }
        env: [TF_VAR_db_password, TF_CLI_CONFIG_FILE]
stacks:
  net: { target: tf, path: tf/net, vars: { effects: ${sb.effects} } }
${extra}`;
}

function moduleMain(resources: string): string {
  return `terraform {
  backend "local" {}
}

variable "effects" {
  type = string
}

variable "db_password" {
  type      = string
  sensitive = true
}

variable "GITWARD_ENVIRONMENT" {
  type = string
}

${resources}
output "db_password" {
  value     = var.db_password
  sensitive = true
}

output "env" {
  value = var.GITWARD_ENVIRONMENT
}
`;
}

const base = `resource "terraform_data" "db" {
  input = { name = "db", password = var.db_password }
}

resource "terraform_data" "web" {
  input = "v1"

  provisioner "local-exec" {
    command = "echo created >> \${var.effects}/web.log"
  }
}
`;

describe("Terraform stacks through gitward (real terraform)", () => {
  let sb: TfSandbox;
  let repo: TestRepo;
  const outputs: string[] = [];
  let env: Record<string, string>;

  const cli = async (args: readonly string[], extraEnv: Record<string, string> = {}): Promise<CliRun> => {
    const r = await runCli([...args, "--repo", repo.dir, "--cache-dir", join(sb.dir, "cache")], { env: { ...env, ...extraEnv } });
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  before(() => {
    requireTerraform();
    sb = makeTfSandbox();
    repo = makeRepo();
    env = { GITWARD_CACHE_DIR: join(sb.dir, "cache"), TF_CLI_CONFIG_FILE: sb.cliConfig, TF_VAR_db_password: planted };
  });
  after(() => {
    repo.remove();
    sb.remove();
  });

  it("plans a new stack per resource address, in text, markdown and JSON, secrets masked", async () => {
    repo.commit({ "gitward.yaml": gitwardYaml(sb), "tf/net/main.tf": moduleMain(base) }, "tf: net");
    const text = await cli(["plan", "-q"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /terraform plan against the live state/);
    assert.match(text.stdout, /\+ terraform_data\/terraform_data\.db/);
    assert.match(text.stdout, /\+ terraform_data\/terraform_data\.web/);
    assert.match(text.stdout, /Summary: 2 to create/);
    const md = await cli(["plan", "-q", "-o", "markdown"]);
    assert.match(md.stdout, /\| 🟢 create \| `terraform_data\/terraform_data\.web` \| `tf\/net` \|/);
    const json = JSON.parse((await cli(["plan", "-q", "-o", "json"])).stdout) as { environments: { stacks: { provider: string; changes: { action: string; ref: { name: string } }[] }[] }[] };
    const stack = json.environments[0]?.stacks[0];
    assert.equal(stack?.provider, "terraform");
    assert.deepEqual(stack?.changes.map((c) => `${c.action} ${c.ref.name}`), ["create terraform_data.db", "create terraform_data.web"]);
    assert.equal(existsSync(sb.statePath("dev")), false, "a plan changes nothing");
  });

  it("applies the saved plan: the local-exec side effect happens once, outputs are recorded masked", async () => {
    const r = await cli(["apply", "--env", "dev", "-q", "--state", `sqlite:${join(sb.dir, "gitward.db")}`]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /created terraform_data\/terraform_data\.web/);
    assert.equal(readFileSync(join(sb.effects, "web.log"), "utf8"), "created\n");
    const again = await cli(["apply", "--env", "dev", "-q"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readFileSync(join(sb.effects, "web.log"), "utf8"), "created\n", "nothing is applied twice");
    const inventory = readFileSync(join(sb.dir, "cache", "terraform", "inventory", "dev.net.json"), "utf8");
    assert.match(inventory, /terraform_data\.db/);
    assert.match(inventory, /"env": \{\s*"value": "dev"/);
    outputs.push(inventory);
  });

  it("calls out a replace in the plan, and the built-in policy refuses it at plan and at apply", async () => {
    const replaced = base.replace('input = "v1"', 'input = "v1"\n  triggers_replace = ["v2"]');
    repo.commit({
      "gitward.yaml": gitwardYaml(sb, "policies:\n  builtin: [terraform-replace-needs-exemption]\n"),
      "tf/net/main.tf": moduleMain(replaced),
    }, "replace web");
    const md = await cli(["plan", "-q", "--base", "HEAD~1", "-o", "markdown"]);
    assert.match(md.stdout, /🟠 \*\*replace\*\* \| `terraform_data\/terraform_data\.web`/);
    assert.match(md.stdout, /policy\.terraform-replace-needs-exemption/);
    assert.equal(md.code, 1);
    const text = await cli(["plan", "-q", "--base", "HEAD~1"]);
    assert.match(text.stdout, /~ terraform_data\/terraform_data\.web .*\(replace: /);
    const applied = await cli(["apply", "--env", "dev", "-q"]);
    assert.notEqual(applied.code, 0);
    assert.match(applied.stdout + applied.stderr, /plan refused: 1 policy denial\(s\) of the planned changes: terraform_data\/terraform_data\.web: the plan would replace/);
    assert.equal(readFileSync(join(sb.effects, "web.log"), "utf8"), "created\n", "nothing was applied");
  });

  it("a CEL policy denies deleting a resource; the state keeps it", async () => {
    repo.commit({
      "gitward.yaml": gitwardYaml(sb, "policies: policies\n"),
      "policies/no-delete.yaml": `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: no-delete-db }
spec:
  match:
    resources:
      - { apiGroups: [terraform.gitward.dev], kinds: [terraform_data] }
    environments: [dev]
  validations:
    - expression: "object.metadata.annotations['terraform.gitward.dev/action'] != 'delete' || !object.metadata.name.endsWith('.db')"
      messageExpression: "'deleting ' + object.metadata.name + ' is not allowed'"
`,
      "tf/net/main.tf": moduleMain(base.slice(base.indexOf('resource "terraform_data" "web"'))),
    }, "drop db");
    const plan = await cli(["plan", "-q", "--base", "HEAD~1"]);
    assert.equal(plan.code, 1);
    assert.match(plan.stdout, /- terraform_data\/terraform_data\.db/);
    assert.match(plan.stdout + plan.stderr, /deleting terraform_data\.db is not allowed \(policy\.no-delete-db\)/);
    const applied = await cli(["apply", "--env", "dev", "-q"]);
    assert.notEqual(applied.code, 0);
    assert.match(applied.stdout + applied.stderr, /deleting terraform_data\.db is not allowed/);
    assert.match(readFileSync(sb.statePath("dev"), "utf8"), /"name": "db"/);
  });

  it("a failing local-exec fails the sync; the state stays consistent and a new plan shows what is left", async () => {
    repo.commit({
      "gitward.yaml": gitwardYaml(sb),
      "tf/net/main.tf": moduleMain(`${base}
resource "terraform_data" "broken" {
  input = "x"

  provisioner "local-exec" {
    command = "exit 3"
  }
}

resource "terraform_data" "fine" {
  input = "y"
}
`),
    }, "broken provisioner");
    const applied = await cli(["apply", "--env", "dev", "-q"]);
    assert.notEqual(applied.code, 0);
    assert.match(applied.stdout + applied.stderr, /terraform apply failed/);
    assert.match(applied.stdout, /terraform_data\.broken/);
    const plan = await cli(["plan", "-q"]);
    // The tainted resource is replaced by the next plan; what was made stays made.
    assert.match(plan.stdout, /terraform_data\.broken/);
    assert.doesNotMatch(plan.stdout, /[+~-] terraform_data\/terraform_data\.fine/);
  });

  it("a module that does not init names the module and terraform's reason", async () => {
    repo.commit({
      "gitward.yaml": gitwardYaml(sb),
      "tf/net/main.tf": `terraform {
  backend "local" {}
  required_providers {
    nothere = { source = "example.invalid/acme/nothere" }
  }
}
`,
    }, "bad provider");
    const plan = await cli(["plan", "-q"]);
    assert.equal(plan.code, 1);
    assert.match(plan.stdout + plan.stderr, /terraform stack dev\/net \(module tf\/net\): init failed/);
    assert.doesNotMatch(plan.stdout + plan.stderr, /modules\/dev\.net/, "the private copy is not what the error names");
  });

  it("without the target's credentials, plan says so and validates only", async () => {
    repo.commit({ "gitward.yaml": gitwardYaml(sb), "tf/net/main.tf": moduleMain(base) }, "back");
    const { TF_VAR_db_password: _unset, ...without } = env;
    const bare = await runCli(["plan", "-q", "--repo", repo.dir, "--cache-dir", join(sb.dir, "cache")], { env: { ...without } });
    outputs.push(bare.stdout, bare.stderr);
    assert.match(bare.stdout, /not planned: no backend credentials here \(target tf: environment variable TF_VAR_db_password named in env is set neither/);
    assert.equal(bare.code, 0, bare.stderr);
  });

  it("never shows the planted secret: outputs, history, inventories and the cache", () => {
    for (const o of outputs) assert.equal(o.includes(planted), false, `planted value in: ${o.slice(0, 300)}`);
    const db = join(sb.dir, "gitward.db");
    assert.equal(readFileSync(db).includes(planted), false, "planted value in the history store");
    const inventories = join(sb.dir, "cache", "terraform", "inventory");
    for (const f of readdirSync(inventories)) assert.equal(readFileSync(join(inventories, f), "utf8").includes(planted), false);
    assert.ok(statSync(db).size > 0);
  });
});
