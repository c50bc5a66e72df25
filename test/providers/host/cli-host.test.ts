import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../../support/cli.ts";
import { startNginx, type TestNginx } from "../../support/nginx.ts";
import { makeRepo, type TestRepo } from "../../support/repo.ts";

// The host rules of issue 12 as a user meets them: through gitward validate, diff and apply.

interface PlanJson {
  counts: Record<string, number>;
  environments: { stacks: { changes: { action: string; ref: { name: string }; diff?: string }[] }[] }[];
}

const fileYaml = (name: string, spec: string): string => `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata:
  name: ${name}
spec:
${spec}`;

const changesOf = (stdout: string): string[] =>
  (JSON.parse(stdout) as PlanJson).environments.flatMap((e) => e.stacks.flatMap((s) => s.changes.map((c) => `${c.action} ${c.ref.name}: ${c.diff ?? ""}`)));

describe("gitward validate, diff and apply on a host target", () => {
  let repo: TestRepo;
  let root: string;
  let cache: string;
  const cli = (...args: string[]): ReturnType<typeof runCli> => runCli([...args, "--repo", repo.dir, "--env", "dev", "--cache-dir", cache, "-q"]);
  const config = (prune: boolean): string => `version: 1
environments:
  dev:
    targets:
      edge: { provider: host, root: ${root} }
    sync: { prune: ${prune} }
stacks:
  app:
    target: edge
    path: app
`;

  before(() => {
    root = mkdtempSync(join(tmpdir(), "gitward-host-cli-root-"));
    cache = mkdtempSync(join(tmpdir(), "gitward-host-cli-cache-"));
    repo = makeRepo();
  });
  after(() => {
    repo.remove();
    rmSync(root, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  it("validate refuses a setuid root-owned mode and a newline in a path, naming file, line, object and bits", async () => {
    repo.commit({
      "gitward.yaml": config(true),
      "app/tool.yaml": fileYaml("tool", '  path: bin/tool\n  owner: root\n  mode: "6777"\n  content: "#!/bin/sh\\n"\n'),
      "app/nl.yaml": fileYaml("nl", '  path: "conf.d/a\\nb.conf"\n  content: x\n'),
    });
    const r = await cli("validate");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^app\/tool\.yaml:8:\d+: error: File\/tool: spec\.mode: "6777" sets setuid \(04000\) and setgid \(02000\): gitward refuses setuid, setgid and sticky bits on a File; use "0777" \(host\.special-mode\)/m);
    assert.match(r.stdout, /^app\/nl\.yaml:6:\d+: error: File\/nl: spec\.path: path "conf\.d\/a\\nb\.conf" contains the control character U\+000A/m);
  });

  it("diff never prints live content of a 0600 file edited on the host: text, markdown and JSON", async () => {
    repo.commit({ "app/tool.yaml": null, "app/nl.yaml": null, "app/db.yaml": fileYaml("db", '  path: app.env\n  mode: "0600"\n  content: "user=app\\npassword=from-git\\n"\n') });
    const applied = await cli("apply");
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const live = "user=app\npassword=hunter2-on-the-host\n";
    writeFileSync(join(root, "app.env"), live);
    const outputs = await Promise.all(["text", "markdown", "json"].map((o) => cli("diff", "-o", o)));
    for (const r of outputs) {
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /hunter2|from-git|user=app/);
      assert.match(r.stdout, new RegExp(`content differs \\(masked: mode 0600\\): ${live.length} → 27 bytes, sha256 [0-9a-f]{12}… → [0-9a-f]{12}…`));
    }
  });

  it("a File whose spec.path changes: diff shows the previous path going, apply removes it, then no changes", async () => {
    repo.commit({ "app/db.yaml": null, "app/site.yaml": fileYaml("site", "  path: conf.d/old.conf\n  content: site\n") });
    assert.equal((await cli("apply")).code, 0);
    repo.commit({ "app/site.yaml": fileYaml("site", "  path: conf.d/new.conf\n  content: site\n") });
    const d = await cli("diff", "-o", "json", "--detailed-exitcode");
    assert.equal(d.code, 2, d.stderr);
    assert.deepEqual(changesOf(d.stdout), ["create site: # conf.d/new.conf mode 0644\n@@ -0,0 +1,1 @@\n+site", "delete site: - conf.d/old.conf (previous path of File/site, now conf.d/new.conf)"]);
    const text = await cli("diff");
    assert.match(text.stdout, /- File\/site .*\n +- conf\.d\/old\.conf \(previous path of File\/site, now conf\.d\/new\.conf\)/);
    assert.equal((await cli("apply")).code, 0);
    assert.equal(existsSync(join(root, "conf.d/old.conf")), false);
    assert.equal(readFileSync(join(root, "conf.d/new.conf"), "utf8"), "site");
    assert.doesNotMatch(readFileSync(join(root, ".gitward/paths.json"), "utf8"), /old\.conf/);
    assert.equal((await cli("diff", "--detailed-exitcode")).code, 0);
  });

  it("with prune off the previous path stays and diff reports it as an orphan", async () => {
    repo.commit({ "gitward.yaml": config(false), "app/site.yaml": fileYaml("site", "  path: conf.d/third.conf\n  content: site\n") });
    assert.equal((await cli("apply")).code, 0);
    assert.equal(existsSync(join(root, "conf.d/new.conf")), true, "kept");
    const d = await cli("diff", "-o", "json");
    assert.deepEqual(changesOf(d.stdout), ["orphan site: - conf.d/new.conf (previous path of File/site, now conf.d/third.conf)"]);
    assert.match((await cli("diff")).stdout, /! File\/site .*\(kept: not pruned\)/);
  });
});

describe("a renamed nginx site with a real nginx", () => {
  let nginx: TestNginx;
  let repo: TestRepo;
  let cache: string;
  const hostCommands = (): string => join(cache, "host-commands.yaml");
  const cli = (...args: string[]): ReturnType<typeof runCli> =>
    runCli([...args, "--repo", repo.dir, "--env", "dev", "--cache-dir", cache, "-q", "--host-commands", hostCommands()]);
  const site = (path: string, body: string): string => fileYaml("site", `  path: ${path}\n  content: |
    server {
      listen 127.0.0.1:${nginx.port} default_server;
      location ${body} { return 200 "${body}\\n"; }
    }
`);

  before(async () => {
    nginx = await startNginx();
    cache = mkdtempSync(join(tmpdir(), "gitward-host-cli-nginx-"));
    writeFileSync(hostCommands(), nginx.hostCommandsYaml("edge", "/"));
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": `version: 1
environments:
  dev:
    targets:
      edge: { provider: host, root: ${nginx.root}, check: nginx-test, reload: nginx-reload }
stacks:
  site:
    target: edge
    path: site
`,
      "site/site.yaml": site("conf.d/old.conf", "/old"),
    });
  });
  after(async () => {
    await nginx.stop();
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  it("the old site stops being served once the File moves to a new path", async () => {
    const first = await cli("apply");
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal((await nginx.get("/old")).status, 200);
    // Two default servers on one port fail nginx -t: the old file must go in the same sync as the new one comes.
    repo.commit({ "site/site.yaml": site("conf.d/new.conf", "/new") });
    const r = await cli("apply");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(existsSync(join(nginx.root, "conf.d/old.conf")), false);
    assert.deepEqual(await nginx.get("/new"), { status: 200, body: "/new\n" });
    assert.equal((await nginx.get("/old")).status, 404);
  });
});
