import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../../support/cli.ts";
import { startApi, type Api } from "./api-support.ts";

describe("the CLI as a client of the API: status, history, sync", () => {
  let api: Api;
  let url: string;
  let work: string;
  const tokenFile = (name: string): string => {
    const file = join(work, name);
    writeFileSync(file, `${api.tokens[name] ?? ""}\n`, { mode: 0o600 });
    return file;
  };
  before(async () => {
    api = await startApi();
    work = mkdtempSync(join(tmpdir(), "gitward-cli-client-"));
    for (let i = 0; i < 240; i++) {
      const row = await api.store.beginSync({ environment: "dev", stack: "web", revision: { sha: "b".repeat(40), author: "alice", message: `change ${i}` }, trigger: { kind: "poll" } });
      await api.store.finishSync(row.id, { outcome: "succeeded", summary: {}, objects: [], durationMs: 1 });
    }
    url = await api.app.listen({ host: "127.0.0.1", port: 0 });
  });
  after(async () => {
    await api.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("history pages through the API's cursor for more than one page (limit 230 > 200)", async () => {
    const r = await runCli(["history", "--agent", url, "--token-file", tokenFile("viewer"), "-n", "230", "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const syncs = (JSON.parse(r.stdout) as { syncs: { id: string; revision: { message: string } }[] }).syncs;
    assert.equal(syncs.length, 230);
    assert.equal(new Set(syncs.map((s) => s.id)).size, 230, "no sync twice");
    assert.equal(syncs[0]?.revision.message, "change 239");
  });

  it("without a token: the agent's 401 message and what to do; a token without the role: the 403 message", async () => {
    const none = await runCli(["status", "--agent", url], { env: { GITWARD_API_TOKEN: "" } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /agent answered \(401\): unauthenticated: authentication required/);
    assert.match(none.stderr, /GITWARD_API_TOKEN|--token-file/);
    const denied = await runCli(["sync", "--agent", url, "--token-file", tokenFile("prodViewer"), "-e", "dev"]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /agent refused the sync \(403\): forbidden: sync needs operator on environment "dev"; prodViewer has no role there/);
    assert.ok(!denied.stderr.includes(api.tokens["prodViewer"] ?? "-"), "the token is never printed");
  });

  it("status and sync with a token that may", async () => {
    const status = await runCli(["status", "--agent", url, "-o", "json"], { env: { GITWARD_API_TOKEN: api.tokens["viewer"] ?? "" } });
    assert.ok(status.code === 0 || status.code === 2, status.stderr);
    assert.deepEqual((JSON.parse(status.stdout) as { environments: { name: string }[] }).environments.map((e) => e.name), ["dev", "staging", "prod"]);
    const sync = await runCli(["sync", "--agent", url, "--token-file", tokenFile("devOperator"), "-e", "dev", "-s", "web"]);
    assert.equal(sync.code, 0, sync.stderr);
    assert.match(sync.stdout, /queued 1 stack\(s\) of dev/);
  });
});
