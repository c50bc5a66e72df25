import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { agentConfigSchema, loadAgentConfig } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent } from "../../src/agent/run.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

/** A forge the agent cannot use is an error at start that says which key and why, never a silent pass. */
describe("agent configuration: the forge", () => {
  let work: string;
  let repo: TestRepo;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "gitward-forge-config-"));
    repo = makeRepo();
    repo.commit({ "gitward.yaml": "version: 1\nenvironments:\n  dev:\n    targets: { c: { provider: kubernetes } }\n" }, "v1");
  });

  after(() => {
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  const write = (yaml: string): string => {
    const file = join(work, `agent-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    return file;
  };

  it("refuses an unknown forge, naming the key and the forges it knows", async () => {
    const file = write("forge:\n  kind: bitbucket\n  apiUrl: https://api.bitbucket.org\n  repository: a/b\n  token: { env: T }\n");
    await assert.rejects(loadAgentConfig(file), (e: Error) => {
      assert.match(e.message, /forge\.kind: /);
      assert.match(e.message, /github/);
      return true;
    });
  });

  it("refuses a forge without an API URL, or with a token written inline", async () => {
    await assert.rejects(loadAgentConfig(write("forge:\n  kind: github\n  repository: a/b\n  token: { env: T }\n")), /forge\.apiUrl/);
    await assert.rejects(loadAgentConfig(write("forge:\n  kind: github\n  apiUrl: https://api.github.com\n  repository: a/b\n  token: ghp_inline\n")), /forge\.token/);
  });

  it("stops at start when the forge token's variable is not set, saying which", async () => {
    delete process.env["GITWARD_TEST_UNSET_FORGE_TOKEN"];
    const config = agentConfigSchema.parse({
      cacheDir: join(work, "cache"),
      forge: { kind: "gitlab", apiUrl: "https://gitlab.example.com/api/v4", repository: "acme/infra", token: { env: "GITWARD_TEST_UNSET_FORGE_TOKEN" } },
    });
    await assert.rejects(
      runAgent({ config, repo: repo.dir, state: `sqlite:${join(work, "state.db")}`, listen: "127.0.0.1:0", logger: agentLogger({ level: "silent", pretty: false }) }),
      /environment variable GITWARD_TEST_UNSET_FORGE_TOKEN \(a secret the agent configuration names\) is not set/,
    );
  });
});
