import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openStore } from "../../src/store/open.ts";
import type { SyncRow } from "../../src/store/store.ts";
import { projectRoot } from "../support/cli.ts";
import { freePort } from "../support/git-server.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { until } from "../support/until.ts";

describe("gitward agent killed with SIGKILL in the middle of a sync", () => {
  let work: string;
  let repo: TestRepo;
  let child: ChildProcess | undefined;
  let port: number;
  const marker = (): string => join(work, "slow-reload");
  const root = (): string => join(work, "root");

  const startAgent = (): ChildProcess => {
    const c = spawn(process.execPath, [
      join(projectRoot, "src/cli/main.ts"), "agent", "--repo", repo.dir, "--state", `sqlite:${join(work, "state.db")}`,
      "--listen", `127.0.0.1:${port}`, "--config", join(work, "agent.yaml"),
    ], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    c.stderr?.on("data", () => undefined);
    return c;
  };
  const rows = async (): Promise<SyncRow[]> => {
    const store = await openStore(`sqlite:${join(work, "state.db")}`);
    try {
      return await store.listSyncs({ environment: "dev", stack: "site", limit: 100 });
    } finally {
      await store.close();
    }
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-agent-crash-"));
    mkdirSync(root());
    port = await freePort();
    // The reload is slow while the marker exists: long enough to kill the agent in the middle of the sync.
    const reload = [process.execPath, "-e", `if (require("fs").existsSync(${JSON.stringify(marker())})) setTimeout(() => {}, 20000)`];
    writeFileSync(join(work, "agent.yaml"), "intervals: { poll: 0.5, drift: 3600, retryBase: 0.5, retryMax: 2 }\ngracePeriodSeconds: 5\ncacheDir: " + join(work, "cache")
      + `\ntargets:\n  web:\n    commands:\n      slow-reload: ${JSON.stringify(reload)}\n`);
    repo = makeRepo();
    const files: Record<string, string> = {
      "gitward.yaml": `version: 1
environments:
  dev:
    targets:
      web: { provider: host, root: ${root()}, reload: slow-reload }
    sync: { auto: true }
stacks:
  site: { target: web, path: site }
`,
    };
    for (let i = 0; i < 20; i++) {
      files[`site/f${i}.yaml`] = `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: f${i} }\nspec: { path: "f${i}.conf", content: "version 1 of ${i}\\n" }\n`;
    }
    repo.commit(files, "version 1");
  });
  after(() => {
    child?.kill("SIGKILL");
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("converges after a restart: the half-done sync is rolled back and redone, history is consistent, nothing is duplicated", async () => {
    child = startAgent();
    await until("version 1 synced", async () => (await rows()).some((r) => r.outcome === "succeeded"));
    // The agent replaced itself (same pid) to run with a small young generation.
    assert.match(readFileSync(`/proc/${String(child.pid)}/cmdline`, "utf8"), /--max-semi-space-size=2\0/);
    // Version 2 with a reload that hangs: the files are swapped in, the agent waits for reload.
    writeFileSync(marker(), "");
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`site/f${i}.yaml`] = `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: f${i} }\nspec: { path: "f${i}.conf", content: "version 2 of ${i}\\n" }\n`;
    const v2 = repo.commit(files, "version 2");
    await until("the version 2 sync in flight", async () => (await rows()).some((r) => r.outcome === "running" && r.revision.sha === v2) && existsSync(join(root(), ".gitward", "journal.json")));
    child.kill("SIGKILL");
    await new Promise((r) => child?.once("exit", r));
    assert.equal(existsSync(join(root(), ".gitward", "journal.json")), true, "killed with the transaction open");

    rmSync(marker());
    child = startAgent();
    const done = await until("version 2 synced after the restart", async () => (await rows()).find((r) => r.revision.sha === v2 && r.outcome === "succeeded"));
    assert.equal(done.trigger.kind, "startup");
    for (let i = 0; i < 20; i++) assert.equal(readFileSync(join(root(), `f${i}.conf`), "utf8"), `version 2 of ${i}\n`);
    assert.equal(existsSync(join(root(), ".gitward", "journal.json")), false);
    assert.deepEqual(readdirSync(join(root(), ".gitward")).filter((f) => f.startsWith("txn-") || f.startsWith("stage-")), []);
    const history = await rows();
    const v2rows = history.filter((r) => r.revision.sha === v2);
    assert.deepEqual(v2rows.map((r) => r.outcome).sort(), ["interrupted", "succeeded"], "one interrupted and one successful sync of version 2");
    assert.equal(history.filter((r) => r.outcome === "running").length, 0);
    assert.deepEqual(readdirSync(root()).filter((f) => f.endsWith(".conf")).length, 20, "nothing duplicated");

    // Polling picks up the next commit without any webhook.
    const v3 = repo.commit({ "site/f0.yaml": `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: f0 }\nspec: { path: "f0.conf", content: "version 3\\n" }\n` }, "version 3");
    const polled = await until("version 3 synced by polling", async () => (await rows()).find((r) => r.revision.sha === v3 && r.outcome === "succeeded"));
    assert.equal(polled.trigger.kind, "poll");
    assert.equal(readFileSync(join(root(), "f0.conf"), "utf8"), "version 3\n");

    child.kill("SIGTERM");
    const code = await new Promise<number | null>((r) => child?.once("exit", (c) => r(c)));
    assert.equal(code, 0, "SIGTERM stops the agent cleanly");
    child = undefined;
    const store = await openStore(`sqlite:${join(work, "state.db")}`);
    try {
      const audit = await store.verifyAudit();
      assert.equal(audit.ok, true);
      const kinds = (await store.listAudit({ limit: 1000 })).map((a) => a.kind);
      assert.equal(kinds.filter((k) => k === "agent-start").length, 2);
      assert.equal(kinds.filter((k) => k === "agent-stop").length, 1, "only the clean stop is recorded");
    } finally {
      await store.close();
    }
  });
});
