import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ProcessRunner } from "../../src/core/command-runner.ts";
import { GitwardError } from "../../src/core/errors.ts";
import { remoteHead } from "../../src/source/remote-head.ts";
import { createBareRemote, freePort, type BareRemote } from "../support/git-server.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const runner = new ProcessRunner();

describe("remoteHead", () => {
  let root: string;
  let repo: TestRepo;
  let remote: BareRemote;
  let main: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), "gitward-remote-head-"));
    repo = makeRepo();
    main = repo.commit({ "a.txt": "a\n" }, "first");
    // A branch whose name ends like another's ref: ls-remote's pattern matches it too.
    repo.git("branch", "old/refs/heads/gone");
    remote = createBareRemote(root, "r", repo);
    remote.push();
  });
  after(() => {
    repo.remove();
    rmSync(root, { recursive: true, force: true });
  });

  const rejects = async (p: Promise<unknown>, message: RegExp): Promise<string> => {
    const error = await p.then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof GitwardError, `expected a GitwardError, got ${String(error)}`);
    assert.equal(error.code, "git");
    assert.match(error.message, message);
    return error.message;
  };

  it("reads a branch's head from a path and from a file URL, fetching nothing", async () => {
    assert.equal(await remoteHead(runner, remote.dir, "main"), main);
    assert.equal(await remoteHead(runner, `file://${remote.dir}`, "main", { timeoutMs: 10_000 }), main);
    assert.equal(await remoteHead(runner, repo.dir, "old/refs/heads/gone"), main);
  });

  it("says a missing branch is not found, matching the ref exactly", async () => {
    await rejects(remoteHead(runner, remote.dir, "nope"), new RegExp(`^cannot read ${remote.dir}: branch nope not found$`));
    await rejects(remoteHead(runner, remote.dir, "gone"), /: branch gone not found$/);
  });

  it("explains an unreachable repository, credentials masked", async () => {
    const url = `http://alice:s3cr3t-t0ken@127.0.0.1:${await freePort()}/x.git`;
    const message = await rejects(remoteHead(runner, url, "main"), /^cannot read http:\/\/\*\*\*@127\.0\.0\.1:\d+\/x\.git: \S/);
    assert.ok(!message.includes("s3cr3t") && !message.includes("alice"), message);
    await rejects(remoteHead(runner, join(root, "missing.git"), "main"), /^cannot read .*missing\.git: \S/);
  });

  it("stops at the time limit", async () => {
    // A server that accepts and says nothing. It hangs up after a second: git's HTTP helper
    // outlives the killed git and holds its output open until then (the runner waits for it).
    const sockets: Socket[] = [];
    const silent = createServer((s) => {
      sockets.push(s);
      setTimeout(() => s.destroy(), 1000).unref();
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    try {
      await rejects(remoteHead(runner, `http://127.0.0.1:${port}/x.git`, "main", { timeoutMs: 300 }), /^cannot read http:\/\/127\.0\.0\.1:\d+\/x\.git: timed out after 0\.3 s$/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
