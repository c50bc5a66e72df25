import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../support/cli.ts";
import { testCluster, type TestCluster } from "../support/fake-apiserver.ts";
import { gitTestEnv, makeRepo, type TestRepo } from "../support/repo.ts";

const config = (required: boolean): string => `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
stacks:
  app:
    target: cluster
    path: app
    namespace: team
verification:
  signatures: { required: ${String(required)}, format: ssh }
`;
const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replica: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: "nginx:1.27" }]
`;

describe("signed commits through the CLI", () => {
  let repo: TestRepo;
  let keys: string;
  let signers: string;
  let otherSigners: string;
  before(() => {
    keys = mkdtempSync(join(tmpdir(), "gitward-keys-"));
    for (const name of ["trusted", "other"]) {
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", join(keys, name)]);
    }
    signers = join(keys, "allowed_signers");
    otherSigners = join(keys, "other_signers");
    writeFileSync(signers, `author@example.com ${readFileSync(join(keys, "trusted.pub"), "utf8")}`);
    writeFileSync(otherSigners, `author@example.com ${readFileSync(join(keys, "other.pub"), "utf8")}`);
    repo = makeRepo();
    repo.commit({ "gitward.yaml": config(true), "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n" });
    execFileSync("git", ["-c", "gpg.format=ssh", "-c", `user.signingkey=${join(keys, "trusted")}`, "commit", "-q", "--amend", "--no-edit", "-S"], {
      cwd: repo.dir, env: { ...process.env, ...gitTestEnv },
    });
  });
  after(() => {
    repo.remove();
    rmSync(keys, { recursive: true, force: true });
  });

  it("accepts a commit signed by an allowed signer", async () => {
    const r = await runCli(["validate", "--repo", repo.dir, "--allowed-signers", signers, "-q", "-o", "json", "--no-cache"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { signature?: { format: string; signer: string } };
    assert.equal(doc.signature?.format, "ssh");
    assert.equal(doc.signature?.signer, "author@example.com");
  });

  it("refuses a commit signed by another key", async () => {
    const r = await runCli(["validate", "--repo", repo.dir, "--allowed-signers", otherSigners, "-q", "--no-cache"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: commit [0-9a-f]+ has an untrusted signature/);
  });

  it("refuses to go on when gitward.yaml requires signatures and no keys are given", async () => {
    const r = await runCli(["validate", "--repo", repo.dir, "-q", "--no-cache"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: gitward.yaml:11:3: gitward.yaml requires ssh commit signatures, and no trusted keys were given\nhint: pass --allowed-signers FILE/);
  });

  it("refuses an unsigned commit", async () => {
    repo.commit({ "app/cm2.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n" }, "unsigned");
    try {
      const r = await runCli(["validate", "--repo", repo.dir, "--allowed-signers", signers, "-q", "--no-cache"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /error: commit [0-9a-f]+ is not signed/);
    } finally {
      repo.git("reset", "-q", "--hard", "HEAD~1");
    }
  });
});

describe("validation against a cluster's own schemas", () => {
  let cluster: TestCluster;
  let repo: TestRepo;
  before(async () => {
    cluster = await testCluster();
    repo = makeRepo();
    repo.commit({ "gitward.yaml": config(false), "app/deploy.yaml": deployment });
  });
  after(async () => {
    await cluster.close();
    repo.remove();
  });

  it("reports an unknown field the offline schemas cannot see", async () => {
    const offline = await runCli(["validate", "--repo", repo.dir, "-q", "--no-cache"]);
    assert.equal(offline.code, 0, "offline schemas do not know unknown fields");
    const r = await runCli(["validate", "--repo", repo.dir, "-q", "--no-cache", "--kubeconfig", cluster.kubeconfigPath, "--context", cluster.context]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /app\/deploy.yaml:6:3: error: Deployment\/team\/web: spec.replica: unknown field "replica" \(schema\)/);
  });

  it("reports an unreachable cluster clearly, without credentials", async () => {
    const bad = await cluster.kubeconfigWithToken("wrong-token-value");
    const r = await runCli(["validate", "--repo", repo.dir, "-q", "--no-cache", "--kubeconfig", bad, "--context", cluster.context]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: cluster .*401 Unauthorized/);
    assert.doesNotMatch(r.stderr, /wrong-token-value/);
  });
});
