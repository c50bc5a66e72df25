import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openStore } from "../../src/store/open.ts";
import { runCli } from "../support/cli.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

function files(root: string, text: string, opts: { broken?: boolean; failing?: boolean } = {}): Record<string, string> {
  return {
    "gitward.yaml": `version: 1
environments:
  dev:
    targets:
      base: { provider: host, root: ${root}/base, check: no-refuse-me }
      web: { provider: host, root: ${root}/web }
stacks:
  base: { target: base, path: base }
  site: { target: web, path: site, dependsOn: [base] }
`,
    "base/conf.yaml": `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: conf }\nspec: { path: ${opts.failing === true ? "refuse-me" : "base.conf"}, content: x, mode: ${opts.broken === true ? "0644" : "\"0644\""} }\n`,
    "site/index.yaml": `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec: { path: index.html, content: "${text}\\n" }\n`,
  };
}

/** Push records like pull: `gitward apply --state` writes the history and audit the agent writes, and the same commands read them. */
describe("gitward apply --state", () => {
  let work: string;
  let root: string;
  let repo: TestRepo;
  let state: string;
  const cli = ([command, ...args]: readonly string[], env: Record<string, string> = {}) =>
    runCli(command === "apply" || command === "diff"
      ? [command, "--repo", repo.dir, "--cache-dir", join(work, "cache"), "--host-commands", join(work, "host-commands.yaml"), ...args]
      : [command ?? "", ...args], { env });

  before(() => {
    work = mkdtempSync(join(tmpdir(), "gitward-apply-state-"));
    root = join(work, "root");
    mkdirSync(join(root, "base"), { recursive: true });
    mkdirSync(join(root, "web"), { recursive: true });
    state = `sqlite:${join(work, "state.db")}`;
    // The runner, not the repository, defines what base's check runs.
    writeFileSync(join(work, "host-commands.yaml"), 'base:\n  no-refuse-me: [test, "!", -e, "{staged}/refuse-me"]\n');
    repo = makeRepo();
    repo.commit(files(root, "v1"), "v1");
  });
  after(() => {
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("records each stack's sync with the trigger push, who ran it and the revision, and an audit entry", async () => {
    const r = await cli(["apply", "--env", "dev", "--state", state], { GITHUB_ACTOR: "octocat", GITHUB_SERVER_URL: "https://github.example", GITHUB_REPOSITORY: "acme/infra", GITHUB_RUN_ID: "42" });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(readFileSync(join(root, "web/index.html"), "utf8"), "v1\n");
    const store = await openStore(state);
    try {
      const syncs = await store.listSyncs({ limit: 10 });
      assert.deepEqual(syncs.map((s) => [s.stack, s.outcome]).sort(), [["base", "succeeded"], ["site", "succeeded"]]);
      for (const s of syncs) {
        assert.equal(s.trigger.kind, "push");
        assert.equal(s.trigger.by, "octocat (github)");
        assert.equal(s.trigger.detail, "https://github.example/acme/infra/actions/runs/42");
        assert.equal(s.revision.sha, repo.git("rev-parse", "HEAD"));
        assert.equal(s.revision.author, "Test Author");
      }
      const audit = await store.listAudit({ limit: 10 });
      assert.deepEqual(audit.map((a) => [a.kind, a.actor, a.stack]), [["sync", "octocat (github)", "base"], ["sync", "octocat (github)", "site"]]);
    } finally {
      await store.close();
    }
  });

  it("gitward history and audit verify read a push's state as they read the agent's", async () => {
    const h = await cli(["history", "--state", state, "-o", "json"]);
    assert.equal(h.code, 0, h.stderr);
    const rows = (JSON.parse(h.stdout) as { syncs: { stack: string; trigger: { kind: string } }[] }).syncs;
    assert.equal(rows.length, 2);
    assert.ok(rows.every((s) => s.trigger.kind === "push"));
    const v = await cli(["audit", "verify", "--state", state]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    assert.match(v.stdout, /intact: 2 record/);
  });

  it("--by names who ran it; a failed dependency skips its dependents, recorded as skipped as the agent does", async () => {
    // base's check refuses the file v2 adds: base fails, site depends on it.
    repo.commit(files(root, "v2", { failing: true }), "v2: base's check fails");
    const r = await cli(["apply", "--env", "dev", "--state", state, "--by", "alice"]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /Stack site \(web\): skipped: .*dependency base failed at this revision/);
    assert.match(r.stdout, /Summary: .*; 1 stack\(s\) failed, 1 stack\(s\) skipped/);
    const store = await openStore(state);
    try {
      const site = (await store.listSyncs({ stack: "site", limit: 1 }))[0];
      assert.equal(site?.outcome, "skipped");
      assert.equal(site?.trigger.by, "alice");
      assert.equal((await store.listSyncs({ stack: "base", limit: 1 }))[0]?.outcome, "failed");
      assert.equal((await store.verifyAudit()).ok, true);
    } finally {
      await store.close();
    }
  });

  it("a refused revision is recorded per stack and nothing is applied; a dry run records nothing", async () => {
    repo.commit(files(root, "v3", { broken: true }), "v3: an unquoted mode");
    const before = readFileSync(join(root, "web/index.html"), "utf8");
    const dry = await cli(["apply", "--env", "dev", "--state", state, "--dry-run"]);
    assert.equal(dry.code, 1);
    const r = await cli(["apply", "--env", "dev", "--state", state]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /refused/);
    assert.equal(readFileSync(join(root, "web/index.html"), "utf8"), before);
    const store = await openStore(state);
    try {
      const refused = (await store.listSyncs({ limit: 10 })).filter((s) => s.revision.sha === repo.git("rev-parse", "HEAD"));
      assert.deepEqual(refused.map((s) => [s.stack, s.outcome]).sort(), [["base", "failed"], ["site", "failed"]]);
      assert.match(refused[0]?.error ?? "", /revision not applied/);
    } finally {
      await store.close();
    }
  });

  it("a state URL it cannot use fails before anything is applied", async () => {
    const r = await cli(["apply", "--env", "dev", "--state", "postgres://user:secret@db.example:port/gitward"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the PostgreSQL state URL cannot be parsed/);
    assert.doesNotMatch(r.stderr + r.stdout, /secret/);
  });

  it("gitward diff reports a stack gitward.yaml dropped whose files a target still holds, and leaves them", async () => {
    const good = files(root, "v5");
    repo.commit(good, "v5: back to good");
    const applied = await cli(["apply", "--env", "dev"]);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const dropped = { ...good, "gitward.yaml": (good["gitward.yaml"] ?? "").replace(/ {2}site: .*\n/, "") };
    repo.commit({ ...dropped, "site/index.yaml": null }, "v6: drop the site stack");
    const d = await cli(["diff", "--env", "dev", "-o", "json"]);
    const doc = JSON.parse(d.stdout) as { findings: { rule: string; stack?: string; message: string }[] };
    const orphan = doc.findings.find((f) => f.rule === "stack.orphaned");
    assert.equal(orphan?.stack, "site", d.stdout);
    assert.match(orphan?.message ?? "", /no longer deployed to dev\/web .* still owns 1 object/);
    assert.equal(readFileSync(join(root, "web/index.html"), "utf8"), "v5\n", "nothing was removed");
  });
});
