import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { storeRecorder } from "../../src/engine/recorder.ts";
import { syncEnvironment, type SyncResult } from "../../src/engine/sync-environment.ts";
import { terraformProvider } from "../../src/providers/terraform/provider.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";
import { testWorkspace, type TestWorkspace } from "../support/engine.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { makeTfSandbox, requireTerraform, terraformBinary, type TfSandbox } from "../support/terraform.ts";
import { environments, goneModule, netModule, noDeleteInGuarded } from "../support/terraform-prune-fixtures.ts";

/**
 * A Terraform stack removed from gitward.yaml, through `syncEnvironment` (what `gitward apply`
 * runs) with real terraform: destroyed where the environment prunes and its destroy plan passes
 * the policies (the destroy-time provisioner runs, the state is emptied, the inventory deleted,
 * a history row and an audit event written); left and reported where the environment does not
 * prune, or where a policy denies the delete (with the reason).
 */
describe("Terraform: a stack removed from Git (real terraform, gitward apply)", () => {
  let sb: TfSandbox;
  let repo: TestRepo;
  let tw: TestWorkspace;
  let stateDir: string;
  let store: Store;
  const removed: Partial<Record<(typeof environments)[number], SyncResult>> = {};

  const target = (env: string, name: string): string =>
    `${name}: { provider: terraform, binary: ${terraformBinary}, backendConfig: { path: ${sb.statePath(`${env}-${name}`)} } }`;
  const gitwardYaml = (withGone: boolean): string => `version: 1
environments:
${environments.map((env) => `  ${env}:
${env === "keep" ? "    sync: { prune: false }\n" : ""}    targets:
      ${target(env, "tfnet")}
      ${target(env, "tfgone")}`).join("\n")}
stacks:
  net: { target: tfnet, path: tf/net }
${withGone ? `  gone: { target: tfgone, path: tf/gone, vars: { effects: ${sb.effects} } }\n` : ""}policies: policies
`;
  const apply = (environment: string): Promise<SyncResult> => syncEnvironment({
    source: tw.ws.source, rev: "HEAD", configPath: "gitward.yaml", renderer: tw.ws.renderer, check: tw.ws.check, configCache: tw.ws.configCache,
    environment, dryRun: false, force: false,
    providers: { terraform: terraformProvider() },
    providerContext: { cacheDir: join(sb.dir, "cache") },
    recorder: storeRecorder(store),
  });
  const resources = (env: string): string[] => {
    const s = JSON.parse(readFileSync(sb.statePath(`${env}-tfgone`), "utf8")) as { resources: { type: string; name: string }[] };
    return s.resources.map((r) => `${r.type}.${r.name}`);
  };
  const inventory = (env: string): string => join(sb.cacheDir, "inventory", `${env}.gone.json`);
  const marker = (env: string): string => join(sb.effects, `${env}.destroyed`);

  before(async () => {
    requireTerraform();
    sb = makeTfSandbox();
    process.env["TF_CLI_CONFIG_FILE"] = sb.cliConfig;
    stateDir = mkdtempSync(join(tmpdir(), "gitward-prune-state-"));
    store = await openStore(join(stateDir, "state.db"));
    repo = makeRepo();
    repo.commit({ "gitward.yaml": gitwardYaml(true), "tf/net/main.tf": netModule, "tf/gone/main.tf": goneModule, "policies/no-delete.yaml": noDeleteInGuarded }, "net and gone");
    tw = await testWorkspace(repo.dir);
    for (const env of environments) {
      const first = await apply(env);
      assert.equal(first.ok, true, JSON.stringify(first.stacks));
      assert.deepEqual(resources(env), ["terraform_data.thing"]);
      assert.equal(existsSync(inventory(env)), true, `the inventory of gone in ${env} is at ${inventory(env)}`);
    }
    repo.commit({ "gitward.yaml": gitwardYaml(false) }, "remove gone");
    for (const env of environments) removed[env] = await apply(env);
  });
  after(async () => {
    await tw.close();
    await store.close();
    delete process.env["TF_CLI_CONFIG_FILE"];
    repo.remove();
    sb.remove();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("destroys it where the environment prunes: the destroy-time provisioner ran, the state is empty, the inventory is gone, history and audit say so", async () => {
    const r = removed.dev;
    assert.equal(r?.ok, true, JSON.stringify(r));
    assert.deepEqual(r.orphans.map((o) => [o.stack, o.target, o.result]), [["gone", "tfgone", "destroyed"]]);
    assert.deepEqual(r.orphans[0]?.entries.map((e) => `${e.action} ${e.ref.name}`), ["deleted terraform_data.thing"]);
    assert.equal(readFileSync(marker("dev"), "utf8"), "destroyed");
    assert.deepEqual(resources("dev"), []);
    assert.equal(existsSync(inventory("dev")), false);
    const rows = await store.listSyncs({ environment: "dev", stack: "gone" });
    assert.equal(rows.length, 2, JSON.stringify(rows));
    const row = rows[0];
    assert.equal(row?.trigger.detail, "orphan destroyed");
    assert.equal(row.outcome, "succeeded");
    assert.equal(row.revision.sha, repo.git("rev-parse", "HEAD"));
    assert.deepEqual(row.objects.map((o) => `${o.action} ${o.ref.name}`), ["deleted terraform_data.thing"]);
    const audit = (await store.listAudit({ limit: 100 })).filter((a) => a.kind === "orphan-destroyed");
    assert.deepEqual(audit.map((a) => [a.environment, a.stack, a.details["outcome"]]), [["dev", "gone", "succeeded"]]);
    // The stack that stays was synced as usual.
    assert.deepEqual(r.stacks.map((s) => [s.stack, s.ok]), [["net", true]]);
  });

  it("leaves it and reports it where the environment does not prune", () => {
    const r = removed.keep;
    assert.equal(r?.ok, true, JSON.stringify(r));
    assert.deepEqual(r.orphans.map((o) => [o.stack, o.result]), [["gone", "left"]]);
    assert.match(r.orphans[0]?.reason ?? "", /does not prune \(sync\.prune: false\)/);
    assert.equal(existsSync(marker("keep")), false);
    assert.deepEqual(resources("keep"), ["terraform_data.thing"]);
    assert.equal(existsSync(inventory("keep")), true);
  });

  it("leaves it and reports why where a policy denies its destroy plan", async () => {
    const r = removed.guarded;
    assert.deepEqual(r?.orphans.map((o) => [o.stack, o.result]), [["gone", "denied"]]);
    assert.match(r.orphans[0]?.reason ?? "", /destroy plan refused: .*deleting terraform_data\.thing is not allowed in guarded/);
    assert.deepEqual(r.orphans[0]?.entries.map((e) => `${e.action} ${e.ref.name}`), ["skipped terraform_data.thing"]);
    assert.equal(existsSync(marker("guarded")), false);
    assert.deepEqual(resources("guarded"), ["terraform_data.thing"]);
    assert.equal(existsSync(inventory("guarded")), true);
    const rows = await store.listSyncs({ environment: "guarded", stack: "gone" });
    assert.equal(rows.length, 1, "no history row for a destroy that was not made");
    // Asked again, it is still there and still refused: nothing is destroyed behind the policy.
    const again = await apply("guarded");
    assert.deepEqual(again.orphans.map((o) => o.result), ["denied"]);
    assert.deepEqual(resources("guarded"), ["terraform_data.thing"]);
  });
});
