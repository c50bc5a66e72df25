import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { agentConfigSchema, readTargetSecrets } from "../../src/agent/config.ts";
import { targetContext } from "../../src/agent/work.ts";

/** A Terraform target's credentials in the agent configuration: env values as secrets, the backend file, and what reaches the provider. */
describe("agent configuration: target env and backendConfigFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "gitward-target-creds-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const secretFile = join(dir, "password");
  writeFileSync(secretFile, "s3cr3t-from-file\n");

  it("reads each env secret (file or variable), returns the values to mask, and passes them with the backend file and cache to the provider", async () => {
    process.env["GW_TEST_KEY"] = "key-from-env";
    const config = agentConfigSchema.parse({
      targets: {
        tf: { env: { AWS_ACCESS_KEY_ID: { env: "GW_TEST_KEY" } } },
        "prod/tf": { env: { TF_VAR_db_password: { file: secretFile } }, backendConfigFile: "/etc/gitward/prod.tfbackend" },
      },
    });
    const { targets, values } = await readTargetSecrets(config.targets);
    assert.deepEqual(values.sort(), ["key-from-env", "s3cr3t-from-file"]);
    const target = { provider: "terraform" } as never;
    const dev = targetContext({ environment: "dev", targetName: "tf", target }, { targets, cacheDir: "/cache" });
    assert.deepEqual(dev.targetEnv, { tf: { AWS_ACCESS_KEY_ID: "key-from-env" } });
    assert.equal(dev.backendConfigFiles, undefined);
    assert.equal(dev.cacheDir, "/cache");
    const prod = targetContext({ environment: "prod", targetName: "tf", target }, { targets });
    assert.deepEqual(prod.targetEnv, { tf: { TF_VAR_db_password: "s3cr3t-from-file" } }, "environment/target comes first");
    assert.deepEqual(prod.backendConfigFiles, { tf: "/etc/gitward/prod.tfbackend" });
    delete process.env["GW_TEST_KEY"];
  });

  it("fails naming the target and variable (never a value) when a secret is not there", async () => {
    const config = agentConfigSchema.parse({ targets: { tf: { env: { TF_VAR_x: { env: "GW_TEST_UNSET_VARIABLE" } } } } });
    await assert.rejects(readTargetSecrets(config.targets), /targets\.tf\.env\.TF_VAR_x: environment variable GW_TEST_UNSET_VARIABLE .* is not set/);
  });

  it("refuses values written in the configuration itself, and bad variable names", () => {
    assert.equal(agentConfigSchema.safeParse({ targets: { tf: { env: { TF_VAR_x: "plain" } } } }).success, false);
    assert.equal(agentConfigSchema.safeParse({ targets: { tf: { envValues: { TF_VAR_x: "plain" } } } }).success, false);
    assert.equal(agentConfigSchema.safeParse({ targets: { tf: { env: { "not-a-name": { env: "X" } } } } }).success, false);
  });
});
