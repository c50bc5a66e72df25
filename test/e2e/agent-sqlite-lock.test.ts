import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { projectRoot, runCli } from "../support/cli.ts";
import { freePort } from "../support/git-server.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { until } from "../support/until.ts";

describe("gitward agent on an SQLite state another agent uses", () => {
  let work: string;
  let repo: TestRepo;
  before(() => {
    work = mkdtempSync(join(tmpdir(), "gitward-sqlite-lock-"));
    repo = makeRepo();
    repo.commit({ "gitward.yaml": "version: 1\nenvironments:\n  dev: {}\nstacks: {}\n" }, "v1");
  });
  after(() => {
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("refuses to start, naming the running agent; CLI commands still read the state; after the first is killed, it starts", async () => {
    const state = `sqlite:${join(work, "state.db")}`;
    const env = { GITWARD_CACHE_DIR: join(work, "cache") };
    const port = await freePort();
    const first = spawn(process.execPath, [join(projectRoot, "src/cli/main.ts"), "agent", "--repo", repo.dir, "--state", state, "--listen", `127.0.0.1:${port}`],
      { stdio: "ignore", env: { ...process.env, ...env } });
    try {
      await until("the first agent answers", () => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false));
      const second = await runCli(["agent", "--repo", repo.dir, "--state", state, "--listen", `127.0.0.1:${await freePort()}`], { env });
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`another gitward agent \\(pid ${String(first.pid)}, started \\d{4}-\\d\\d-\\d\\dT[^)]+\\) uses this state file`));
      const status = await runCli(["history", "--state", state, "-o", "json"]);
      assert.equal(status.code, 0, status.stderr);
      first.kill("SIGKILL");
      await new Promise((r) => first.once("exit", r));
      const port2 = await freePort();
      const third = spawn(process.execPath, [join(projectRoot, "src/cli/main.ts"), "agent", "--repo", repo.dir, "--state", state, "--listen", `127.0.0.1:${port2}`], { stdio: "ignore", env: { ...process.env, ...env } });
      try {
        await until("an agent starts once the first died", () => fetch(`http://127.0.0.1:${port2}/readyz`).then((r) => r.ok, () => false));
      } finally {
        third.kill("SIGKILL");
      }
    } finally {
      first.kill("SIGKILL");
    }
  });
});
