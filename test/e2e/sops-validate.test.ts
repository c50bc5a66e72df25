import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { projectRoot, runCli } from "../support/cli.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const devAge = "age1henwn645drkd3fa34t27t2w2x0nsgw3w4h62gmg5x5xflyjpy38s5cncph";
const prodAge = "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29";
const gitwardYaml = `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
    sops: { recipients: [${devAge}] }
  prod:
    targets: { cluster: { provider: kubernetes } }
    sops: { recipients: [${prodAge}] }
stacks:
  app: { target: cluster, path: app }
`;

describe("gitward validate and plan with a SOPS Secret encrypted only for dev's recipient", () => {
  let repo: TestRepo;
  let base: string;
  const cli = (...args: string[]): ReturnType<typeof runCli> => runCli([...args, "--repo", repo.dir, "--no-cache", "--no-schema"]);
  before(() => {
    repo = makeRepo();
    base = repo.commit({ "gitward.yaml": gitwardYaml, "app/.keep.yaml": "" });
    // A real file made by sops, encrypted for the age recipient dev declares.
    repo.commit({ "app/secret.yaml": readFileSync(join(projectRoot, "test/fixtures/sops/fluxcd-kustomize-controller/global/secret.yaml"), "utf8") });
  });
  after(() => repo.remove());

  it("accepts it for dev", async () => {
    const r = await cli("validate", "-q", "--env", "dev");
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it("refuses it for prod, at the recipient's line, naming dev's recipient", async () => {
    const r = await cli("validate", "-q", "--env", "prod");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = r.stdout + r.stderr;
    assert.match(out, new RegExp(`app/secret\\.yaml:11:\\d+: error: Secret/default/global-age-secret: encrypted for ${devAge} \\(dev's\\), not for prod's recipients`));
    assert.match(out, /\(sops\.recipient\) \[prod\/app\]\n  hint: re-encrypt it for prod only/);
    assert.match(out, / 1 error\(s\), 0 warning\(s\)\n$/);
  });

  it("refuses it in prod's plan too", async () => {
    const r = await cli("plan", "--base", base, "--env", "prod");
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /not for prod's recipients/);
  });

  it("refuses a gitward.yaml whose recipient is not a public age recipient or fingerprint", async () => {
    repo.commit({ "gitward.yaml": gitwardYaml.replace(`[${prodAge}]`, "[AGE-SECRET-KEY-1QQQ]") });
    const r = await cli("validate", "-q");
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /must be a public age recipient \(age1…\) or a PGP fingerprint/);
    assert.doesNotMatch(r.stdout + r.stderr, /AGE-SECRET-KEY-1QQQ/);
  });
});
