import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import type { SyncRow } from "../../src/store/store.ts";
import { gitTestEnv, makeRepo, type TestRepo } from "../support/repo.ts";
import { makeTfSandbox, requireTerraform, terraformBinary, type TfSandbox } from "../support/terraform.ts";
import { until } from "../support/until.ts";

// Planted through the agent configuration (a secret file), never Git nor the agent's environment.
const planted = "aG3nt-pl4nted-Vq7x2Lr9";

function gitwardYaml(sb: TfSandbox, value: string): string {
  // No backend settings and no values here: the agent configuration has the backend file and the secret.
  return `version: 1
environments:
  dev:
    targets:
      tf: { provider: terraform, binary: ${terraformBinary}, env: [TF_VAR_db_password] }
    sync: { auto: true, selfHeal: true }
stacks:
  net: { target: tf, path: tf/net, vars: { effects: ${sb.effects}, value: ${value} } }
`;
}

function moduleMain(extra = ""): string {
  return `terraform {
  backend "local" {}
}

variable "effects" {
  type = string
}

variable "value" {
  type = string
}

variable "db_password" {
  type      = string
  sensitive = true
}

resource "terraform_data" "db" {
  input = { password = var.db_password }
}

resource "terraform_data" "web" {
  input            = var.value
  triggers_replace = [var.value]

  provisioner "local-exec" {
    command = "echo \${var.value} >> \${var.effects}/web.log"
  }
}
${extra}
output "web" {
  value = terraform_data.web.output
}

output "db_password" {
  value     = var.db_password
  sensitive = true
}
`;
}

const broken = `
resource "terraform_data" "broken" {
  input = "x"

  provisioner "local-exec" {
    command = "echo failing >> \${var.effects}/broken.log; exit 3"
  }
}
`;

/**
 * A Terraform stack through a real agent (runAgent, its HTTP API, real terraform, the local
 * backend with its state outside the repository): credentials from the agent configuration,
 * a sync per commit, a rollback through Git, drift made by an apply outside gitward detected
 * per attribute and corrected, a failing local-exec, and the planted secret never served.
 */
describe("agent: Terraform stacks (real terraform)", () => {
  let sb: TfSandbox;
  let work: TestRepo;
  let bare: string;
  let running: RunningAgent;
  const served: string[] = [];
  const logLines: string[] = [];

  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(`${running.url}${path}`);
    const text = await res.text();
    served.push(text);
    assert.equal(res.status, 200, `${path}: ${text}`);
    assert.ok(!text.includes(planted), `${path} never serves the planted secret`);
    return JSON.parse(text) as unknown;
  };
  const history = async (): Promise<SyncRow[]> => ((await get("/api/v1/history?environment=dev&stack=net&limit=50")) as { items: SyncRow[] }).items;
  const finished = (sha: string): Promise<SyncRow> =>
    until(`a finished sync of ${sha.slice(0, 8)}`, async () => (await history()).find((r) => r.revision.sha === sha && r.outcome !== "running"), 90_000);
  const push = (files: Record<string, string>, message: string): string => {
    const sha = work.commit(files, message);
    execFileSync("git", ["-C", work.dir, "push", "-q", bare, "main"], { env: { ...process.env, ...gitTestEnv } });
    return sha;
  };
  const log = (): string[] => readFileSync(join(sb.effects, "web.log"), "utf8").trim().split("\n");
  const stateValue = (): unknown => {
    const state = JSON.parse(readFileSync(sb.statePath("dev"), "utf8")) as { resources: { name: string; instances: { attributes: { input: { value: unknown } } }[] }[] };
    return state.resources.find((r) => r.name === "web")?.instances[0]?.attributes.input.value;
  };

  before(async () => {
    requireTerraform();
    sb = makeTfSandbox();
    // The machine's CLI configuration may point at a missing file; terraform inherits this one.
    process.env["TF_CLI_CONFIG_FILE"] = sb.cliConfig;
    const secretFile = join(sb.dir, "db-password");
    writeFileSync(secretFile, `${planted}\n`, { mode: 0o600 });
    const backendFile = join(sb.dir, "dev.tfbackend");
    writeFileSync(backendFile, `path = "${sb.statePath("dev")}"\n`, { mode: 0o600 });
    work = makeRepo();
    work.commit({ "gitward.yaml": gitwardYaml(sb, "v1"), "tf/net/main.tf": moduleMain() }, "tf: net v1");
    bare = join(sb.dir, "bare.git");
    execFileSync("git", ["clone", "-q", "--bare", work.dir, bare], { env: { ...process.env, ...gitTestEnv } });
    running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(sb.dir, "cache"),
        // Drift is checked when the test asks; a failed sync is not retried during the test.
        intervals: { poll: 0.2, drift: 3600, retryBase: 3600, retryMax: 3600, dependencyWait: 0.1 },
        api: { anonymousRead: true },
        targets: { tf: { env: { TF_VAR_db_password: { file: secretFile } }, backendConfigFile: backendFile } },
      }),
      repo: bare, branch: "main", state: `sqlite:${join(sb.dir, "state.db")}`, listen: "127.0.0.1:0",
      logger: agentLogger({ level: "info", pretty: false, destination: new Writable({ write(chunk: Buffer, _enc, done) { logLines.push(chunk.toString()); done(); } }) }),
    });
  });
  after(async () => {
    await running.stop();
    delete process.env["TF_CLI_CONFIG_FILE"];
    work.remove();
    sb.remove();
  });

  it("syncs the stack with the credentials of the agent configuration; the side effect happens once; Terraform's output is on the record", async () => {
    const first = await finished(execFileSync("git", ["-C", bare, "rev-parse", "main"], { encoding: "utf8" }).trim());
    assert.equal(first.outcome, "succeeded", first.error);
    assert.deepEqual(log(), ["v1"]);
    assert.equal(stateValue(), "v1");
    const names = first.objects.map((o) => `${o.action} ${o.ref.name}`).sort();
    assert.ok(names.includes("created terraform_data.web") && names.includes("created terraform_data.db"), names.join(", "));
    // The sensitive output is recorded masked (the store's credential patterns mask "password = ..." once more).
    const secretOutput = first.objects.find((o) => o.ref.kind === "Output" && o.ref.name === "db_password");
    assert.match(secretOutput?.message ?? "", /^output db_password = (\(sensitive value\)|\*\*\*)/);
    const tf = first.commands?.find((c) => c.phase === "terraform-apply");
    assert.ok(tf !== undefined, "Terraform's apply is a command of the sync");
    assert.equal(tf.exitCode, 0);
    assert.match(tf.output, /terraform_data\.web: Creation complete/);
    assert.match(tf.output, /Apply complete! Resources: 2 added/);
    // A drift check right after finds nothing, and runs nothing again.
    await running.agent.checkDrift();
    await running.agent.idle(false);
    assert.deepEqual(log(), ["v1"]);
  });

  it("syncs a new commit, and a rollback through Git brings the previous value back", async () => {
    const v2 = push({ "gitward.yaml": gitwardYaml(sb, "v2") }, "net v2");
    assert.equal((await finished(v2)).outcome, "succeeded");
    assert.equal(stateValue(), "v2");
    assert.deepEqual(log(), ["v1", "v2"]);
    const rolled = await running.agent.rollback({ environment: "dev", stack: "net", reason: "v2 is bad", by: "alice" });
    const row = await finished(rolled.commit);
    assert.equal(row.outcome, "succeeded", row.error);
    assert.equal(row.trigger.kind, "rollback");
    assert.equal(stateValue(), "v1");
    assert.deepEqual(log(), ["v1", "v2", "v1"]);
    assert.ok(row.objects.some((o) => o.ref.name === "web" && o.message === 'output web = "v1"'), JSON.stringify(row.objects));
    execFileSync("git", ["-C", work.dir, "pull", "-q", "--ff-only", bare, "main"], { env: { ...process.env, ...gitTestEnv } });
  });

  it("detects drift made by a terraform apply outside gitward, per address and attribute, and corrects it (self-heal)", async () => {
    const moduleDir = sb.module("net", { "main.tf": moduleMain() });
    sb.outOfBand(moduleDir, "dev", ["apply", "-auto-approve", "-input=false", "-no-color", "-var", "value=drifted", "-var", `effects=${sb.effects}`, "-var", `db_password=${planted}`]);
    assert.equal(stateValue(), "drifted");
    const before = (await history()).length;
    type DriftItem = { ref: { name: string }; fields: { field: string }[]; corrected: boolean };
    const driftNow = async (): Promise<DriftItem[]> => ((await get("/api/v1/drift?environment=dev&stack=net")) as { items: DriftItem[] }).items;
    // A drift pass queues a check of each stack not already queued (a sync of an earlier test may
    // still hold the stack's place on a loaded machine): ask until the check has run.
    const drift = await until("the drift check of dev/net", async () => {
      await running.agent.checkDrift();
      await running.agent.idle(false);
      const found = await driftNow();
      return found.length > 0 ? found : undefined;
    }, 60_000);
    const web = drift.find((d) => d.ref.name === "terraform_data.web");
    assert.ok(web !== undefined, JSON.stringify(drift));
    assert.ok(web.fields.some((f) => f.field === "input"), `the drifted attribute is named: ${JSON.stringify(web.fields)}`);
    assert.equal(web.corrected, true);
    assert.ok(!drift.some((d) => d.ref.name === "terraform_data.db"), "what did not drift is not reported");
    const rows = await history();
    assert.equal(rows.length, before + 1);
    assert.equal(rows[0]?.trigger.kind, "drift");
    assert.equal(rows[0]?.outcome, "succeeded");
    assert.equal(stateValue(), "v1", "corrected to the value in Git");
    assert.deepEqual(log(), ["v1", "v2", "v1", "drifted", "v1"]);
  });

  it("a failing local-exec fails the sync; the state stays consistent and the next plan shows what is left", async () => {
    const sha = push({ "tf/net/main.tf": moduleMain(broken) }, "net: broken");
    const row = await finished(sha);
    assert.equal(row.outcome, "failed");
    assert.match(row.error ?? "", /terraform apply failed: .*local-exec/);
    assert.deepEqual(row.objects.filter((o) => o.action === "failed").map((o) => o.ref.name), ["terraform_data.broken"]);
    const tf = row.commands?.find((c) => c.phase === "terraform-apply");
    assert.equal(tf?.exitCode, 1);
    assert.match(tf.output, /terraform_data\.broken: Creation errored/);
    assert.match(tf.output, /Error: local-exec provisioner error/);
    assert.deepEqual(log(), ["v1", "v2", "v1", "drifted", "v1"], "nothing else ran");
    assert.equal(stateValue(), "v1");
    const left = (await running.agent.diffStack("dev", "net"))?.entries.filter((e) => e.action !== "no-op").map((e) => `${e.action} ${e.ref.name}`);
    // The failed create is tainted in the state: it is left to be replaced.
    assert.deepEqual(left, ["update terraform_data.broken"]);
  });

  it("never serves, stores or logs the planted secret", async () => {
    await get("/api/v1/status");
    await get("/api/v1/history?limit=200");
    await get("/api/v1/drift?limit=200");
    await get("/api/v1/stacks");
    await get("/api/v1/environments/dev/stacks/net");
    await get("/api/v1/environments/dev/stacks/net/diff");
    assert.ok(served.length >= 10);
    for (const text of served) assert.ok(!text.includes(planted));
    const logs = logLines.join("");
    assert.ok(logs.includes("synced"), "the log was captured");
    assert.ok(!logs.includes(planted), "the agent's log never holds the secret");
    const inventory = readFileSync(join(sb.dir, "cache", "terraform", "inventory", "dev.net.json"), "utf8");
    assert.ok(!inventory.includes(planted));
    const db = execFileSync("sqlite3", [join(sb.dir, "state.db"), ".dump"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    assert.ok(!db.includes(planted), "the state store never holds the secret");
  });
});
