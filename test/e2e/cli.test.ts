import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBareRemote, freePort, startGitHttpServer, type GitServer } from "../support/git-server.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { readTreeFiles, runCli } from "../support/cli.ts";

describe("gitward CLI on the bundled example", () => {
  let repo: TestRepo;
  let cache: string;
  let base: string;
  const cli = (...args: string[]): ReturnType<typeof runCli> => runCli([...args, "--repo", repo.dir, "--cache-dir", cache]);
  before(() => {
    cache = mkdtempSync(join(tmpdir(), "gitward-cli-cache-"));
    repo = makeRepo();
    base = repo.commit(readTreeFiles("examples/infra"), "example");
    const deployment = readTreeFiles("examples/infra")["apps/podinfo/base/deployment.yaml"] ?? "";
    repo.commit({ "apps/podinfo/base/deployment.yaml": deployment.replace("podinfo:6.7.1", "podinfo:6.8.0") }, "podinfo 6.8.0");
  });
  after(() => {
    repo.remove();
    rmSync(cache, { recursive: true, force: true });
  });

  it("validates", async () => {
    const r = await cli("validate");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^valid: [0-9a-f]{12}: 12 stack instance\(s\), 32 object\(s\), 10 policies, 0 error\(s\), 0 warning\(s\)$/m);
  });

  it("plans the change in every environment, with --detailed-exitcode 2", async () => {
    const r = await cli("plan", "--base", base, "--detailed-exitcode");
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /Environment dev {2}\(0 to create, 1 to update, 0 to delete, 9 unchanged\)/);
    assert.match(r.stdout, /Environment prod {2}\(0 to create, 1 to update, 0 to delete, 10 unchanged\)/);
    assert.match(r.stdout, /- {10}image: ghcr.io\/stefanprodan\/podinfo:6.7.1\n +\+ {10}image: ghcr.io\/stefanprodan\/podinfo:6.8.0/);
    assert.doesNotMatch(r.stdout, /\x1b\[/, "no colour when stdout is not a terminal");
  });

  it("exits 0 with --detailed-exitcode when nothing changes", async () => {
    const r = await cli("plan", "--base", "HEAD", "--head", "HEAD", "--detailed-exitcode", "-o", "json");
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { counts: { unchanged: number } };
    assert.equal(doc.counts.unchanged, 32);
  });

  it("writes a markdown comment for one environment and stack", async () => {
    const r = await cli("plan", "--base", base, "-o", "markdown", "--env", "prod", "--stack", "podinfo");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| \*\*prod\*\* \| 0 \| 1 \| 0 \| 0 \| 3 \|/);
    assert.doesNotMatch(r.stdout, /\*\*dev\*\*/);
  });

  it("lists policy exemptions in the PR comment", async () => {
    const r = await cli("plan", "--base", base, "-o", "markdown", "--env", "prod");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /#### Policy exemptions\n\n\| Policy \| Object \| Environment\/stack \| Source \| Reason \|\n\|---\|---\|---\|---\|---\|\n\| `resources-required` \| `StatefulSet\/cache\/redis` \| prod\/redis \| `apps\/redis\/redis.yaml:1:1` \| a CPU limit throttles redis/);
  });

  it("fails the plan on a deny finding and shows it in the findings table", async () => {
    const files = readTreeFiles("examples/infra");
    const sha = repo.commit({ "gitward.yaml": (files["gitward.yaml"] ?? "").replace('replicas: "3"', 'replicas: "1"') }, "prod down to one replica");
    try {
      const r = await cli("plan", "--base", base, "--head", sha, "-o", "markdown", "--detailed-exitcode");
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /\| ❌ error \| policy.prod-high-availability \| `Deployment\/podinfo\/podinfo` \| prod\/podinfo \| `apps\/podinfo\/base\/deployment.yaml:\d+:\d+` \| prod needs at least 2 replicas, has 1 \|/);
    } finally {
      repo.git("reset", "-q", "--hard", "HEAD~1");
    }
  });

  it("refuses a policy that does not compile, naming its file and line", async () => {
    const sha = repo.commit({ "policies/broken.yaml": "apiVersion: policy.gitward.dev/v1alpha1\nkind: Policy\nmetadata: {name: broken}\nspec:\n  validations:\n    - expression: \"object.metadata.name ==\"\n" }, "broken policy");
    try {
      const r = await cli("validate", "--rev", sha, "-q");
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: policies\/broken.yaml:6:\d+: spec.validations\[0\].expression: /m);
    } finally {
      repo.git("reset", "-q", "--hard", "HEAD~1");
    }
  });

  it("renders one environment as YAML with sources", async () => {
    const r = await cli("render", "--env", "dev", "--stack", "redis");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /# environment: dev, stack: redis, source: apps\/redis\/redis.yaml:1:1\napiVersion: apps\/v1\nkind: StatefulSet/);
    assert.match(r.stdout, /memory: 128Mi/);
  });

  it("puts progress on stderr and data on stdout, and -q silences progress", async () => {
    const loud = await cli("validate", "-o", "json");
    assert.match(loud.stderr, /gitward: validating HEAD/);
    assert.doesNotThrow(() => JSON.parse(loud.stdout));
    assert.equal((await cli("validate", "-q")).stderr, "");
  });

  for (const cmd of ["validate", "render", "plan"]) {
    it(`${cmd} --help documents its flags`, async () => {
      const r = await runCli([cmd, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /--repo <path\|url>/);
      assert.match(r.stdout, /-o, --output <format>/);
    });
  }

  it("refuses an unknown environment with a hint", async () => {
    const r = await cli("validate", "--env", "qa");
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split("\n").slice(-2).join("\n"), 'error: unknown environment "qa"\nhint: environments defined in gitward.yaml: dev, staging, prod');
  });
});

/** gitward.yaml with a Latin-1 "é" (0xe9, not UTF-8) in the value of dev's variable n. */
function notUtf8(config: string): Buffer {
  const [head, tail] = config.split('"1" }');
  return Buffer.concat([Buffer.from(`${head ?? ""}"caf`), Buffer.from([0xe9]), Buffer.from(`" }${tail ?? ""}`)]);
}

describe("gitward CLI on bad input", () => {
  const good = {
    "gitward.yaml": "version: 1\nenvironments:\n  dev:\n    vars: { n: \"1\" }\n    targets: { cluster: { provider: kubernetes } }\nstacks:\n  app:\n    target: cluster\n    path: app\n",
    "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  n: \"${n}\"\n",
  };
  const cases: { name: string; files: Record<string, string | Buffer | null>; symlink?: [string, string]; args?: string[]; expected: RegExp }[] = [
    { name: "malformed YAML", files: { "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a\n" }, expected: /app\/cm.yaml:4:1: error: invalid YAML: .* \(render.render\)/ },
    { name: "a document that is not an object", files: { "app/list.yaml": "- a\n- b\n" }, expected: /app\/list.yaml:1:1: error: document is a list, not an object/ },
    { name: "a missing directory", files: { "app/cm.yaml": null }, expected: /error: gitward.yaml:9:11: stacks.app.path: directory not found: app/ },
    { name: "an undefined variable", files: { "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  n: ${missing}\n" }, expected: /app\/cm.yaml:6:6: error: variable "missing" is not defined and has no default/ },
    { name: "a kustomize failure", files: { "app/kustomization.yaml": "resources: [cm.yaml]\nbogusField: 1\n" }, expected: /app\/kustomization.yaml: error: kustomize build failed: .*bogusField/ },
    { name: "a missing kustomize resource", files: { "app/kustomization.yaml": "resources: [nope.yaml]\n" }, expected: /app\/kustomization.yaml:1:13: error: resources\[0\] "nope.yaml" is not a file or directory in the repository at this commit \(render.render\)/ },
    { name: "a binary file", files: { "app/logo.yaml": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]) }, expected: /app\/logo.yaml: error: binary file is not a manifest/ },
    { name: "a huge file", files: { "app/huge.yaml": `data: "${"x".repeat(9 * 1024 * 1024)}"\n` }, expected: /app\/huge.yaml.*(too large|exceeds|limit)/i },
    { name: "a symlink out of the repository", files: {}, symlink: ["app/passwd.yaml", "../../../../etc/passwd"], expected: /app\/passwd.yaml.*escapes the repository/ },
    { name: "an invalid gitward.yaml", files: { "gitward.yaml": good["gitward.yaml"].replace("path: app", "pth: app") }, expected: /error: gitward.yaml:7:3: stacks.app.path: required key is missing\nerror: gitward.yaml:9:5: stacks.app.pth: unknown key \(did you mean "path"\?\)/ },
    { name: "a schema violation", files: { "app/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: many\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx:1.27}]\n" }, expected: /app\/deploy.yaml:6:3: error: Deployment\/web: spec.replicas: must be integer \(schema\)/ },
    { name: "a plaintext Secret", files: { "app/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: abc\n" }, expected: /app\/secret.yaml:5:1: error: Secret\/s: Secret has stringData in clear/ },
    { name: "a bad ref", files: {}, args: ["--rev", "no-such-branch"], expected: /error: unknown revision "no-such-branch"/ },
    {
      name: "a gitward.yaml that is not UTF-8",
      files: { "gitward.yaml": notUtf8(good["gitward.yaml"]) },
      expected: /gitward.yaml:4:\d+: invalid UTF-8 at byte \d+ \(0xe9\)/,
    },
  ];
  for (const c of cases) {
    it(`reports ${c.name} with where and why, exit 1, no stack trace`, async () => {
      const repo = makeRepo();
      try {
        repo.commit(good);
        repo.commit({ ...c.files, "touch.txt": c.name });
        if (c.symlink !== undefined) repo.symlink(c.symlink[0], c.symlink[1]);
        const r = await runCli(["validate", "--repo", repo.dir, "--no-cache", "-q", ...(c.args ?? [])]);
        assert.equal(r.code, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
        assert.match(r.stdout + r.stderr, c.expected);
        assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace without --debug");
      } finally {
        repo.remove();
      }
    });
  }

  it("shows the stack trace with --debug", async () => {
    const r = await runCli(["validate", "--repo", "/nonexistent/repo", "--debug", "-q"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\n\s+at /);
  });
});

describe("gitward CLI on a remote repository", () => {
  let server: GitServer;
  let root: string;
  let repo: TestRepo;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), "gitward-remote-"));
    repo = makeRepo();
    repo.commit(readTreeFiles("examples/infra"));
    createBareRemote(root, "infra", repo);
    server = await startGitHttpServer(root);
  });
  after(async () => {
    await server.close();
    repo.remove();
    rmSync(root, { recursive: true, force: true });
  });

  it("validates a branch fetched over HTTP", async () => {
    const cache = mkdtempSync(join(tmpdir(), "gitward-cli-cache-"));
    try {
      const r = await runCli(["validate", "--repo", `${server.url}/infra.git`, "--rev", "main", "--cache-dir", cache, "-q"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^valid: /m);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("reports an unreachable remote clearly, with credentials masked", async () => {
    const port = await freePort();
    const cache = mkdtempSync(join(tmpdir(), "gitward-cli-cache-"));
    try {
      const r = await runCli(["validate", "--repo", `http://user:s3cret-token@127.0.0.1:${port}/infra.git`, "--cache-dir", cache]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /error: cannot fetch http:\/\/\*\*\*@127.0.0.1:\d+\/infra.git: .*/);
      assert.doesNotMatch(r.stdout + r.stderr, /s3cret-token/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
