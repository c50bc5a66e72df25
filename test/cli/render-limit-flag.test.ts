import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runCli } from "../support/cli.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

function configMaps(n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += `{apiVersion: v1, kind: ConfigMap, metadata: {name: c${i}}}\n---\n`;
  return out;
}

/** The runner, not the repository, decides how much a revision may render: --render-limit raises or lowers it for one run. */
describe("--render-limit", () => {
  let repo: TestRepo;
  before(() => {
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": "version: 1\nenvironments:\n  dev:\n    targets: { cluster: { provider: kubernetes } }\nstacks:\n  app: { target: cluster, path: app }\n",
      "app/cms.yaml": configMaps(30),
    });
  });
  after(() => repo.remove());
  const validate = (...args: string[]) => runCli(["validate", "--repo", repo.dir, "--no-cache", "--no-schema", "-q", ...args]);

  it("lowers a limit for this run, with the limit named in the error", async () => {
    const r = await validate("--render-limit", "maxObjectsPerFile=20");
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /app\/cms\.yaml:41:1: error: more than 20 objects in one file \(limits\.maxObjectsPerFile\)/);
  });

  it("is valid within the default limits, and refuses an unknown key or a bad number", async () => {
    assert.equal((await validate()).code, 0);
    const bad = await validate("--render-limit", "maxObjects=5");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--render-limit maxObjects=5: expected KEY=N/);
  });
});
