import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import type { SyncRow } from "../../src/store/store.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { until } from "../support/until.ts";

/**
 * The rule "the repository is data, not code", through a real agent and its HTTP API: what a
 * host target runs is defined in the agent configuration, gitward.yaml only names it, and what
 * the agent stores and serves never holds the secrets it read.
 */
describe("agent: host commands come from the agent configuration, never from Git", () => {
  let work: string;
  let root: string;
  let repo: TestRepo;
  let running: RunningAgent;
  // Random-looking: no redaction pattern would recognise it, only its value.
  const token = "Zq81vTnR4kLw0pXe6HbY";
  const marker = (): string => join(work, "ran-from-git");
  const logLines: string[] = [];

  const files = (check: string, text: string): Record<string, string> => ({
    "gitward.yaml": `version: 1
environments:
  dev:
    targets:
      web: { provider: host, root: ${root}, ${check} }
    sync: { auto: true }
stacks:
  site: { target: web, path: site }
`,
    "site/index.yaml": `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec: { path: index.html, content: "${text}\\n" }\n`,
  });
  const history = async (): Promise<SyncRow[]> => {
    const res = await fetch(`${running.url}/api/v1/history?environment=dev&stack=site&limit=50`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(!text.includes(token), "the API token is never served");
    return (JSON.parse(text) as { items: SyncRow[] }).items;
  };
  const finished = (sha: string): Promise<SyncRow> =>
    until(`a finished sync of ${sha.slice(0, 8)}`, async () => (await history()).find((r) => r.revision.sha === sha && r.outcome !== "running"), 20_000);
  const live = (): string => readFileSync(join(root, "index.html"), "utf8");

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gitward-agent-commands-"));
    root = join(work, "root");
    mkdirSync(root);
    const tokenFile = join(work, "api-token");
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    repo = makeRepo();
    repo.commit(files("check: show-token", "v1"), "v1");
    running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(work, "cache"),
        // A failed sync is not retried during the test: each revision runs once.
        intervals: { poll: 0.2, drift: 3600, retryBase: 3600, retryMax: 3600, dependencyWait: 0.1 },
        api: { token: { file: tokenFile }, anonymousRead: true },
        targets: {
          web: {
            commands: {
              // A check the agent's owner wrote, which (carelessly) prints a secret the agent read.
              "show-token": ["sh", "-c", `echo checking; cat ${tokenFile}`],
              hang: { command: ["sh", "-c", "sleep 100000 & sleep 100000"], timeoutSeconds: 1 },
              "fail-with-token": ["sh", "-c", `cat ${tokenFile}; exit 1`],
            },
          },
        },
      }),
      repo: repo.dir, branch: "main", state: `sqlite:${join(work, "state.db")}`, listen: "127.0.0.1:0",
      logger: agentLogger({ level: "warn", pretty: false, destination: new Writable({ write(chunk: Buffer, _enc, done) { logLines.push(chunk.toString()); done(); } }) }),
    });
  });
  after(async () => {
    await running.stop();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("runs the command the agent configuration defines for the name, and serves its output with the agent's token masked", async () => {
    const row = await finished(repo.git("rev-parse", "HEAD"));
    assert.equal(row.outcome, "succeeded", row.error);
    assert.equal(live(), "v1\n");
    assert.deepEqual(row.commands?.map((c) => [c.phase, c.exitCode]), [["check", 0]]);
    assert.equal(row.commands?.[0]?.output, "checking\n***\n");
  });

  it("a failing command that prints the token: its error in history and in the agent's log show *** instead", async () => {
    const row = await finished(repo.commit(files("check: fail-with-token", "v1b"), "v1b: a check that fails"));
    assert.equal(row.outcome, "failed");
    assert.match(row.error ?? "", /check `sh -c cat \S+api-token; exit 1` exited 1: \*\*\*/);
    const logged = logLines.find((l) => l.includes("sync failed"));
    assert.match(logged ?? "", /exited 1: \*\*\*/);
    assert.equal(logLines.some((l) => l.includes(token)), false, "no log line holds the token");
    assert.equal(live(), "v1\n");
  });

  it("refuses a commit that writes the check in gitward.yaml, with the migration error: nothing runs, nothing is written", async () => {
    const sha = repo.commit(files(`check: [sh, -c, "cat /etc/passwd; touch ${marker()}"]`, "v2"), "v2: an inline check");
    // An invalid gitward.yaml is not a stack's sync: the agent reports it and keeps the last good revision.
    const line = await until("the agent reporting the refused gitward.yaml", () => logLines.find((l) => l.includes("commands are not written in gitward.yaml")), 20_000);
    assert.match(line, /environments\.dev\.targets\.web\.check: commands are not written in gitward\.yaml any more: write a command name here .* under targets\.<target>\.commands in the agent configuration/);
    await running.agent.idle();
    assert.deepEqual((await history()).filter((r) => r.revision.sha === sha && r.commands !== undefined), [], "no command output stored");
    assert.equal(existsSync(marker()), false, "the command did not run");
    assert.equal(live(), "v1\n", "nothing written");
  });

  it("fails a commit naming a command the agent configuration does not define: nothing runs, nothing is written", async () => {
    const sha = repo.commit(files("check: nginx-test", "v3"), "v3: a name the agent does not define");
    const row = await finished(sha);
    assert.equal(row.outcome, "failed");
    assert.match(row.error ?? "", /^target web: check names the command "nginx-test", which this runner does not define; nothing was run \(hint: define nginx-test under targets\.web\.commands in the agent configuration/);
    assert.equal(row.commands, undefined);
    assert.equal(live(), "v1\n");
  });

  it("a check that hangs with a child is killed at its timeout: the sync fails, nothing changes, and the next sync of the root works", async () => {
    const started = Date.now();
    const hung = await finished(repo.commit(files("check: hang", "v4"), "v4: a check that hangs"));
    assert.ok(Date.now() - started < 10_000, "failed within seconds");
    assert.equal(hung.outcome, "failed");
    assert.match(hung.error ?? "", /check `sh -c sleep 100000 & sleep 100000` could not run or timed out: \(killed after 1000 ms/);
    assert.equal(live(), "v1\n");
    const next = await finished(repo.commit(files("check: show-token", "v5"), "v5"));
    assert.equal(next.outcome, "succeeded", next.error);
    assert.equal(live(), "v5\n");
  });
});
