import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isGitwardError } from "../../src/core/errors.ts";
import type { GitSource, SignatureVerification } from "../../src/source/index.ts";
import { openSource } from "../../src/source/index.ts";
import type { TestRepo } from "../support/repo.ts";
import { gitTestEnv, makeRepo } from "../support/repo.ts";

function signatureError(pattern: RegExp): (e: unknown) => boolean {
  return (e) => isGitwardError(e) && e.code === "signature" && pattern.test(e.message);
}

/** A GPG key in its own GNUPGHOME, made without prompts. */
function makeGpgKey(dir: string, name: string): { home: string; fingerprint: string; publicKeyFile: string } {
  const home = mkdtempSync(join(dir, `gpg-${name}-`));
  const gpg = (...args: string[]): string =>
    execFileSync("gpg", ["--batch", "--homedir", home, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  gpg("--passphrase", "", "--quick-gen-key", `${name} <${name}@example.com>`, "ed25519", "sign", "never");
  const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(gpg("--with-colons", "--list-keys"))?.[1] ?? "";
  const publicKeyFile = join(dir, `${name}.asc`);
  writeFileSync(publicKeyFile, gpg("--armor", "--export", fingerprint));
  return { home, fingerprint, publicKeyFile };
}

describe("signature verification", () => {
  let temp: string;
  let repo: TestRepo;
  let source: GitSource;
  const gpgHomes: string[] = [];
  const shas: Record<string, string> = {};
  let ssh: SignatureVerification;
  let gpg: SignatureVerification;
  let gpgFingerprint: string;
  let sshKeyFingerprint: string;

  const commitSigned = (name: string, config: string[], env: Record<string, string> = {}): void => {
    execFileSync("git", [...config, "commit", "-q", "--allow-empty", "-S", "-m", name], {
      cwd: repo.dir,
      env: { ...process.env, ...gitTestEnv, ...env },
    });
    shas[name] = repo.git("rev-parse", "HEAD");
  };

  before(async () => {
    temp = mkdtempSync(join(tmpdir(), "gitward-sig-"));
    repo = makeRepo();
    shas["unsigned"] = repo.commit({ "a.txt": "a" }, "unsigned");
    for (const key of ["good", "other"]) {
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", key, "-f", join(temp, key)]);
    }
    const allowed = join(temp, "allowed_signers");
    writeFileSync(allowed, `committer@example.com ${readFileSync(join(temp, "good.pub"), "utf8")}`);
    ssh = { format: "ssh", allowedSignersFile: allowed };
    sshKeyFingerprint = execFileSync("ssh-keygen", ["-l", "-f", join(temp, "good.pub")], { encoding: "utf8" }).split(" ")[1] ?? "";
    for (const key of ["good", "other"]) {
      commitSigned(`ssh-${key}`, ["-c", "gpg.format=ssh", "-c", `user.signingkey=${join(temp, key)}`]);
    }

    const good = makeGpgKey(temp, "good");
    const other = makeGpgKey(temp, "other");
    gpgHomes.push(good.home, other.home);
    gpg = { format: "gpg", keyringFile: good.publicKeyFile };
    gpgFingerprint = good.fingerprint;
    for (const [name, key] of [["gpg-good", good], ["gpg-other", other]] as const) {
      commitSigned(name, ["-c", "gpg.format=openpgp", "-c", `user.signingkey=${key.fingerprint}`], { GNUPGHOME: key.home });
    }
    source = await openSource(repo.dir, { cacheDir: temp });
  });
  after(async () => {
    await source.close();
    for (const home of gpgHomes) {
      execFileSync("gpgconf", ["--homedir", home, "--kill", "gpg-agent"]);
    }
    repo.remove();
    rmSync(temp, { recursive: true, force: true });
  });

  const verify = async (name: string, how: SignatureVerification) => source.verify(await source.resolve(shas[name] ?? ""), how);

  it("accepts an SSH signature from an allowed signer", async () => {
    const verified = await verify("ssh-good", ssh);
    assert.deepEqual(verified, { sha: shas["ssh-good"], format: "ssh", signer: "committer@example.com", key: sshKeyFingerprint });
  });

  it("refuses an unsigned commit", async () => {
    const short = (shas["unsigned"] ?? "").slice(0, 7);
    await assert.rejects(verify("unsigned", ssh), signatureError(new RegExp(`^commit ${short} is not signed$`)));
    await assert.rejects(verify("unsigned", gpg), signatureError(/is not signed/));
  });

  it("refuses an SSH signature from a key not allowed", async () => {
    const short = (shas["ssh-other"] ?? "").slice(0, 7);
    await assert.rejects(verify("ssh-other", ssh), signatureError(new RegExp(`^commit ${short} has an untrusted signature \\(SHA256:`)));
  });

  it("accepts a GPG signature from a key in the keyring", async () => {
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith("gitward-gpg-")).length;
    const verified = await verify("gpg-good", gpg);
    assert.equal(verified.format, "gpg");
    assert.equal(verified.signer, "good <good@example.com>");
    assert.equal(verified.key, gpgFingerprint);
    const left = readdirSync(tmpdir()).filter((n) => n.startsWith("gitward-gpg-")).length;
    assert.equal(left, before, "the temporary GNUPGHOME is removed");
  });

  it("refuses a GPG signature from another key", async () => {
    await assert.rejects(verify("gpg-other", gpg), signatureError(/has an untrusted signature \([0-9A-F]{16,}\)/));
  });

  it("refuses a signature of the other format", async () => {
    await assert.rejects(verify("gpg-good", ssh), signatureError(/untrusted signature \(gpg signature, expected ssh\)/));
    await assert.rejects(verify("ssh-good", gpg), signatureError(/untrusted signature \(ssh signature, expected gpg\)/));
  });

  it("reports a missing allowed signers file as configuration", async () => {
    await assert.rejects(
      verify("ssh-good", { format: "ssh", allowedSignersFile: join(temp, "absent") }),
      (e: unknown) => isGitwardError(e) && e.code === "config",
    );
  });
});
