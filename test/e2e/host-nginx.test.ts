import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../support/cli.ts";
import { freePort } from "../support/git-server.ts";
import { startNginx, type TestNginx } from "../support/nginx.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

interface ApplyJson {
  ok: boolean;
  counts: Record<string, number>;
  stacks: { stack: string; ok: boolean; error?: string; commands?: { phase: string; exitCode: number; output: string }[] }[];
}

describe("host provider end to end with a real nginx", () => {
  let nginx: TestNginx;
  let repo: TestRepo;
  let cache: string;
  let deadPort: number;
  const site = (): string => `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata:
  name: site
spec:
  path: conf.d/site.conf
  mode: "0644"
  source: site.conf
`;
  const siteConf = (location: string): string => `server {
  listen 127.0.0.1:${nginx.port} default_server;
  server_name site.\${domain};
  location /hello { ${location} }
}
`;
  // The runner's definitions of the commands gitward.yaml names, outside the repository.
  const hostCommands = (): string => join(cache, "host-commands.yaml");
  const cli = (...args: string[]): ReturnType<typeof runCli> =>
    runCli([...args, "--repo", repo.dir, "--env", "dev", "--cache-dir", cache, "-q", "--host-commands", hostCommands()]);
  const apply = async (): Promise<{ code: number; doc: ApplyJson; stdout: string; stderr: string }> => {
    const r = await cli("apply", "-o", "json");
    return { code: r.code, doc: JSON.parse(r.stdout || "{}") as ApplyJson, stdout: r.stdout, stderr: r.stderr };
  };
  // The health check asks the site itself; once the site is pruned there is nothing to ask.
  const gitwardYaml = (health: boolean, check = "nginx-test"): string => `version: 1
environments:
  dev:
    vars: { domain: example.test }
    targets:
      edge:
        provider: host
        root: ${nginx.root}
        check: ${check}
        reload: nginx-reload
${health ? "        health: { command: healthz, attempts: 3, intervalSeconds: 0.2, timeoutSeconds: 5 }\n" : ""}stacks:
  site:
    target: edge
    path: site
`;
  const liveSite = (): string => readFileSync(join(nginx.root, "conf.d/site.conf"), "utf8");

  before(async () => {
    nginx = await startNginx();
    deadPort = await freePort();
    cache = mkdtempSync(join(tmpdir(), "gitward-nginx-cache-"));
    writeFileSync(hostCommands(), nginx.hostCommandsYaml("edge", "/hello"));
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": gitwardYaml(true),
      "site/site.yaml": site(),
      "site/site.conf": siteConf(`return 200 "hello from git\\n";`),
    }, "first site");
  });
  after(async () => {
    await nginx.stop();
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  it("applies the site from Git, checks, reloads, and nginx serves it", async () => {
    assert.equal((await nginx.get("/hello")).status, 404, "nothing served before the sync");
    const r = await apply();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.doc.counts["created"], 1);
    assert.deepEqual(r.doc.stacks[0]?.commands?.map((c) => [c.phase, c.exitCode]), [["check", 0], ["reload", 0], ["health", 0]]);
    assert.deepEqual(await nginx.get("/hello"), { status: 200, body: "hello from git\n" });
    assert.match(liveSite(), /server_name site\.example\.test;/, "variables substituted in the source file");
    const again = await apply();
    assert.equal(again.doc.counts["unchanged"], 1);
    assert.deepEqual(again.doc.stacks[0]?.commands ?? [], [], "a no-op sync runs no command");
    assert.equal((await cli("diff", "--detailed-exitcode")).code, 0);
  });

  it("refuses a broken config at check: nothing changes and nginx keeps serving the old one", async () => {
    const before = liveSite();
    repo.commit({ "site/site.conf": siteConf(`retur 200 "typo";`) }, "broken site");
    const r = await apply();
    assert.equal(r.code, 1);
    const stack = r.doc.stacks[0];
    assert.equal(stack?.ok, false);
    assert.match(stack?.error ?? "", /check `.*nginx -t .*` exited 1: .*unknown directive "retur"/s);
    assert.match(stack?.error ?? "", /nothing was changed/);
    assert.deepEqual(stack?.commands?.map((c) => c.phase), ["check"], "no reload after a failed check");
    assert.equal(liveSite(), before, "live file untouched");
    assert.deepEqual(await nginx.get("/hello"), { status: 200, body: "hello from git\n" });
    assert.deepEqual(readdirSync(join(nginx.root, ".gitward")).filter((f) => f.startsWith("stage-") || f.startsWith("txn-")), [], "no staging left behind");
  });

  it("rolls back a config that passes check but fails health, and reloads the old one", async () => {
    const before = liveSite();
    repo.commit({ "site/site.conf": siteConf(`proxy_pass http://127.0.0.1:${deadPort};`) }, "upstream that is down");
    const r = await apply();
    assert.equal(r.code, 1);
    const stack = r.doc.stacks[0];
    assert.deepEqual(stack?.commands?.map((c) => [c.phase, c.exitCode === 0]), [["check", true], ["reload", true], ["health", false], ["rollback-reload", true]]);
    assert.match(stack?.error ?? "", /health .* exited 1: 502/s);
    assert.match(stack?.error ?? "", /rolled back/);
    assert.equal(liveSite(), before, "previous file restored byte for byte");
    assert.deepEqual(await nginx.get("/hello"), { status: 200, body: "hello from git\n" });
    const history = JSON.parse(readFileSync(join(nginx.root, ".gitward/inventory/dev.site.json"), "utf8")) as { syncs: { result: string; error?: string }[] };
    assert.equal(history.syncs[0]?.result, "failed", "the failed sync is recorded in the inventory");
    assert.match(history.syncs[0]?.error ?? "", /rolled back/);
  });

  it("syncs cleanly after the bad commits are reverted", async () => {
    repo.git("revert", "--no-edit", "HEAD");
    repo.git("revert", "--no-edit", "HEAD~2");
    const r = await apply();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.doc.counts["unchanged"], 1, "the live file already matches the reverted revision");
    repo.commit({ "site/site.conf": siteConf(`return 200 "second version\\n";`) }, "second version");
    const next = await apply();
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.equal(next.doc.counts["configured"], 1);
    assert.deepEqual(await nginx.get("/hello"), { status: 200, body: "second version\n" });
  });

  it("reports drift made by hand and corrects it on the next apply", async () => {
    writeFileSync(join(nginx.root, "conf.d/site.conf"), liveSite().replace("second version", "edited by hand"));
    const d = await cli("diff", "--detailed-exitcode");
    assert.equal(d.code, 2, d.stdout + d.stderr);
    assert.match(d.stdout, /-.*edited by hand/);
    assert.match(d.stdout, /\+.*second version/);
    assert.match(d.stdout, /drift: content/);
    const r = await apply();
    assert.equal(r.doc.counts["configured"], 1);
    assert.deepEqual(await nginx.get("/hello"), { status: 200, body: "second version\n" });
  });

  it("prunes the site when Git drops it, leaving nginx's own files alone", async () => {
    repo.commit({ "gitward.yaml": gitwardYaml(false), "site/site.yaml": null, "site/site.conf": null, "site/other.yaml": `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: other }
spec: { path: conf.d/other.conf, content: "# nothing yet\\n" }
` }, "drop the site");
    const r = await apply();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.doc.counts["deleted"], 1);
    assert.equal((await nginx.get("/hello")).status, 404);
    assert.deepEqual(readdirSync(join(nginx.root, "conf.d")).sort(), ["other.conf"]);
    assert.match(readFileSync(join(nginx.root, "nginx.conf"), "utf8"), /include conf\.d/, "unmanaged nginx.conf untouched");
  });

  it("--dry-run runs the check the runner defines, never reload or health, and changes nothing", async () => {
    repo.commit({ "site/other.yaml": `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: other }
spec: { path: conf.d/other.conf, content: "# proposed\\n" }
` }, "propose a change");
    const r = await cli("apply", "--dry-run", "-o", "json");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as ApplyJson;
    assert.deepEqual(doc.stacks[0]?.commands?.map((c) => [c.phase, c.exitCode]), [["check", 0]]);
    assert.equal(readFileSync(join(nginx.root, "conf.d/other.conf"), "utf8"), "# nothing yet\n");
  });

  it("refuses a commit that writes a command in gitward.yaml, with the migration error: nothing runs, nothing changes", async () => {
    const marker = join(cache, "ran");
    const inline = gitwardYaml(false).replace("check: nginx-test", `check: [sh, -c, "cat /etc/passwd > ${marker}"]`);
    repo.commit({ "gitward.yaml": inline }, "an inline check");
    for (const dry of [true, false]) {
      const r = await cli("apply", ...(dry ? ["--dry-run"] : []));
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /environments\.dev\.targets\.edge\.check: commands are not written in gitward\.yaml any more: write a command name here .* and define that name as \["sh","-c","cat \/etc\/passwd > .*"\] under targets\.<target>\.commands in the agent configuration, or under <target>: in the --host-commands file/);
      assert.equal(existsSync(marker), false, "the command did not run");
    }
    assert.equal(readFileSync(join(nginx.root, "conf.d/other.conf"), "utf8"), "# nothing yet\n");
  });

  it("fails the stack when gitward.yaml names a command the runner does not define: nothing runs, nothing changes", async () => {
    repo.commit({ "gitward.yaml": gitwardYaml(false, "nginx-tset") }, "a name with a typo");
    const r = await apply();
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.doc.stacks[0]?.ok, false);
    assert.match(r.doc.stacks[0]?.error ?? "", /^target edge: check names the command "nginx-tset", which this runner does not define; nothing was run \(hint: define nginx-tset under targets\.edge\.commands in the agent configuration \(gitward agent\), or under edge: in the file given to --host-commands/);
    assert.deepEqual(r.doc.stacks[0]?.commands ?? [], [], "nothing ran, not even the reload it defines");
    assert.equal(readFileSync(join(nginx.root, "conf.d/other.conf"), "utf8"), "# nothing yet\n");
    // Defined by the runner, the same name runs.
    writeFileSync(hostCommands(), nginx.hostCommandsYaml("edge", "/hello", { "nginx-tset": nginx.check }));
    const fixed = await apply();
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
    assert.deepEqual(fixed.doc.stacks[0]?.commands?.map((c) => [c.phase, c.exitCode]), [["check", 0], ["reload", 0]]);
    assert.equal(readFileSync(join(nginx.root, "conf.d/other.conf"), "utf8"), "# proposed\n");
  });
});
