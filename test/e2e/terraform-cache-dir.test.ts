import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../support/cli.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { localBackend, makeTfSandbox, requireTerraform, terraformBinary, type TfSandbox } from "../support/terraform.ts";

/**
 * `gitward plan`, `diff` and `apply` keep Terraform's working directories under `--cache-dir`,
 * like everything else they cache, not under `$GITWARD_CACHE_DIR` (which points elsewhere here).
 */
describe("Terraform working directories follow --cache-dir (real terraform)", () => {
  let sb: TfSandbox;
  let repo: TestRepo;
  const env = (): Record<string, string> => ({ GITWARD_CACHE_DIR: join(sb.dir, "env-cache"), TF_CLI_CONFIG_FILE: sb.cliConfig });
  const flagCache = (): string => join(sb.dir, "flag-cache");
  const cli = (args: readonly string[]) => runCli([...args, "--repo", repo.dir, "--cache-dir", flagCache(), "-q"], { env: env() });

  before(() => {
    requireTerraform();
    sb = makeTfSandbox();
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": `version: 1
environments:
  dev:
    targets:
      tf: { provider: terraform, binary: ${terraformBinary}, backendConfig: { path: ${sb.statePath("dev")} } }
stacks:
  net: { target: tf, path: tf/net }
`,
      "tf/net/main.tf": `${localBackend}
resource "terraform_data" "web" {
  input = "v1"
}
`,
    }, "net");
  });
  after(() => {
    repo.remove();
    sb.remove();
  });

  for (const [name, args] of [["plan", ["plan"]], ["diff", ["diff", "--env", "dev"]], ["apply", ["apply", "--env", "dev"]]] as const) {
    it(`gitward ${name}`, async () => {
      const r = await cli(args);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(existsSync(join(flagCache(), "terraform", "modules", "dev.net")), `${name} works under --cache-dir`);
      if (name === "apply") assert.ok(existsSync(join(flagCache(), "terraform", "inventory", "dev.net.json")), "the inventory is there too");
      assert.equal(existsSync(join(sb.dir, "env-cache", "terraform")), false, `${name} leaves $GITWARD_CACHE_DIR alone`);
    });
  }
});
