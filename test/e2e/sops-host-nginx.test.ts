import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import type { TLSSocket } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../support/cli.ts";
import { freePort } from "../support/git-server.ts";
import { startNginx, type TestNginx } from "../support/nginx.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { encryptBinary, makeAgeKey } from "../support/sops-encrypt.ts";

/** GET over TLS without verifying the chain (the certificate is self-signed): status, body and the served certificate. */
function httpsGet(port: number, path: string): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, fingerprint }));
    });
    req.on("timeout", () => req.destroy(new Error("https request timed out")));
    req.on("error", reject);
    req.end();
  });
}

describe("an encrypted TLS private key as a host File's source, served by a real nginx", () => {
  let nginx: TestNginx;
  let repo: TestRepo;
  let work: string;
  let tlsPort: number;
  let certPem: string;
  let keyPem: string;

  before(async () => {
    nginx = await startNginx();
    tlsPort = await freePort();
    work = mkdtempSync(join(tmpdir(), "gw-sops-nginx-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
      "-subj", "/CN=gitward-sops-test", "-keyout", join(work, "key.pem"), "-out", join(work, "cert.pem")], { stdio: "ignore" });
    certPem = readFileSync(join(work, "cert.pem"), "utf8");
    keyPem = readFileSync(join(work, "key.pem"), "utf8");
    const key = await makeAgeKey();
    writeFileSync(join(work, "age.key"), key.keyFile, { mode: 0o600 });
    writeFileSync(join(work, "host-commands.yaml"), nginx.hostCommandsYaml("edge", "/"));
    // As root, nginx runs as nobody: the private key must be readable by it, and by nobody else.
    const owner = process.getuid?.() === 0 ? "  owner: \"65534\"\n" : "";
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": `version: 1
environments:
  dev:
    targets:
      edge: { provider: host, root: ${nginx.root}, check: nginx-test, reload: nginx-reload }
stacks:
  tls: { target: edge, path: tls }
`,
      "tls/files.yaml": `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: tls-key }
spec:
  path: tls/site.key
  source: site.key.enc
${owner}---
apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: tls-cert }
spec:
  path: tls/site.crt
  source: site.crt
---
apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: tls-site }
spec:
  path: conf.d/tls.conf
  # Relative to the configuration's directory: the check runs on a staged copy of the root.
  content: |
    server {
      listen 127.0.0.1:${tlsPort} ssl;
      ssl_certificate tls/site.crt;
      ssl_certificate_key tls/site.key;
      location / { return 200 "tls ok\\n"; }
    }
`,
      "tls/site.crt": certPem,
      "tls/site.key.enc": await encryptBinary(keyPem, { recipients: [key.recipient] }),
    });
  });
  after(async () => {
    await nginx.stop();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("writes the decrypted key with mode 0600, checks with nginx -t, reloads, and nginx serves TLS with that certificate", async () => {
    const r = await runCli(["apply", "--repo", repo.dir, "--env", "dev", "--cache-dir", join(work, "cache"), "-q", "--host-commands", join(work, "host-commands.yaml"), "-o", "json"], {
      env: { SOPS_AGE_KEY_FILE: join(work, "age.key"), SOPS_AGE_KEY: "" },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as { stacks: { commands?: { phase: string; exitCode: number }[] }[] };
    assert.deepEqual(doc.stacks[0]?.commands?.map((c) => [c.phase, c.exitCode]), [["check", 0], ["reload", 0]]);
    const keyFile = join(nginx.root, "tls/site.key");
    assert.equal(readFileSync(keyFile, "utf8"), keyPem, "the live key is the decrypted one");
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(!(r.stdout + r.stderr).includes(keyPem.split("\n")[1] ?? "-"), "no line of the key in the output");
    const served = await httpsGet(tlsPort, "/");
    assert.deepEqual({ status: served.status, body: served.body }, { status: 200, body: "tls ok\n" });
    assert.equal(served.fingerprint, new X509Certificate(certPem).fingerprint256, "nginx serves our certificate");
  });
});
