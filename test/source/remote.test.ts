import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CommandResult, CommandRunner, CommandSpec } from "../../src/core/command-runner.ts";
import { ProcessRunner } from "../../src/core/command-runner.ts";
import { isGitwardError } from "../../src/core/errors.ts";
import type { GitSource } from "../../src/source/index.ts";
import { openSource, parseLocation } from "../../src/source/index.ts";
import type { BareRemote, GitServer } from "../support/git-server.ts";
import { createBareRemote, freePort, startGitDaemon, startGitHttpServer } from "../support/git-server.ts";
import type { TestRepo } from "../support/repo.ts";
import { makeRepo } from "../support/repo.ts";

/** A real runner that keeps every command it ran, to prove what reached git. */
class RecordingRunner implements CommandRunner {
  readonly specs: CommandSpec[] = [];
  private readonly inner = new ProcessRunner();
  run(spec: CommandSpec): Promise<CommandResult> {
    this.specs.push(spec);
    return this.inner.run(spec);
  }
}

describe("remote source", () => {
  let root: string;
  let cacheDir: string;
  let repo: TestRepo;
  let remote: BareRemote;
  let http: GitServer;
  let daemon: GitServer;
  const sources: GitSource[] = [];
  const open = async (url: string, cache = cacheDir): Promise<GitSource> => {
    const source = await openSource(url, { cacheDir: cache, timeoutMs: 20_000 });
    sources.push(source);
    return source;
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "gitward-srv-"));
    cacheDir = mkdtempSync(join(tmpdir(), "gitward-cache-"));
    repo = makeRepo();
    repo.commit({ "app/a.yaml": "a: 1\n" }, "first");
    repo.git("tag", "-a", "v1", "-m", "v1");
    remote = createBareRemote(root, "app", repo);
    [http, daemon] = await Promise.all([startGitHttpServer(root), startGitDaemon(root)]);
  });
  after(async () => {
    for (const source of sources) await source.close();
    await Promise.all([http.close(), daemon.close()]);
    repo.remove();
    rmSync(root, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  });

  for (const [name, url] of [
    ["http", () => `${http.url}/${remote.name}`],
    ["git://", () => `${daemon.url}/${remote.name}`],
    ["file://", () => `file://${remote.dir}`],
  ] as const) {
    it(`mirrors over ${name}, then fetches new commits`, async () => {
      const cache = mkdtempSync(join(cacheDir, "c-"));
      const first = await open(url(), cache);
      const head = await first.resolve("HEAD");
      assert.equal(head.sha, repo.git("rev-parse", "main"));
      assert.equal((await first.resolve("v1")).subject, "first");
      const snap = await first.snapshot(head);
      assert.equal((await snap.readFile("app/a.yaml")).toString(), readFileSync(join(repo.dir, "app/a.yaml"), "utf8"));
      const mirrors = readdirSync(join(cache, "repos"));
      assert.equal(mirrors.length, 1);
      assert.match(mirrors[0] ?? "", /^[0-9a-f]{16}\.git$/);

      const next = repo.commit({ "app/a.yaml": `a: ${name}\n` }, `update over ${name}`);
      remote.push();
      const again = await open(url(), cache);
      assert.equal((await again.resolve("main")).sha, next);
      assert.equal(readdirSync(join(cache, "repos")).length, 1);
    });
  }

  it("follows a force-pushed branch and pruned branches", async () => {
    const cache = mkdtempSync(join(cacheDir, "c-"));
    repo.git("branch", "-f", "feature");
    remote.push();
    const url = `${http.url}/${remote.name}`;
    const old = await (await open(url, cache)).resolve("main");
    repo.git("reset", "--hard", "HEAD~1");
    const rewritten = repo.commit({ "app/a.yaml": "a: rewritten\n" }, "rewritten");
    repo.git("branch", "-D", "feature");
    remote.push();
    const source = await open(url, cache);
    const now = await source.resolve("main");
    assert.notEqual(now.sha, old.sha);
    assert.equal(now.sha, rewritten);
    await assert.rejects(source.resolve("feature"), (e: unknown) => isGitwardError(e) && /unknown revision/.test(e.message));
  });

  it("fails fast and clearly when the remote is unreachable", async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(open(`http://127.0.0.1:${port}/app.git`), (e: unknown) => {
      assert.ok(isGitwardError(e));
      assert.equal(e.code, "git");
      assert.match(e.message, new RegExp(`^cannot fetch http://127\\.0\\.0\\.1:${port}/app\\.git: .*`));
      assert.ok(e.hint !== undefined);
      return true;
    });
    assert.ok(Date.now() - started < 10_000);
    await assert.rejects(open(`git://127.0.0.1:${port}/app.git`), /cannot fetch/);
    await assert.rejects(open(`http://127.0.0.1:${port}/app.git`), /cannot fetch/);
  });

  it("masks credentials in the display name, errors and on disk", async () => {
    const runner = new RecordingRunner();
    const cache = mkdtempSync(join(cacheDir, "c-"));
    const secretUrl = `${http.url.replace("http://", "http://deploy:s3cr3t-token@")}/${remote.name}`;
    const source = await openSource(secretUrl, { cacheDir: cache, runner });
    sources.push(source);
    assert.equal(source.displayName, `${http.url.replace("http://", "http://***@")}/${remote.name}`);
    assert.ok(runner.specs.some((s) => s.args.includes(secretUrl)), "the credentials reach git");
    await assert.rejects(source.resolve("nope"), (e: unknown) => e instanceof Error && !e.message.includes("s3cr3t"));
    const stored = readdirSync(join(cache, "repos"), { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    assert.ok(stored.length > 0);
    for (const file of stored) {
      assert.ok(!readFileSync(join(file.parentPath, file.name)).includes("s3cr3t"), `${file.name} holds no credential`);
    }

    const port = await freePort();
    const dead = `https://ci-bot:s3cr3t-token@127.0.0.1:${port}/x.git`;
    await assert.rejects(openSource(dead, { cacheDir: cache }), (e: unknown) => {
      assert.ok(isGitwardError(e));
      assert.doesNotMatch(`${e.message} ${e.hint ?? ""}`, /s3cr3t|ci-bot/);
      assert.match(e.message, /https:\/\/\*\*\*@127\.0\.0\.1/);
      return true;
    });
  });

  it("shares one mirror between concurrent openers", async () => {
    const cache = mkdtempSync(join(cacheDir, "c-"));
    const url = `${http.url}/${remote.name}`;
    const opened = await Promise.all([open(url, cache), open(url, cache), open(url, cache)]);
    const shas = await Promise.all(opened.map((s) => s.resolve("main")));
    assert.equal(new Set(shas.map((c) => c.sha)).size, 1);
    assert.deepEqual(
      readdirSync(join(cache, "repos")).filter((n) => !n.startsWith(".")).length,
      1,
    );
    assert.ok(readdirSync(join(cache, "repos")).every((n) => !n.includes(".tmp-")));
  });

  it("does not treat transport::address syntax as a URL", async () => {
    const cache = join(cacheDir, "ext");
    mkdirSync(cache);
    const marker = join(cache, "pwned");
    await assert.rejects(openSource(`ext::sh -c touch% ${marker}`, { cacheDir: cache }));
    assert.equal(existsSync(marker), false);
  });
});

describe("parseLocation", () => {
  const cases: Array<[string, string, string]> = [
    ["https://user:tok@example.com/org/repo.git", "remote", "https://***@example.com/org/repo.git"],
    ["https://tok@example.com/r.git", "remote", "https://***@example.com/r.git"],
    ["ssh://git@example.com:2222/r.git", "remote", "ssh://git@example.com:2222/r.git"],
    ["ssh://git:pw@example.com/r.git", "remote", "ssh://***@example.com/r.git"],
    ["git@github.com:org/repo.git", "remote", "git@github.com:org/repo.git"],
    ["git://example.com/r.git", "remote", "git://example.com/r.git"],
    ["file:///srv/r.git", "remote", "file:///srv/r.git"],
    ["/srv/repo", "local", "/srv/repo"],
    ["./a:b/c", "local", join(process.cwd(), "a:b/c")],
  ];
  for (const [input, kind, display] of cases) {
    it(`parses ${input}`, () => {
      const parsed = parseLocation(input);
      assert.equal(parsed.kind, kind);
      assert.equal(parsed.displayName, display);
    });
  }

  it("keys the cache by the URL without credentials", () => {
    const a = parseLocation("https://a:1@example.com/r.git");
    const b = parseLocation("https://example.com/r.git");
    assert.ok(a.kind === "remote" && b.kind === "remote");
    assert.equal(a.cacheKey, b.cacheKey);
    assert.equal(a.mask("fatal: https://a:1@example.com/r.git not found"), "fatal: https://***@example.com/r.git not found");
  });

  it("refuses other schemes without showing credentials", () => {
    assert.throws(() => parseLocation("s3://key:secret@bucket/x"), (e: unknown) => {
      assert.ok(isGitwardError(e));
      assert.doesNotMatch(e.message, /secret/);
      return true;
    });
  });
});
