import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openStore } from "../../src/store/open.ts";
import { runCli } from "../support/cli.ts";

/** The commands that read the agent's state file, and rollback, given a path that does not exist. */
describe("reading commands given a state file or repository that does not exist", () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), "gitward-cli-reading-"));
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  for (const args of [["audit", "verify"], ["status"], ["history"]]) {
    it(`gitward ${args.join(" ")} --state sqlite:<typo> fails, naming the file, and creates nothing`, async () => {
      const missing = join(work, "typo", "x.db");
      const r = await runCli([...args, "--state", `sqlite:${missing}`]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /state sqlite:.*typo\/x\.db: does not exist/);
      assert.doesNotMatch(r.stdout, /intact/);
      assert.equal(existsSync(join(work, "typo")), false, "no directory made");
    });
  }

  it("gitward audit verify reads an existing state file and changes nothing in it", async () => {
    const file = join(work, "state.db");
    const store = await openStore(`sqlite:${file}`);
    await store.appendAudit({ kind: "agent-start", actor: "agent", details: {} });
    await store.close();
    const r = await runCli(["audit", "verify", "--state", `sqlite:${file}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /audit log intact: 1 record\(s\)/);
  });

  it("gitward rollback --repo /missing says the repository does not exist, not that git is missing", async () => {
    const missing = join(work, "no-such-repo");
    const r = await runCli(["rollback", "--repo", missing, "-e", "dev", "--steps", "1", "--reason", "test"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`repository ${missing} does not exist`));
    assert.doesNotMatch(r.stderr, /install git/);
  });
});
