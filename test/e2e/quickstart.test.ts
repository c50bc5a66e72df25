import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "../support/git-server.ts";
import { projectRoot, runCli } from "../support/cli.ts";

/** Runs shell lines in one bash, as a user pastes them, and returns each line's output and exit code. */
function runLines(lines: readonly string[], cwd: string): Promise<{ output: string; code: number }[]> {
  const marker = "@@gitward-test-exit";
  const script = ["shopt -s expand_aliases", ...lines.map((l) => `${l}\necho "${marker} $?"`)].join("\n") + "\n";
  const file = join(cwd, "lines.sh");
  writeFileSync(file, script);
  return new Promise((resolve, reject) => {
    execFile("bash", [file], { cwd, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } }, (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(`bash failed: ${stderr}`));
      const parts = stdout.split(new RegExp(`${marker} (\\d+)\\n`));
      const out: { output: string; code: number }[] = [];
      for (let i = 0; i + 1 < parts.length; i += 2) out.push({ output: parts[i] ?? "", code: Number(parts[i + 1]) });
      resolve(out);
    });
  });
}

describe("gitward quickstart", () => {
  const dir = mkdtempSync(join(tmpdir(), "gitward-quickstart-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("makes the demo repository and syncs dev and prod with nothing but Node and git", async () => {
    const r = await runCli(["quickstart", "--dir", join(dir, "demo"), "--once", "-q"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, "dev: site succeeded, app-config succeeded\nprod: site succeeded, app-config succeeded\n");
    assert.equal(readFileSync(join(dir, "demo/targets/dev/site/index.html"), "utf8"), "<h1>Hello from dev</h1>\n");
    assert.match(readFileSync(join(dir, "demo/targets/prod/app/config.ini"), "utf8"), /replicas = 3\nlog_level = warn/);
    assert.equal(statSync(join(dir, "demo/api-token")).mode & 0o777, 0o600, "the API token is the user's only");
    const history = await runCli(["history", "--state", `sqlite:${join(dir, "demo/state.db")}`, "-o", "json"]);
    const syncs = (JSON.parse(history.stdout) as { syncs: { outcome: string; commands?: { phase: string; command: string[]; exitCode: number }[] }[] }).syncs;
    assert.equal(syncs.length, 4);
    assert.ok(syncs.every((s) => s.outcome === "succeeded"));
    // gitward.yaml names the host target's check; the agent configuration, outside Git, defines it.
    assert.match(readFileSync(join(dir, "demo/repo/gitward.yaml"), "utf8"), /web: \{ provider: host, root: \S+, check: site-has-index \}/);
    assert.match(readFileSync(join(dir, "demo/agent.yaml"), "utf8"), /commands:\n(?:\s*#.*\n)?\s+site-has-index: \[test, -s, "\{staged\}\/site\/index\.html"\]/);
    assert.ok(syncs.every((s) => s.commands?.[0]?.phase === "check" && s.commands[0].command[0] === "test" && s.commands[0].exitCode === 0), history.stdout);
    const verify = await runCli(["audit", "verify", "--state", `sqlite:${join(dir, "demo/state.db")}`]);
    assert.equal(verify.code, 0, verify.stdout);
    const again = await runCli(["quickstart", "--dir", join(dir, "demo"), "--once"]);
    assert.equal(again.code, 0, "re-running reuses the demo");
    assert.match(again.stderr, /reusing the demo/);
  });

  it("refuses a port in use before it writes anything", async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen({ host: "127.0.0.1", port: 0 }, resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await runCli(["quickstart", "--dir", join(dir, "busy"), "--listen", `127.0.0.1:${port}`]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.split("\n")[0], `error: port ${port} is in use; pass --listen 127.0.0.1:PORT`);
      assert.doesNotMatch(r.stderr, /internal error|EADDRINUSE/);
      assert.equal(existsSync(join(dir, "busy")), false, "no demo directory is made");
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it("prints commands that work as printed, from another directory: status, sync with the token, a commit and history", async () => {
    const port = await freePort();
    const demo = join(dir, "guided");
    const child = spawn(process.execPath, [join(projectRoot, "src/cli/main.ts"), "quickstart", "--dir", demo, "--listen", `127.0.0.1:${port}`, "-q"], {
      cwd: projectRoot, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      const deadline = Date.now() + 90_000;
      while (!stdout.includes("Ctrl-C stops the agent")) {
        if (Date.now() > deadline || child.exitCode !== null) assert.fail(`no guide printed:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const printed = stdout.split("\n").filter((l) => l.startsWith("  ")).map((l) => l.trim());
      const line = (prefix: string): string => printed.find((l) => l.startsWith(prefix)) ?? assert.fail(`no line "${prefix}…" in:\n${stdout}`);
      const alias = line("alias gitward=");
      const status = line("gitward status ");
      const sync = line("gitward sync ");
      const commit = line("cd ");
      const history = line("gitward history ");
      assert.match(sync, /--token-file \S+api-token/);
      const elsewhere = mkdtempSync(join(tmpdir(), "gitward-quickstart-user-"));
      try {
        const [defined, st, sy, co, hi] = await runLines([alias, status, sync, commit, history], elsewhere);
        assert.equal(defined?.code, 0);
        assert.equal(st?.code, 0, st?.output);
        assert.match(st?.output ?? "", /^Repository .* \(main\) at [0-9a-f]{12} /);
        assert.match(st?.output ?? "", /Environment prod/);
        assert.equal(sy?.code, 0, sy?.output);
        assert.match(sy?.output ?? "", /^queued \d+ stack\(s\) of prod at [0-9a-f]{12}/);
        assert.equal(co?.code, 0, co?.output);
        assert.equal(hi?.code, 0, hi?.output);
        assert.match(hi?.output ?? "", /^AT +ENVIRONMENT +STACK/);
      } finally {
        rmSync(elsewhere, { recursive: true, force: true });
      }
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });
});
