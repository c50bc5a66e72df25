import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, type CliRun } from "../support/cli.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { makeTfSandbox, requireTerraform, terraformBinary, type TfSandbox } from "../support/terraform.ts";
import { dbModule, siteFiles } from "../support/terraform-outputs-fixtures.ts";

// A sensitive value planted through the runner's environment: it may only reach the 0600 file.
const planted = "0utput-S3cret-planted-7d1e";

function gitwardYaml(sb: TfSandbox, root: string, opts: { port?: string; extraStacks?: string } = {}): string {
  return `version: 1
environments:
  dev:
    targets:
      tf:
        provider: terraform
        binary: ${terraformBinary}
        backendConfig: { path: ${sb.statePath("dev")} }
        env: [TF_VAR_db_password, TF_CLI_CONFIG_FILE]
      edge: { provider: host, root: ${root} }
      cluster: { provider: kubernetes }
stacks:
  db: { target: tf, path: tf/db, vars: { port: "${opts.port ?? "5432"}" } }
  site: { target: edge, path: site, dependsOn: [db] }
${opts.extraStacks ?? ""}`;
}

describe("Terraform outputs feeding other stacks (real terraform)", () => {
  let sb: TfSandbox;
  let repo: TestRepo;
  let root: string;
  let env: Record<string, string>;
  const seen: string[] = [];

  const cli = async (args: readonly string[]): Promise<CliRun> => {
    const r = await runCli([...args, "--repo", repo.dir, "--cache-dir", join(sb.dir, "cache")], { env });
    seen.push(r.stdout, r.stderr);
    return r;
  };
  const apply = (): Promise<CliRun> => cli(["apply", "--env", "dev", "-q", "--state", `sqlite:${join(sb.dir, "gitward.db")}`]);

  before(() => {
    requireTerraform();
    sb = makeTfSandbox();
    repo = makeRepo();
    root = join(sb.dir, "edge");
    mkdirSync(root);
    env = { GITWARD_CACHE_DIR: join(sb.dir, "cache"), TF_CLI_CONFIG_FILE: sb.cliConfig, TF_VAR_db_password: planted };
  });
  after(() => {
    repo.remove();
    sb.remove();
  });

  it("plans the consumer with the producer's outputs known after apply before the producer exists", async () => {
    repo.commit({ "gitward.yaml": gitwardYaml(sb, root), "tf/db/main.tf": dbModule, "site/files.yaml": siteFiles }, "db and site");
    const plan = await cli(["plan", "-q", "-o", "markdown"]);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /upstream \(known after apply\);/);
    assert.match(plan.stdout, /create \| `terraform_data\/terraform_data\.db`/);
  });

  it("syncs the producer, then the consumer with its outputs: the host files get the values", async () => {
    const r = await apply();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(root, "app.conf"), "utf8"), "upstream db.internal:5432;\n");
    assert.equal(readFileSync(join(root, "db.pass"), "utf8"), planted, "the sensitive output reached the 0600 file");
    assert.equal(statSync(join(root, "db.pass")).mode & 0o777, 0o600);
    const again = await cli(["plan", "-q", "--base", "HEAD"]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.doesNotMatch(again.stdout, /known after apply/, "an unchanged producer gives its current outputs");
  });

  it("shows known after apply when the producer changes in the same revision, then applies the new value", async () => {
    repo.commit({ "gitward.yaml": gitwardYaml(sb, root, { port: "6543" }) }, "db port");
    const plan = await cli(["plan", "-q", "--base", "HEAD~1"]);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /-.*upstream db\.internal:5432;/);
    assert.match(plan.stdout, /\+.*upstream \(known after apply\);/);
    const r = await apply();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(root, "app.conf"), "utf8"), "upstream db.internal:6543;\n");
  });

  it("refuses a sensitive output in a ConfigMap, naming the object, the field and the output", async () => {
    repo.commit({
      "gitward.yaml": gitwardYaml(sb, root, { port: "6543", extraStacks: "  app: { target: cluster, path: app, namespace: app, dependsOn: [db] }\n" }),
      "app/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: db-config }\ndata:\n  DB_HOST: ${outputs.db.endpoint}\n  DB_PASSWORD: ${outputs.db.password}\n",
    }, "password in a ConfigMap");
    const plan = await cli(["plan", "-q"]);
    assert.notEqual(plan.code, 0);
    assert.match(plan.stdout + plan.stderr, /sensitive output \$\{outputs\.db\.password\} cannot go into ConfigMap\/app\/db-config, field data\.DB_PASSWORD/);
    assert.match(plan.stdout + plan.stderr, /app\/config\.yaml/);
  });

  it("accepts it in a Secret's stringData", async () => {
    repo.commit({ "app/config.yaml": "apiVersion: v1\nkind: Secret\nmetadata: { name: db }\nstringData:\n  DB_HOST: ${outputs.db.endpoint}\n  DB_PASSWORD: ${outputs.db.password}\n" }, "password in a Secret");
    const plan = await cli(["plan", "-q", "--base", "HEAD~2"]);
    assert.match(plan.stdout, /\+ Secret\/app\/db/);
    assert.doesNotMatch(plan.stdout + plan.stderr, /sensitive output/);
    // gitward plan fills in the producer's planned outputs, and the check on Secrets with stringData
    // in Git (secret.plaintext) does not yet tell those values apart (apply and the agent check the
    // revision with outputs known after apply, which passes). Known gap, see docs/terraform.md.
    assert.match(plan.stdout, /secret\.plaintext/);
  });

  it("refuses a reference to a stack that is not a dependency, at its file and line", async () => {
    repo.commit({
      "gitward.yaml": gitwardYaml(sb, root, { port: "6543", extraStacks: "  other: { target: edge, path: other }\n" }),
      "app/config.yaml": null,
      "other/file.yaml": "apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: other }\nspec:\n  path: other.conf\n  content: \"db ${outputs.db.endpoint}\"\n",
    }, "other reads db without depending on it");
    const plan = await cli(["plan", "-q"]);
    assert.notEqual(plan.code, 0);
    assert.match(plan.stdout + plan.stderr, /other\/file\.yaml:6/);
    assert.match(plan.stdout + plan.stderr, /\$\{outputs\.db\.endpoint\}: stack db is not a dependency of other/);
  });

  it("never shows the sensitive value: outputs, history, inventories", () => {
    const inventories = readdirSync(join(sb.dir, "cache", "terraform", "inventory")).map((f) => readFileSync(join(sb.dir, "cache", "terraform", "inventory", f), "utf8"));
    // The history database and its write-ahead log, byte for byte.
    const history = ["gitward.db", "gitward.db-wal"].filter((f) => existsSync(join(sb.dir, f))).map((f) => readFileSync(join(sb.dir, f)).toString("latin1")).join("");
    assert.notEqual(history, "", "the history was recorded");
    for (const text of [...seen, ...inventories, history]) assert.equal(text.includes(planted), false, `the sensitive value leaked: ${text.slice(0, 200)}`);
  });
});
