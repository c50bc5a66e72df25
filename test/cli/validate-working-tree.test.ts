import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../support/cli.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const gitwardYaml = `version: 1
environments:
  dev:
    targets: { web: { provider: host, root: /srv/www } }
stacks:
  site:
    target: web
    path: site
`;
const file = (mode: string): string => `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: index }
spec:
  path: index.html
  content: hello
  mode: ${mode}
`;

describe("validate in a clone: its top level, and uncommitted edits", () => {
  let repo: TestRepo;
  let cache: string;
  let head: string;
  const validate = (cwd: string, ...args: string[]): ReturnType<typeof runCli> => runCli(["validate", "-q", "--cache-dir", cache, ...args], { cwd });
  before(() => {
    repo = makeRepo();
    cache = mkdtempSync(join(tmpdir(), "gitward-validate-cache-"));
    head = repo.commit({ "gitward.yaml": gitwardYaml, "site/index.yaml": file('"0644"') });
  });
  after(() => {
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  it("validates the clone a subdirectory belongs to, as git finds it", async () => {
    const r = await validate(join(repo.dir, "site"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `valid: ${head.slice(0, 12)}: 1 stack instance(s), 1 object(s), 0 policies, 0 error(s), 0 warning(s)\n`);
    assert.equal(r.stderr, "", "a clean tree: no warning");
    const byFlag = await validate(tmpdir(), "--repo", join(repo.dir, "site"));
    assert.equal(byFlag.code, 0, byFlag.stderr);
  });

  describe("with an uncommitted edit", () => {
    before(() => writeFileSync(join(repo.dir, "site/index.yaml"), file("644")));
    after(() => repo.git("checkout", "-q", "--", "site/index.yaml"));

    it("validates HEAD and warns that the edit is not included", async () => {
      const r = await validate(join(repo.dir, "site"));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, `warning: validating HEAD (${head.slice(0, 12)}); 1 uncommitted change(s) are not included — commit them, or pass --working-tree to validate them too\n`);
    });

    it("does not warn for an explicit revision", async () => {
      const r = await validate(repo.dir, "--rev", "main");
      assert.equal(r.stderr, "");
    });

    it("validates the working tree with --working-tree, and leaves the clone as it was", async () => {
      const r = await validate(repo.dir, "--working-tree");
      assert.equal(r.code, 1, "the edit is checked: an unquoted mode is an error");
      assert.match(r.stdout, /spec\.mode.*must be a quoted octal string/);
      assert.match(r.stdout, new RegExp(`^invalid: working tree on ${head.slice(0, 12)}: `, "m"));
      assert.equal(r.stderr, "");
      assert.equal(repo.git("rev-parse", "HEAD"), head);
      assert.equal(repo.git("stash", "list"), "");
      assert.equal(repo.git("status", "--porcelain"), "M site/index.yaml");
    });

    it("refuses --working-tree with --rev", async () => {
      const r = await validate(repo.dir, "--working-tree", "--rev", "main");
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: --working-tree validates the working tree on HEAD; it cannot be used with --rev/);
    });
  });
});
