import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ProcessRunner } from "../../src/core/command-runner.ts";
import { collectKustomizeInputs } from "../../src/render/kustomize-inputs.ts";
import { findKustomizeTool, kustomizeBuild, type KustomizeTool } from "../../src/render/kustomize.ts";
import type { RenderResult } from "../../src/render/renderer.ts";
import { testWorkspace } from "../support/engine.ts";
import { startHttpRecorder, type HttpRecorder } from "../support/http-recorder.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const config = `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
stacks:
  web: { target: cluster, path: app }
`;
const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n";

function failure(r: RenderResult | undefined): string {
  assert.ok(r !== undefined && !r.ok, r?.ok === true ? `rendered ${r.objects.map((o) => o.ref.name).join(", ")}` : "no result");
  return r.error.message;
}

describe("kustomize references that are not paths of the repository", () => {
  let repo: TestRepo;
  let net: HttpRecorder;
  before(async () => {
    repo = makeRepo();
    repo.commit({ "gitward.yaml": config, "app/cm.yaml": cm, "app/kustomization.yaml": "resources: [cm.yaml]\n" });
    net = await startHttpRecorder();
  });
  after(async () => {
    await net.close();
    repo.remove();
  });

  // Each kustomization is refused before kustomize runs, at the line that says it, and nothing reaches the network.
  const cases = (url: string): [string, Record<string, string | Buffer>, RegExp][] => [
    ["a merge key bringing in a URL", { "app/kustomization.yaml": `<<: {resources: ["${url}/x.yaml"]}\n` },
      /^app\/kustomization\.yaml:1:1: a merge key \(<<\) in a kustomization: kustomize reads/],
    ["a merge key bringing in a directory outside", { "app/kustomization.yaml": "resources: [cm.yaml]\n<<: {resources: [\"../../../../srv/other\"]}\n" },
      /^app\/kustomization\.yaml:2:1: a merge key \(<<\)/],
    ["a merge key through an anchor", { "app/kustomization.yaml": `base: &b {resources: ["${url}/x.yaml"]}\n<<: *b\n` },
      /^app\/kustomization\.yaml:1:10: an anchor \(&b\) in a kustomization/],
    ["an alias", { "app/kustomization.yaml": "x: &r [cm.yaml]\nresources: *r\n" }, /^app\/kustomization\.yaml:1:7: an anchor \(&r\)/],
    ["a tag", { "app/kustomization.yaml": `resources: !!seq ["${url}/x.yaml"]\n` }, /^app\/kustomization\.yaml:1:18: a tag \(!!seq\)/],
    ["a binary tag", { "app/kustomization.yaml": "resources: [!!binary aHR0cDovLzEyNy4wLjAuMQ==]\n" }, /^app\/kustomization\.yaml:1:22: a tag \(!!binary\)/],
    ["a key in capitals (Go's JSON ignores case)", { "app/kustomization.yaml": `RESOURCES: ["${url}/x.yaml"]\n` },
      /^app\/kustomization\.yaml:1:13: resources\[0\] "http:\/\/127\.0\.0\.1:\d+\/x\.yaml" is not a file or directory in the repository at this commit$/],
    ["a key with a long s (Go folds ſ to s)", { "app/kustomization.yaml": `reſources: ["${url}/x.yaml"]\n` }, /:1:13: resources\[0\] "http/],
    ["an scp-like git reference", { "app/kustomization.yaml": "resources: [deploy@host:org/repo]\n" }, /:1:13: resources\[0\] "deploy@host:org\/repo" is not a file or directory/],
    ["a forced git reference", { "app/kustomization.yaml": "resources: [\"git::git@host:o/r\"]\n" }, /resources\[0\] "git::git@host:o\/r" is not/],
    ["a GitHub path in capitals", { "app/kustomization.yaml": "resources: [GitHub.com/o/r]\n" }, /resources\[0\] "GitHub.com\/o\/r" is not/],
    ["a GitHub scp path", { "app/kustomization.yaml": "resources: [\"github.com:o/r\"]\n" }, /resources\[0\] "github.com:o\/r" is not/],
    ["a URL in components", { "app/kustomization.yaml": `resources: [cm.yaml]\ncomponents:\n  - ${url}/c\n` }, /:3:5: components\[0\] "http/],
    ["a URL as a patch path", { "app/kustomization.yaml": `resources: [cm.yaml]\npatches:\n  - path: ${url}/p.yaml\n` }, /:3:11: patches\[0\]\.path "http/],
    ["a URL as a generator file", { "app/kustomization.yaml": `configMapGenerator:\n  - name: g\n    files: [k=${url}/f]\n` }, /:3:13: configMapGenerator\[0\]\.files\[0\] "http/],
    ["a URL in a transformer configuration file", {
      "app/kustomization.yaml": "resources: [cm.yaml]\ntransformers: [t.yaml]\n",
      "app/t.yaml": `apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: t}\npath: ${url}/p.yaml\n`,
    }, /^app\/t\.yaml:4:7: path "http/],
    ["a URL in an inline transformer configuration", {
      "app/kustomization.yaml": `resources: [cm.yaml]\ntransformers:\n  - |\n    apiVersion: builtin\n    kind: PatchTransformer\n    metadata: {name: t}\n    path: ${url}/p.yaml\n`,
    }, /^app\/kustomization\.yaml:3:5: path "http/],
    ["a directory outside the repository", { "app/kustomization.yaml": "resources: [../../../../srv/other]\n" }, /:1:13: resources\[0\] "\.\.\/\.\.\/\.\.\/\.\.\/srv\/other" escapes the repository/],
    ["an absolute path", { "app/kustomization.yaml": "resources: [/etc]\n" }, /resources\[0\] "\/etc" is an absolute path/],
    ["a path written with //", { "app/kustomization.yaml": "resources: [\"http://127.0.0.1/x\"]\n", "app/http:/127.0.0.1/x": cm }, /resources\[0\] "http:\/\/127\.0\.0\.1\/x" is not a file or directory/],
    ["a kustomization that is not UTF-8", { "app/kustomization.yaml": Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("resources: [x]\n", "utf16le")]) },
      /^app\/kustomization\.yaml:1:1: invalid UTF-8 at byte 0 \(0xff\): a kustomization must be UTF-8 text$/],
  ];

  it("refuses each before kustomize runs, naming the file and line, and nothing reaches the network", async () => {
    for (const [what, files, expected] of cases(net.url)) {
      const sha = repo.commit(files);
      const t = await testWorkspace(repo.dir);
      try {
        const message = failure((await t.evaluate(sha)).renders[0]);
        assert.match(message, expected, what);
      } finally {
        await t.close();
        repo.git("reset", "-q", "--hard", "HEAD~1");
      }
    }
    assert.deepEqual(net.requests, []);
  });

  it("refuses a symlink that leads out of the repository", async () => {
    repo.symlink("app/outside", "../../../../etc");
    const sha = repo.commit({ "app/kustomization.yaml": "resources: [outside/hosts]\n" });
    const t = await testWorkspace(repo.dir);
    try {
      assert.match(failure((await t.evaluate(sha)).renders[0]), /:1:13: resources\[0\] "outside\/hosts" leads out of the repository: .*symlink points to/);
    } finally {
      await t.close();
      repo.git("reset", "-q", "--hard", "HEAD~2");
    }
  });

  it("gitward.yaml's render.allowRemoteBases alone grants no network access: only the runner can", async () => {
    const config = (repo.git("show", "HEAD:gitward.yaml")).replace(/\n?$/, "\nrender: { allowRemoteBases: true }\n");
    const sha = repo.commit({ "gitward.yaml": config, "app/kustomization.yaml": `resources: [cm.yaml, "${net.url}/by-commit.yaml"]\n` });
    const t = await testWorkspace(repo.dir);
    try {
      assert.match(failure((await t.evaluate(sha)).renders[0]), /is not a file or directory|remote/);
      assert.ok(!net.requests.includes("/by-commit.yaml"), "nothing fetched");
    } finally {
      await t.close();
      repo.git("reset", "-q", "--hard", "HEAD~1");
    }
  });

  it("still fetches what the runner allows (--allow-remote-bases)", async () => {
    const sha = repo.commit({ "app/kustomization.yaml": `resources: [cm.yaml, "${net.url}/allowed.yaml"]\n` });
    const t = await testWorkspace(repo.dir, { allowRemoteBases: true });
    try {
      const r = (await t.evaluate(sha)).renders[0];
      assert.ok(r?.ok, r?.ok === false ? r.error.message : "");
      assert.deepEqual(r.objects.map((o) => o.ref.name).sort(), ["fetched", "local"]);
      assert.ok(net.requests.includes("/allowed.yaml"));
    } finally {
      await t.close();
      repo.git("reset", "-q", "--hard", "HEAD~1");
    }
  });
});

describe("kustomize runs without a network", () => {
  let repo: TestRepo;
  let net: HttpRecorder;
  let tool: KustomizeTool | undefined;
  before(async () => {
    repo = makeRepo();
    net = await startHttpRecorder();
    tool = await findKustomizeTool(new ProcessRunner());
  });
  after(async () => {
    await net.close();
    repo.remove();
  });

  // Past the first wall (the reference check), as a reference kustomize reads differently would be.
  async function buildUnchecked(kustomization: string, withTool: KustomizeTool): Promise<string> {
    repo.commit({ "app/kustomization.yaml": kustomization });
    const t = await testWorkspace(repo.dir);
    try {
      const snapshot = await t.ws.source.snapshot(await t.ws.source.resolve("HEAD"));
      const inputs = await collectKustomizeInputs(snapshot, "app", { allowRemote: true });
      const out = await kustomizeBuild({
        snapshot, dir: "app", kustomizationFile: "app/kustomization.yaml", inputs, tool: withTool, runner: new ProcessRunner(), network: false,
      }).then((b) => b.toString("utf8"), (e: unknown) => (e instanceof Error ? e.message : String(e)));
      return out;
    } finally {
      await t.close();
    }
  }

  it("in a network namespace where the platform allows it: an HTTP resource is not fetched", async (t) => {
    if (tool?.isolation === undefined) {
      t.skip("unshare --net --map-root-user does not work here; the environment alone cannot stop Go's HTTP client reaching 127.0.0.1");
      return;
    }
    const out = await buildUnchecked(`resources: ["${net.url}/wall.yaml"]\n`, tool);
    assert.match(out, /kustomize build failed/);
    assert.deepEqual(net.requests, []);
  });

  it("with its environment alone: git may use no transport, so a git base is not fetched", async () => {
    assert.ok(tool !== undefined, "kubectl or kustomize is needed");
    const out = await buildUnchecked(`resources: ["git::${net.url}/org/repo.git"]\n`, { ...tool, isolation: undefined });
    assert.match(out, /kustomize build failed/);
    assert.deepEqual(net.requests, []);
  });

  it("probes the isolation once, and answers whether it works here", () => {
    assert.ok(tool !== undefined);
    if (process.platform !== "linux") assert.equal(tool.isolation, undefined);
    else if (tool.isolation !== undefined) assert.deepEqual(tool.isolation.args, ["--net", "--map-root-user", "--"]);
  });
});
