import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { AgentStatus } from "../../src/agent/agent.ts";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import type { SyncRow } from "../../src/store/store.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

/**
 * The agent verifies head commits with the keys its own configuration gives (an SSH allowed
 * signers file here, commits signed with ssh-keygen keys), and requires a trusted signature
 * for the environments its configuration names: prod here, not dev. An unsigned commit cannot
 * lift the requirement by editing gitward.yaml.
 */
describe("agent: signed commits required for prod by the agent configuration", () => {
  let work: string;
  let repo: TestRepo;
  let running: RunningAgent;
  const keys: Record<string, string> = {};

  const config = (greeting: string, requireInGit: boolean): Record<string, string> => ({
    "gitward.yaml": `version: 1
environments:
  dev:
    vars: { greeting: "${greeting}" }
    targets: { web: { provider: host, root: ${join(work, "dev")} } }
    sync: { auto: true }
  prod:
    vars: { greeting: "${greeting}" }
    targets: { web: { provider: host, root: ${join(work, "prod")} } }
    sync: { auto: true }
stacks:
  site: { target: web, path: site }
${requireInGit ? "verification:\n  signatures: { required: true }\n" : ""}`,
    "site/index.yaml": "apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec: { path: index.html, content: \"${greeting}\\n\" }\n",
  });
  /** Commits the files, signed with the named key (or unsigned). */
  const commit = (files: Record<string, string>, message: string, key?: string): string => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(repo.dir, path)), { recursive: true });
      writeFileSync(join(repo.dir, path), content);
    }
    repo.git("add", "-A");
    const sign = key === undefined ? [] : ["-c", "gpg.format=ssh", "-c", `user.signingkey=${keys[key] ?? ""}`];
    repo.git(...sign, "commit", "-q", ...(key === undefined ? [] : ["-S"]), "-m", message);
    return repo.git("rev-parse", "HEAD");
  };
  const live = (env: string): string => readFileSync(join(work, env, "index.html"), "utf8");
  const status = async (): Promise<{ code: number; body: AgentStatus }> => {
    const r = await fetch(`${running.url}/api/v1/status`);
    return { code: r.status, body: (await r.json()) as AgentStatus };
  };
  const history = async (env: string): Promise<SyncRow[]> =>
    ((await (await fetch(`${running.url}/api/v1/history?environment=${env}&limit=100`)).json()) as { items: SyncRow[] }).items;
  const poll = async (): Promise<void> => {
    await running.agent.trigger({ kind: "webhook", detail: "test" });
    await running.agent.idle();
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-agent-sig-"));
    for (const d of ["dev", "prod", "keys"]) mkdirSync(join(work, d));
    for (const k of ["trusted", "untrusted"]) {
      keys[k] = join(work, "keys", k);
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", k, "-f", keys[k] ?? ""]);
    }
    writeFileSync(join(work, "keys", "allowed_signers"), `committer@example.com ${readFileSync(`${keys["trusted"] ?? ""}.pub`, "utf8")}`);
    repo = makeRepo();
    // gitward.yaml requires signatures too: with the agent's keys it now syncs.
    commit(config("v1", true), "v1", "trusted");
    running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(work, "cache"), api: { anonymousRead: true }, intervals: { poll: 3600, drift: 3600, retryBase: 0.2, retryMax: 1 },
        verification: { allowedSigners: join(work, "keys", "allowed_signers"), requireSignedCommits: ["prod"] },
      }),
      repo: repo.dir, branch: "main", state: `sqlite:${join(work, "state.db")}`, listen: "127.0.0.1:0",
      logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }),
    });
    await running.agent.idle();
  });
  after(async () => {
    await running.stop();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("a trusted signed head syncs everywhere, gitward.yaml's own requirement met by the agent's keys", async () => {
    assert.equal(live("dev"), "v1\n");
    assert.equal(live("prod"), "v1\n");
    const { code, body } = await status();
    assert.equal(code, 200);
    assert.equal(body.refused, undefined);
  });

  it("an unsigned commit that deletes gitward.yaml's requirement is refused for prod, recorded with the reason; dev takes it", async () => {
    const v2 = commit(config("v2", false), "v2: drop the requirement");
    await poll();
    assert.equal(live("dev"), "v2\n", "dev does not require signatures");
    assert.equal(live("prod"), "v1\n", "prod stays on its last good revision");
    const rows = await history("prod");
    assert.equal(rows[0]?.revision.sha, v2);
    assert.equal(rows[0]?.outcome, "failed");
    assert.match(rows[0]?.error ?? "", /revision not applied: prod: commit [0-9a-f]+ is not signed.*the agent configuration requires signed commits for prod/);
    const { code, body } = await status();
    assert.equal(code, 200);
    assert.equal(body.refused?.revision, v2);
    assert.ok(body.refused?.reasons.some((r) => /^prod: commit [0-9a-f]+ is not signed/.test(r)), JSON.stringify(body.refused));
    const prod = body.environments.find((e) => e.name === "prod")?.stacks[0];
    assert.equal(prod?.inSync, false);
    assert.notEqual(prod?.current, v2);
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    assert.match(metrics, /gitward_syncs_total\{environment="prod",stack="site",result="refused"\} 1/);
    // Asking again does not record it again, nor apply it.
    await running.agent.trigger({ kind: "manual", by: "test", detail: "again" }, { environment: "prod" });
    await running.agent.idle();
    assert.equal((await history("prod")).filter((r) => r.revision.sha === v2).length, 1, "recorded once per revision");
    assert.equal(live("prod"), "v1\n");
  });

  it("a commit signed by a key the agent does not trust is refused for prod too", async () => {
    const v3 = commit(config("v3", false), "v3: signed by someone else", "untrusted");
    await poll();
    assert.equal(live("dev"), "v3\n");
    assert.equal(live("prod"), "v1\n");
    const row = (await history("prod"))[0];
    assert.equal(row?.revision.sha, v3);
    assert.match(row?.error ?? "", /prod: commit [0-9a-f]+ has an untrusted signature/);
  });

  it("the next trusted signed commit syncs prod again", async () => {
    const v4 = commit(config("v4", false), "v4", "trusted");
    await poll();
    assert.equal(live("prod"), "v4\n");
    assert.equal((await history("prod"))[0]?.outcome, "succeeded");
    const { body } = await status();
    assert.equal(body.refused, undefined);
    assert.equal(body.environments.find((e) => e.name === "prod")?.stacks[0]?.current, v4);
  });
});
