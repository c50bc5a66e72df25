import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RenderResult } from "../../src/render/renderer.ts";
import { testWorkspace } from "../support/engine.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const config = (stacks: Record<string, string>, limits = ""): string => `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
stacks:
${Object.entries(stacks).map(([name, path]) => `  ${name}: { target: cluster, path: ${path} }\n`).join("")}${limits}`;

/** `n` one-line ConfigMaps, one document each, as the issue's manifests are. */
function configMaps(n: number, prefix = "c"): string {
  let out = "";
  for (let i = 0; i < n; i++) out += `{apiVersion: v1, kind: ConfigMap, metadata: {name: ${prefix}${i}}}\n---\n`;
  return out;
}

function failed(r: RenderResult | undefined): { message: string; code: string } {
  assert.ok(r !== undefined && !r.ok, r?.ok === true ? `rendered ${r.objects.length} object(s)` : "no result");
  return { message: r.error.message, code: r.error.code };
}

describe("render limits", () => {
  let repo: TestRepo;
  before(() => {
    repo = makeRepo();
  });
  after(() => repo.remove());

  async function evaluate(files: Record<string, string | null>): Promise<RenderResult[]> {
    const sha = repo.commit(files);
    const t = await testWorkspace(repo.dir);
    try {
      return [...(await t.evaluate(sha)).renders];
    } finally {
      await t.close();
    }
  }

  it("refuse a file of more than 10 000 objects at the first one past, with the limit's name", async () => {
    const [r] = await evaluate({ "gitward.yaml": config({ app: "app" }), "app/many.yaml": configMaps(10_001) });
    assert.deepEqual(failed(r), { message: "app/many.yaml:20001:1: more than 10000 objects in one file (limits.maxObjectsPerFile)", code: "limit" });
  });

  it("refuse a stack past gitward.yaml's lower limit, in the file that passes it", async () => {
    const limits = "limits: { maxObjectsPerStack: 3 }\n";
    const [r] = await evaluate({ "gitward.yaml": config({ app: "app" }, limits), "app/many.yaml": null, "app/a.yaml": configMaps(2, "a"), "app/b.yaml": configMaps(2, "b") });
    assert.deepEqual(failed(r), { message: "app/b.yaml:3:1: the stack renders more than 3 objects (limits.maxObjectsPerStack)", code: "limit" });
  });

  it("do not let gitward.yaml raise the runner's limits", async () => {
    const limits = "limits: { maxObjectsPerFile: 20000 }\n";
    const [r] = await evaluate({ "gitward.yaml": config({ app: "app" }, limits), "app/a.yaml": null, "app/b.yaml": null, "app/many.yaml": configMaps(10_001) });
    assert.match(failed(r).message, /more than 10000 objects in one file/);
  });

  it("refuse the stack instance that takes a revision past its limit; the others render", async () => {
    const limits = "limits: { maxObjectsPerRevision: 5 }\n";
    const renders = await evaluate({
      "gitward.yaml": config({ one: "s1", two: "s2", three: "s3" }, limits), "app/many.yaml": null,
      "s1/cm.yaml": configMaps(2, "a"), "s2/cm.yaml": configMaps(2, "b"), "s3/cm.yaml": configMaps(2, "c"),
    });
    const bad = renders.filter((r) => !r.ok);
    assert.equal(bad.length, 1);
    assert.match(failed(bad[0]).message, /^s\d(\/cm\.yaml:3:1)?: the stack instances of this revision render more than 5 objects \(limits\.maxObjectsPerRevision\)$/);
  });

  it("hold for renders read from the cache, whose limits may have been higher", async () => {
    repo.commit({ "gitward.yaml": config({ app: "app" }), "app/cm.yaml": configMaps(4) });
    const t = await testWorkspace(repo.dir);
    try {
      assert.ok((await t.evaluate()).renders[0]?.ok);
      repo.commit({ "gitward.yaml": config({ app: "app" }, "limits: { maxObjectsPerStack: 3 }\n") });
      const [r] = (await t.evaluate()).renders;
      assert.deepEqual(failed(r), { message: "app: the stack renders more than 3 objects (limits.maxObjectsPerStack)", code: "limit" });
    } finally {
      await t.close();
    }
  });

  it("count the bytes of the files parsed, and of kustomize's output", async () => {
    const limits = "limits: { maxBytesPerRevision: 100 }\n";
    const [plain] = await evaluate({ "gitward.yaml": config({ app: "app" }, limits), "app/cm.yaml": configMaps(3) });
    assert.deepEqual(failed(plain), { message: "app/cm.yaml: the manifests of this revision are more than 100 bytes (limits.maxBytesPerRevision)", code: "limit" });
    const [built] = await evaluate({
      "gitward.yaml": config({ app: "app" }, "limits: { maxBytesPerRevision: 40 }\n"),
      "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", "app/kustomization.yaml": "resources: [cm.yaml]\n",
    });
    assert.match(failed(built).message, /^app\/kustomization\.yaml: the manifests of this revision are more than 40 bytes with kustomize's output \(limits\.maxBytesPerRevision\)$/);
  });

  it("stop the issue's commit, 8 MB files of 130 000 one-line ConfigMaps, quickly and in little memory", { timeout: 120_000 }, async () => {
    const big = configMaps(126_000);
    assert.ok(big.length < 8 * 1024 * 1024, "each file is within the 8 MiB file limit");
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    const [r] = await evaluate({ "gitward.yaml": config({ app: "app" }), "app/cm.yaml": null, "app/kustomization.yaml": null, "app/f1.yaml": big, "app/f2.yaml": big, "app/f3.yaml": big });
    assert.deepEqual(failed(r), { message: "app/f1.yaml:20001:1: more than 10000 objects in one file (limits.maxObjectsPerFile)", code: "limit" });
    assert.ok(performance.now() - started < 30_000, "refused in seconds");
    const grown = (process.resourceUsage().maxRSS * 1024 - rss) / 2 ** 20;
    assert.ok(grown < 400, `peak RSS grew ${grown.toFixed(0)} MiB`);
  });
});
