import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
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
import { dbModule, siteFiles } from "../support/terraform-outputs-fixtures.ts";

// Planted through the agent configuration (a secret file): it may only reach the 0600 host File.
const planted = "0utP-aG3nt-S3cr3t-k8Zq4";

function gitwardYaml(root: string, port: string): string {
  return `version: 1
environments:
  dev:
    targets:
      tf: { provider: terraform, binary: ${terraformBinary}, env: [TF_VAR_db_password] }
      edge: { provider: host, root: ${root} }
    sync: { auto: true }
stacks:
  db: { target: tf, path: tf/db, vars: { port: "${port}" } }
  site: { target: edge, path: site, dependsOn: [db] }
policies: { path: policies }
`;
}

// Checked at the gate with the endpoint known after apply, and again with its value before site syncs.
const policy = `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: no-port-6000 }
spec:
  match:
    resources: [{ apiGroups: ["host.gitward.dev"], kinds: ["File"] }]
  validations:
    - expression: "!object.spec.content.contains('db.internal:6000')"
      message: "the firewall closes port 6000"
`;

/**
 * Outputs through a real agent (runAgent, its HTTP API, real terraform, the local backend
 * outside the repository): a Terraform stack's outputs reach host Files of the stack that
 * depends on it, which syncs after it; a commit changing the producer's variable changes the
 * file; the sensitive output reaches only the 0600 File.
 */
describe("agent: Terraform outputs feeding a host stack (real terraform)", () => {
  let sb: TfSandbox;
  let work: TestRepo;
  let bare: string;
  let root: string;
  let running: RunningAgent;
  const served: string[] = [];
  const logLines: string[] = [];

  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(`${running.url}${path}`);
    const text = await res.text();
    served.push(text);
    assert.equal(res.status, 200, `${path}: ${text}`);
    return JSON.parse(text) as unknown;
  };
  const history = async (stack: string): Promise<SyncRow[]> => ((await get(`/api/v1/history?environment=dev&stack=${stack}&limit=50`)) as { items: SyncRow[] }).items;
  const finished = (stack: string, sha: string): Promise<SyncRow> =>
    until(`a finished sync of ${stack} at ${sha.slice(0, 8)}`, async () => (await history(stack)).find((r) => r.revision.sha === sha && r.outcome !== "running"), 90_000);
  const push = (files: Record<string, string>, message: string): string => {
    const sha = work.commit(files, message);
    execFileSync("git", ["-C", work.dir, "push", "-q", bare, "main"], { env: { ...process.env, ...gitTestEnv } });
    return sha;
  };
  /** Both stacks synced at `sha`, the consumer after the producer finished. */
  const bothSynced = async (sha: string): Promise<void> => {
    const db = await finished("db", sha);
    const site = await finished("site", sha);
    assert.equal(db.outcome, "succeeded", db.error);
    assert.equal(site.outcome, "succeeded", site.error);
    assert.ok(db.finishedAt !== undefined && Date.parse(site.startedAt) >= Date.parse(db.finishedAt), `site started ${site.startedAt}, after db finished ${db.finishedAt ?? ""}`);
  };

  before(async () => {
    requireTerraform();
    sb = makeTfSandbox();
    process.env["TF_CLI_CONFIG_FILE"] = sb.cliConfig;
    const secretFile = join(sb.dir, "db-password");
    writeFileSync(secretFile, `${planted}\n`, { mode: 0o600 });
    const backendFile = join(sb.dir, "dev.tfbackend");
    writeFileSync(backendFile, `path = "${sb.statePath("dev")}"\n`, { mode: 0o600 });
    root = join(sb.dir, "edge");
    mkdirSync(root);
    work = makeRepo();
    work.commit({ "gitward.yaml": gitwardYaml(root, "5432"), "tf/db/main.tf": dbModule, "site/files.yaml": siteFiles, "policies/ports.yaml": policy }, "db and site");
    bare = join(sb.dir, "bare.git");
    execFileSync("git", ["clone", "-q", "--bare", work.dir, bare], { env: { ...process.env, ...gitTestEnv } });
    running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(sb.dir, "cache"),
        intervals: { poll: 0.2, drift: 3600, retryBase: 3600, retryMax: 3600, dependencyWait: 0.1 },
        api: { anonymousRead: true },
        targets: { tf: { env: { TF_VAR_db_password: { file: secretFile } }, backendConfigFile: backendFile } },
      }),
      repo: bare, branch: "main", state: `sqlite:${join(sb.dir, "state.db")}`, listen: "127.0.0.1:0",
      logger: agentLogger({ level: "debug", pretty: false, destination: new Writable({ write(chunk: Buffer, _enc, done) { logLines.push(chunk.toString()); done(); } }) }),
    });
  });
  after(async () => {
    await running.stop();
    delete process.env["TF_CLI_CONFIG_FILE"];
    work.remove();
    sb.remove();
  });

  it("syncs the producer, then the consumer with its outputs: the files get the values, the sensitive one a 0600 file", async () => {
    await bothSynced(execFileSync("git", ["-C", bare, "rev-parse", "main"], { encoding: "utf8" }).trim());
    assert.equal(readFileSync(join(root, "app.conf"), "utf8"), "upstream db.internal:5432;\n");
    assert.equal(readFileSync(join(root, "db.pass"), "utf8"), planted, "the sensitive output reached the 0600 file");
    assert.equal(statSync(join(root, "db.pass")).mode & 0o777, 0o600);
  });

  it("a commit changing the producer's variable updates its output, then the consumer's file", async () => {
    const sha = push({ "gitward.yaml": gitwardYaml(root, "6543") }, "db port 6543");
    await bothSynced(sha);
    assert.equal(readFileSync(join(root, "app.conf"), "utf8"), "upstream db.internal:6543;\n");
    const site = (await history("site")).find((r) => r.revision.sha === sha);
    assert.ok(site?.objects.some((o) => o.ref.name === "app-conf" && o.action === "configured"), JSON.stringify(site?.objects));
    assert.equal(readFileSync(join(root, "db.pass"), "utf8"), planted);
  });

  it("refuses the consumer at its sync when the new output makes it denied, although the gate passed", async () => {
    const sha = push({ "gitward.yaml": gitwardYaml(root, "6000") }, "db port 6000");
    const db = await finished("db", sha);
    assert.equal(db.outcome, "succeeded", db.error);
    const site = await finished("site", sha);
    assert.equal(site.outcome, "failed");
    assert.match(site.error ?? "", /rendered with the current outputs of its dependencies, the stack has 0 error\(s\), 1 policy denial\(s\) \(first: site\/files\.yaml:\d+: the firewall closes port 6000 \(policy\.no-port-6000\)\)/);
    assert.equal(readFileSync(join(root, "app.conf"), "utf8"), "upstream db.internal:6543;\n", "the file keeps the last good value");
  });

  it("never serves, stores or logs the sensitive output", async () => {
    await get("/api/v1/status");
    await get("/api/v1/history?limit=200");
    await get("/api/v1/stacks");
    await get("/api/v1/environments/dev/stacks/site");
    await get("/api/v1/environments/dev/stacks/site/diff");
    await get("/api/v1/environments/dev/stacks/db");
    assert.ok(served.length >= 8);
    for (const text of served) assert.ok(!text.includes(planted), `an API response holds the secret: ${text.slice(0, 200)}`);
    const logs = logLines.join("");
    assert.ok(logs.includes("synced"), "the log was captured");
    assert.ok(!logs.includes(planted), "the agent's log never holds the secret");
    const db = execFileSync("sqlite3", [join(sb.dir, "state.db"), ".dump"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    assert.ok(db.includes("app-conf"), "the history was dumped");
    assert.ok(!db.includes(planted), "the history never holds the secret");
    const inventories = join(sb.dir, "cache", "terraform", "inventory");
    for (const f of readdirSync(inventories)) assert.ok(!readFileSync(join(inventories, f), "utf8").includes(planted), `inventory ${f}`);
    // The host target's own records (its inventory, journal) beside the files it manages.
    const hostState = readdirSync(join(root, ".gitward"), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    assert.ok(hostState.length > 0, "the host target keeps an inventory");
    for (const f of hostState) assert.ok(!readFileSync(f).toString("latin1").includes(planted), `host state ${f}`);
  });
});
