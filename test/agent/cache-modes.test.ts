import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { evaluateRevision } from "../../src/engine/evaluate-revision.ts";
import { openWorkspace } from "../../src/engine/workspace.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, "0");

function walk(dir: string): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      dirs.push(p);
      const sub = walk(p);
      dirs.push(...sub.dirs);
      files.push(...sub.files);
    } else files.push(p);
  }
  return { dirs, files };
}

/** Rendered stacks may hold Secrets: the cache the agent and the CLI write is their user's alone, whatever the umask. */
describe("the render cache's file modes", () => {
  let work: string;
  let repo: TestRepo;
  let umask: number;

  before(() => {
    umask = process.umask(0o022);
    work = mkdtempSync(join(tmpdir(), "gitward-cache-modes-"));
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": "version: 1\nenvironments:\n  dev:\n    targets: { web: { provider: host, root: /srv/x } }\nstacks:\n  site: { target: web, path: site }\n",
      "site/secret.yaml": "apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: conf }\nspec: { path: app.conf, content: \"password=hunter2\\n\" }\n",
    }, "v1");
  });
  after(() => {
    process.umask(umask);
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("a new cache directory is 0700, its subdirectories 0700 and its entries 0600", async () => {
    const cacheDir = join(work, "cache", "gitward");
    const ws = await openWorkspace({ repo: `file://${repo.dir}`, cacheDir, noCache: false, allowRemoteBases: false, noSchema: true });
    try {
      const ev = await evaluateRevision({
        source: ws.source, rev: "HEAD", configPath: "gitward.yaml", filter: {}, renderer: ws.renderer, check: ws.check, configCache: ws.configCache,
      });
      assert.equal(ev.renders.length, 1);
    } finally {
      await ws.close();
    }
    assert.equal(mode(cacheDir), "0700");
    let entries = 0;
    for (const name of ["render", "check", "config"]) {
      const { dirs, files } = walk(join(cacheDir, name));
      assert.equal(mode(join(cacheDir, name)), "0700", name);
      for (const d of dirs) assert.equal(mode(d), "0700", d);
      for (const f of files) assert.equal(mode(f), "0600", f);
      entries += files.length;
    }
    assert.ok(entries >= 3, `render, check and config entries written (${entries})`);
  });
});
