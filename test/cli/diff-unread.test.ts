import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../support/cli.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const file = (name: string): string => `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: ${name} }
spec: { path: ${name}.txt, content: hello }
`;

describe("diff with a target it cannot read", () => {
  let repo: TestRepo;
  let scratch: string;
  const diff = (...args: string[]): ReturnType<typeof runCli> => runCli(["diff", "-e", "dev", "-q", "--repo", repo.dir, "--cache-dir", join(scratch, "cache"), ...args]);
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), "gitward-diff-unread-"));
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": `version: 1
environments:
  dev:
    targets:
      good: { provider: host, root: ${scratch} }
      gone: { provider: host, root: ${join(scratch, "no-such-root")} }
stacks:
  site: { target: good, path: site }
  lost: { target: gone, path: lost }
`,
      "site/a.yaml": file("a"),
      "lost/b.yaml": file("b"),
    });
  });
  after(() => {
    repo.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("says how many stacks it could not read instead of counting them as nothing to do", async () => {
    const r = await diff();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: stack lost: .*no-such-root/m);
    assert.match(r.stdout, /^Environment dev {2}\(1 to create, 0 to update, 0 to delete, 0 unchanged; could not read 1 stack\(s\)\)$/m);
    assert.match(r.stdout, /^ {2}Stack lost could not be read: .*no-such-root/m);
    assert.match(r.stdout, /^Summary: 1 to create, 0 to update, 0 to delete, 0 unchanged; could not read 1 stack\(s\)$/m);
  });

  it("says only that when it could read nothing", async () => {
    const r = await diff("-s", "lost");
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Environment dev {2}\(could not read 1 stack\(s\)\)$/m);
    assert.match(r.stdout, /^Summary: could not read 1 stack\(s\)$/m);
    assert.doesNotMatch(r.stdout, /0 to create/);
  });

  it("names the stack in markdown and JSON too", async () => {
    const md = await diff("-s", "lost", "-o", "markdown");
    assert.match(md.stdout, /^⚠️ could not read stack \*\*lost\*\*: .*no-such-root/m);
    const json = await diff("-s", "lost", "-o", "json");
    const doc = JSON.parse(json.stdout) as { environments: { unread?: { stack: string; message: string }[] }[] };
    assert.equal(doc.environments[0]?.unread?.[0]?.stack, "lost");
  });
});
