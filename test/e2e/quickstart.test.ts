import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli } from "../support/cli.ts";

describe("gitward quickstart", () => {
  const dir = mkdtempSync(join(tmpdir(), "gitward-quickstart-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("makes the demo repository and syncs dev and prod with nothing but Node and git", async () => {
    const r = await runCli(["quickstart", "--dir", join(dir, "demo"), "--once", "-q"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, "dev: site succeeded, app-config succeeded\nprod: site succeeded, app-config succeeded\n");
    assert.equal(readFileSync(join(dir, "demo/targets/dev/site/index.html"), "utf8"), "<h1>Hello from dev</h1>\n");
    assert.match(readFileSync(join(dir, "demo/targets/prod/app/config.ini"), "utf8"), /replicas = 3\nlog_level = warn/);
    const history = await runCli(["history", "--state", `sqlite:${join(dir, "demo/state.db")}`, "-o", "json"]);
    const syncs = (JSON.parse(history.stdout) as { syncs: { outcome: string }[] }).syncs;
    assert.equal(syncs.length, 4);
    assert.ok(syncs.every((s) => s.outcome === "succeeded"));
    const verify = await runCli(["audit", "verify", "--state", `sqlite:${join(dir, "demo/state.db")}`]);
    assert.equal(verify.code, 0, verify.stdout);
    const again = await runCli(["quickstart", "--dir", join(dir, "demo"), "--once"]);
    assert.equal(again.code, 0, "re-running reuses the demo");
    assert.match(again.stderr, /reusing the demo/);
  });
});
