import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RenderResult } from "../../src/render/renderer.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { testWorkspace } from "../support/engine.ts";

const config = (stacks: string): string => `version: 1
environments:
  dev:
    vars: { replicas: "2" }
    targets: { cluster: { provider: kubernetes } }
stacks:
${stacks}`;

const cm = (name: string, extra = ""): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}`;

function objectsOf(r: RenderResult | undefined): string[] {
  assert.ok(r?.ok, r?.ok === false ? r.error.message : "no result");
  return r.objects.map((o) => `${o.ref.kind}/${o.ref.namespace ?? "-"}/${o.ref.name}@${o.source.file}:${o.source.line ?? "-"}`);
}

describe("Renderer", () => {
  let repo: TestRepo;
  before(() => {
    repo = makeRepo();
  });
  after(() => repo.remove());

  it("renders a plain directory recursively, skipping hidden paths and other files, with default namespaces", async () => {
    repo.commit({
      "gitward.yaml": config("  app:\n    target: cluster\n    path: app\n    namespace: team\n"),
      "app/a.yaml": `${cm("one")}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n`,
      "app/sub/b.json": JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "two", namespace: "other" } }),
      "app/.hidden/c.yaml": cm("hidden"),
      "app/README.md": "# not a manifest",
      "app/crd.yaml": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Cluster\n  names: { kind: Widget, plural: widgets }\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n---\napiVersion: other.example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n",
    });
    const t = await testWorkspace(repo.dir);
    try {
      const ev = await t.evaluate();
      assert.deepEqual(objectsOf(ev.renders[0]), [
        "ConfigMap/team/one@app/a.yaml:1",
        "Namespace/-/team@app/a.yaml:6",
        "CustomResourceDefinition/-/widgets.example.com@app/crd.yaml:1",
        "Widget/-/w@app/crd.yaml:10",
        "Gadget/team/g@app/crd.yaml:15",
        "ConfigMap/other/two@app/sub/b.json:1",
      ]);
    } finally {
      await t.close();
    }
  });

  it("builds kustomize overlays from the commit and caches by the content of every input", async () => {
    repo.commit({
      "gitward.yaml": config("  web:\n    target: cluster\n    path: overlays/dev\n  other:\n    target: cluster\n    path: other\n"),
      "base/kustomization.yaml": "resources: [cm.yaml]\n",
      "base/cm.yaml": cm("web-config", "data:\n  replicas: ${replicas}\n"),
      "overlays/dev/kustomization.yaml": "resources: [../../base]\nnamePrefix: dev-\n",
      "other/cm.yaml": cm("other"),
    });
    const t = await testWorkspace(repo.dir);
    try {
      const first = await t.evaluate();
      const web = first.renders.find((r) => r.instance.stack === "web");
      assert.deepEqual(objectsOf(web), ["ConfigMap/-/dev-web-config@base/cm.yaml:1"]);
      assert.ok(web?.ok && web.objects[0]?.object["data"] !== undefined);
      assert.deepEqual(web.ok ? web.objects[0]?.object["data"] : undefined, { replicas: 2 });

      const again = await t.evaluate();
      assert.ok(again.renders.every((r) => r.ok && r.cached), "an unchanged commit renders nothing twice");

      repo.commit({ "base/cm.yaml": cm("web-config", "data:\n  replicas: \"9\"\n") });
      const changed = await t.evaluate();
      const webAfter = changed.renders.find((r) => r.instance.stack === "web");
      const otherAfter = changed.renders.find((r) => r.instance.stack === "other");
      assert.ok(webAfter?.ok === true && !webAfter.cached, "a change in the base invalidates the overlay");
      assert.ok(otherAfter?.ok === true && otherAfter.cached, "an unchanged stack is not rendered again");
    } finally {
      await t.close();
    }
  });

  it("reuses the disk cache across workspaces", async () => {
    const t1 = await testWorkspace(repo.dir);
    const ev1 = await t1.evaluate();
    const t2 = await testWorkspace(repo.dir, { cacheDir: t1.cacheDir });
    try {
      const ev2 = await t2.evaluate();
      assert.ok(ev1.renders.some((r) => r.ok && !r.cached));
      assert.ok(ev2.renders.every((r) => r.ok && r.cached));
    } finally {
      await t2.ws.close();
      await t1.close();
    }
  });

  const failures: { name: string; files: Record<string, string | null>; expected: RegExp; env?: Record<string, string> }[] = [
    {
      name: "a remote base is refused unless allowed",
      files: { "overlays/dev/kustomization.yaml": "resources:\n  - https://github.com/example/repo//base?ref=v1\n" },
      expected: /^overlays\/dev\/kustomization.yaml:2:5: resources\[0\] "https:\/\/github.com\/example\/repo\/\/base\?ref=v1" is not a file or directory in the repository at this commit$/,
    },
    {
      name: "a missing file names the kustomization line",
      files: { "overlays/dev/kustomization.yaml": "resources: [missing.yaml]\n" },
      expected: /^overlays\/dev\/kustomization.yaml:1:13: resources\[0\] "missing.yaml" is not a file or directory in the repository at this commit$/,
    },
    {
      name: "a kustomize failure names the kustomization",
      files: { "overlays/dev/kustomization.yaml": "resources: [../../base]\nbogusField: 1\n" },
      expected: /^overlays\/dev\/kustomization.yaml: kustomize build failed: .*bogusField/,
    },
    {
      name: "a kustomization reaching outside the repository",
      files: { "overlays/dev/kustomization.yaml": "resources: [../../../etc]\n" },
      expected: /escapes the repository/,
    },
  ];
  for (const f of failures) {
    it(`reports: ${f.name}`, async () => {
      const sha = repo.commit(f.files);
      const t = await testWorkspace(repo.dir);
      try {
        const ev = await t.evaluate(sha);
        const web = ev.renders.find((r) => r.instance.stack === "web");
        assert.ok(web !== undefined && !web.ok, "the stack must fail");
        assert.match(web.error.message, f.expected);
        const other = ev.renders.find((r) => r.instance.stack === "other");
        assert.ok(other?.ok, "other stacks still render");
        assert.ok(ev.findings.some((x) => x.severity === "error" && x.stack === "web"));
      } finally {
        await t.close();
        repo.git("reset", "-q", "--hard", "HEAD~1");
      }
    });
  }

  it("refuses a remote base even after a run that allowed it", async () => {
    const sha = repo.commit({ "overlays/dev/kustomization.yaml": "resources:\n  - https://example.invalid/repo//base?ref=main\n" });
    const allowed = await testWorkspace(repo.dir, { allowRemoteBases: true });
    try {
      await allowed.evaluate(sha);
      const strict = await testWorkspace(repo.dir, { cacheDir: allowed.cacheDir });
      const web = (await strict.evaluate(sha)).renders.find((r) => r.instance.stack === "web");
      await strict.ws.close();
      assert.ok(web !== undefined && !web.ok);
      assert.match(web.error.message, /resources\[0\] "https:\/\/example.invalid\/repo\/\/base\?ref=main" is not a file or directory in the repository/);
    } finally {
      await allowed.close();
      repo.git("reset", "-q", "--hard", "HEAD~1");
    }
  });

  it("renders again when a file symlinked from outside the stack changes", async () => {
    repo.commit({ "shared/cm.yaml": cm("shared", "data:\n  v: \"1\"\n") });
    repo.symlink("other/shared.yaml", "../shared/cm.yaml");
    const t = await testWorkspace(repo.dir);
    try {
      const before = (await t.evaluate()).renders.find((r) => r.instance.stack === "other");
      repo.commit({ "shared/cm.yaml": cm("shared", "data:\n  v: \"2\"\n") });
      const after = (await t.evaluate()).renders.find((r) => r.instance.stack === "other");
      assert.ok(before?.ok && after?.ok);
      assert.equal(after.cached, false);
      assert.deepEqual(after.objects.find((o) => o.ref.name === "shared")?.object["data"], { v: "2" });
    } finally {
      await t.close();
    }
  });

  it("says how to install kustomize when neither kustomize nor kubectl is on PATH", async () => {
    const saved = process.env["PATH"];
    const onlyGit = mkdtempSync(join(tmpdir(), "gitward-path-"));
    const git = (saved ?? "").split(":").map((d) => join(d, "git")).find((p) => existsSync(p));
    symlinkSync(git ?? "/usr/bin/git", join(onlyGit, "git"));
    const t = await testWorkspace(repo.dir, { noCache: true });
    try {
      process.env["PATH"] = onlyGit;
      const ev = await t.evaluate();
      const web = ev.renders.find((r) => r.instance.stack === "web");
      assert.ok(web !== undefined && !web.ok);
      assert.match(web.error.message, /neither kustomize nor kubectl is on PATH/);
      assert.match(web.error.hint ?? "", /install kubectl/);
    } finally {
      process.env["PATH"] = saved;
      rmSync(onlyGit, { recursive: true, force: true });
      await t.close();
    }
  });
});
