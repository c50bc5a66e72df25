import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import type { AuditEvent, SyncRow } from "../../src/store/store.ts";
import { gitTestEnv, makeRepo, type TestRepo } from "../support/repo.ts";
import { makeTfSandbox, requireTerraform, terraformBinary, type TfSandbox } from "../support/terraform.ts";
import { until } from "../support/until.ts";
import { environments, goneModule, netModule, noDeleteInGuarded } from "../support/terraform-prune-fixtures.ts";

interface OrphanView { environment: string; target: string; stack: string; objects: number; reason?: string }
interface StatusView { orphaned?: OrphanView[] }
interface AuditPage { items: AuditEvent[]; next: string | null }

/**
 * A Terraform stack removed from gitward.yaml, through a real agent (runAgent, its HTTP API,
 * real terraform, the local backend with its state outside the repository): the drift pass
 * after the removal destroys it where the environment prunes (the destroy-time provisioner
 * runs, the state is emptied, history and audit record it, status no longer lists it), and
 * leaves it, listed as orphaned with the reason, where the environment does not prune or a
 * policy denies its destroy plan.
 */
describe("agent: a Terraform stack removed from Git (real terraform)", () => {
  let sb: TfSandbox;
  let work: TestRepo;
  let bare: string;
  let running: RunningAgent;
  const token = "prune-test-api-token-3c9d";
  const logLines: string[] = [];

  const target = (env: string, name: string): string =>
    `${name}: { provider: terraform, binary: ${terraformBinary}, backendConfig: { path: ${sb.statePath(`${env}-${name}`)} } }`;
  const gitwardYaml = (withGone: boolean): string => `version: 1
environments:
${environments.map((env) => `  ${env}:
    sync: { auto: true${env === "keep" ? ", prune: false" : ""} }
    targets:
      ${target(env, "tfnet")}
      ${target(env, "tfgone")}`).join("\n")}
stacks:
  net: { target: tfnet, path: tf/net }
${withGone ? `  gone: { target: tfgone, path: tf/gone, vars: { effects: ${sb.effects} } }\n` : ""}policies: policies
`;
  const get = async <T>(path: string, auth = false): Promise<T> => {
    const res = await fetch(`${running.url}${path}`, auth ? { headers: { authorization: `Bearer ${token}` } } : {});
    const text = await res.text();
    assert.equal(res.status, 200, `${path}: ${text}`);
    return JSON.parse(text) as T;
  };
  const history = async (env: string, stack: string): Promise<SyncRow[]> =>
    (await get<{ items: SyncRow[] }>(`/api/v1/history?environment=${env}&stack=${stack}&limit=50`)).items;
  const finished = (env: string, stack: string, sha: string): Promise<SyncRow> =>
    until(`a finished sync of ${env}/${stack} at ${sha.slice(0, 8)}`, async () => (await history(env, stack)).find((r) => r.revision.sha === sha && r.outcome !== "running"), 120_000);
  const audit = async (): Promise<AuditEvent[]> => {
    const out: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const p = await get<AuditPage>(`/api/v1/audit?limit=200${cursor === undefined ? "" : `&cursor=${cursor}`}`, true);
      out.push(...p.items);
      cursor = p.next ?? undefined;
    } while (cursor !== undefined);
    return out;
  };
  const orphaned = async (): Promise<OrphanView[]> => (await get<StatusView>("/api/v1/status")).orphaned ?? [];
  const resources = (env: string): string[] => {
    const s = JSON.parse(readFileSync(sb.statePath(`${env}-tfgone`), "utf8")) as { resources: { type: string; name: string }[] };
    return s.resources.map((r) => `${r.type}.${r.name}`);
  };
  const marker = (env: string): string => join(sb.effects, `${env}.destroyed`);
  const head = (): string => execFileSync("git", ["-C", bare, "rev-parse", "main"], { encoding: "utf8" }).trim();
  let removedAt = "";

  before(async () => {
    requireTerraform();
    sb = makeTfSandbox();
    // The machine's CLI configuration may point at a missing file; terraform inherits this one.
    process.env["TF_CLI_CONFIG_FILE"] = sb.cliConfig;
    const tokenFile = join(sb.dir, "api-token");
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    work = makeRepo();
    work.commit({ "gitward.yaml": gitwardYaml(true), "tf/net/main.tf": netModule, "tf/gone/main.tf": goneModule, "policies/no-delete.yaml": noDeleteInGuarded }, "net and gone");
    bare = join(sb.dir, "bare.git");
    execFileSync("git", ["clone", "-q", "--bare", work.dir, bare], { env: { ...process.env, ...gitTestEnv } });
    running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(sb.dir, "cache"),
        // Drift (and so the look for orphans) runs when the test asks.
        intervals: { poll: 0.2, drift: 3600, retryBase: 3600, retryMax: 3600, dependencyWait: 0.1 },
        api: { token: { file: tokenFile }, anonymousRead: true },
      }),
      repo: bare, branch: "main", state: `sqlite:${join(sb.dir, "state.db")}`, listen: "127.0.0.1:0",
      logger: agentLogger({ level: "info", pretty: false, destination: new Writable({ write(chunk: Buffer, _enc, done) { logLines.push(chunk.toString()); done(); } }) }),
    });
    const first = head();
    for (const env of environments) {
      for (const stack of ["net", "gone"]) {
        const row = await finished(env, stack, first);
        assert.equal(row.outcome, "succeeded", `${env}/${stack}: ${row.error ?? ""}`);
      }
      assert.deepEqual(resources(env), ["terraform_data.thing"]);
    }
    // A drift pass before the removal finds no orphan and destroys nothing.
    await running.agent.checkDrift();
    await running.agent.idle(false);
    assert.deepEqual(await orphaned(), []);
    work.commit({ "gitward.yaml": gitwardYaml(false) }, "remove gone");
    execFileSync("git", ["-C", work.dir, "push", "-q", bare, "main"], { env: { ...process.env, ...gitTestEnv } });
    removedAt = head();
    for (const env of environments) assert.equal((await finished(env, "net", removedAt)).outcome, "succeeded");
    // The new revision's syncs leave the removed stack alone: the drift pass is what destroys it.
    assert.equal(existsSync(marker("dev")), false);
    assert.deepEqual(resources("dev"), ["terraform_data.thing"]);
    await running.agent.checkDrift();
    await running.agent.idle(false);
  });
  after(async () => {
    await running.stop();
    delete process.env["TF_CLI_CONFIG_FILE"];
    work.remove();
    sb.remove();
  });

  it("destroys it where the environment prunes: provisioner ran, state empty, history and audit record it, status no longer lists it", async () => {
    assert.equal(readFileSync(marker("dev"), "utf8"), "destroyed");
    assert.deepEqual(resources("dev"), []);
    const rows = await history("dev", "gone");
    assert.equal(rows.length, 2, JSON.stringify(rows.map((r) => [r.trigger, r.outcome])));
    const row = rows[0];
    assert.equal(row?.trigger.kind, "drift");
    assert.equal(row.trigger.detail, "orphan destroyed");
    assert.equal(row.outcome, "succeeded", row.error);
    assert.equal(row.revision.sha, removedAt);
    assert.deepEqual(row.objects.map((o) => `${o.action} ${o.ref.name}`), ["deleted terraform_data.thing"]);
    const events = (await audit()).filter((a) => a.kind === "orphan-destroyed");
    assert.deepEqual(events.map((a) => [a.environment, a.stack, a.revision, a.details["outcome"], a.details["syncId"]]), [["dev", "gone", removedAt, "succeeded", row.id]]);
    assert.ok(!(await orphaned()).some((o) => o.environment === "dev"), "dev has no orphan left");
    assert.ok(logLines.some((l) => l.includes("orphaned stack destroyed")), "the destroy is logged");
  });

  it("leaves it where the environment does not prune, listed as orphaned with the reason", async () => {
    assert.equal(existsSync(marker("keep")), false);
    assert.deepEqual(resources("keep"), ["terraform_data.thing"]);
    assert.equal((await history("keep", "gone")).length, 1, "no history row for a destroy that was not made");
    const keep = (await orphaned()).filter((o) => o.environment === "keep");
    assert.deepEqual(keep.map((o) => [o.stack, o.target, o.objects]), [["gone", "tfgone", 1]]);
    assert.match(keep[0]?.reason ?? "", /environment keep does not prune \(sync\.prune: false\)/);
  });

  it("leaves it where a policy denies its destroy plan, listed as orphaned with the reason; a later pass still leaves it", async () => {
    assert.equal(existsSync(marker("guarded")), false);
    assert.deepEqual(resources("guarded"), ["terraform_data.thing"]);
    assert.equal((await history("guarded", "gone")).length, 1, "no history row for a destroy that was not made");
    const guarded = (await orphaned()).filter((o) => o.environment === "guarded");
    assert.deepEqual(guarded.map((o) => [o.stack, o.target]), [["gone", "tfgone"]]);
    assert.match(guarded[0]?.reason ?? "", /destroy plan refused: .*deleting terraform_data\.thing is not allowed in guarded/);
    await running.agent.checkDrift();
    await running.agent.idle(false);
    assert.equal(existsSync(marker("guarded")), false);
    assert.deepEqual(resources("guarded"), ["terraform_data.thing"]);
    assert.deepEqual((await orphaned()).map((o) => [o.environment, o.stack]).sort(), [["guarded", "gone"], ["keep", "gone"]]);
    assert.equal((await audit()).filter((a) => a.kind === "orphan-destroyed").length, 1, "only dev's destroy is audited");
  });
});
