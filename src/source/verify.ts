import { access } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import { GitwardError } from "../core/errors.ts";
import type { Commit, SignatureVerification, VerifiedCommit } from "./types.ts";
import type { GitRepo } from "./git-command.ts";
import { shortSha } from "./git-command.ts";
import { withKeyring } from "./gpg-home.ts";

/** The kind of signature a commit object carries. */
type SignatureKind = "none" | "ssh" | "gpg" | "x509";

/** What git verifies with: `-c` options and environment. */
interface Verifier {
  readonly config: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** Why %G? codes other than G fail, for the message. */
const failures: Readonly<Record<string, string>> = {
  B: "bad signature",
  X: "expired signature",
  Y: "expired key",
  R: "revoked key",
};

/**
 * Verifies a commit's signature with `git verify-commit`: SSH against an allowed
 * signers file, GPG against a keyring imported into a private, temporary GNUPGHOME.
 * Throws a `signature` error when the commit is unsigned or its signer not allowed.
 */
export async function verifyCommit(
  repo: GitRepo,
  commit: Commit,
  how: SignatureVerification,
  signal?: AbortSignal,
): Promise<VerifiedCommit> {
  const short = shortSha(commit.sha);
  const kind = await signatureKind(repo, commit.sha, signal);
  if (kind === "none") {
    throw new GitwardError("signature", `commit ${short} is not signed`, {
      hint: `sign commits with ${how.format === "ssh" ? "an SSH key (gpg.format=ssh)" : "a GPG key"}`,
    });
  }
  // Verifying another kind would use the machine's own keys or signers, not the ones given.
  if (kind !== how.format) {
    throw new GitwardError("signature", `commit ${short} has an untrusted signature (${kind} signature, expected ${how.format})`);
  }
  if (how.format === "ssh") {
    const file = await existingFile(how.allowedSignersFile, "allowed signers file");
    const config = ["-c", "gpg.format=ssh", "-c", `gpg.ssh.allowedSignersFile=${file}`];
    return check(repo, commit, "ssh", { config, env: {} }, signal);
  }
  const keyring = await existingFile(how.keyringFile, "keyring file");
  return withKeyring(repo.runner, keyring, signal, (home) =>
    check(repo, commit, "gpg", { config: ["-c", "gpg.format=openpgp"], env: { GNUPGHOME: home } }, signal),
  );
}

async function check(
  repo: GitRepo,
  commit: Commit,
  format: "ssh" | "gpg",
  verifier: Verifier,
  signal?: AbortSignal,
): Promise<VerifiedCommit> {
  const verified = await repo.run({
    args: [...verifier.config, "verify-commit", "--raw", commit.sha],
    env: verifier.env,
    signal,
  });
  // %G? and friends are git's own parse of the verification; verify-commit's exit code is its verdict.
  const details = await repo.output(
    {
      args: [...verifier.config, "log", "-1", "--no-walk", "--format=%G?%x00%GS%x00%GK%x00%GP%x00%GF", commit.sha, "--"],
      env: verifier.env,
      signal,
    },
    `reading the signature of ${shortSha(commit.sha)}`,
  );
  const [status = "", signer = "", keyId = "", primary = "", fingerprint = ""] = details
    .toString("utf8")
    .replace(/\n$/, "")
    .split("\0");
  const key = primary || fingerprint || keyId || "unknown key";
  if (verified.exitCode !== 0 || status !== "G") {
    const reason = failures[status];
    const detail = `commit ${shortSha(commit.sha)} has an untrusted signature (${key})${reason === undefined ? "" : `: ${reason}`}`;
    throw new GitwardError("signature", detail, {
      hint:
        format === "ssh"
          ? "add the signer's public key to the allowed signers file"
          : "add the signer's public key to the keyring file",
    });
  }
  return { sha: commit.sha, format, signer, key };
}

/** Reads the commit object's headers: an unsigned commit has no `gpgsig`, and its armour tells the kind. */
async function signatureKind(repo: GitRepo, sha: string, signal?: AbortSignal): Promise<SignatureKind> {
  const raw = await repo.output({ args: ["cat-file", "commit", sha], signal }, `reading commit ${shortSha(sha)}`);
  const text = raw.toString("utf8");
  const end = text.indexOf("\n\n");
  const headers = end === -1 ? text : text.slice(0, end);
  const sig = /^gpgsig(?:-sha256)? (.*)$/m.exec(headers);
  if (sig === null) return "none";
  const armour = sig[1] ?? "";
  if (armour.includes("BEGIN SSH SIGNATURE")) return "ssh";
  if (armour.includes("BEGIN PGP SIGNATURE")) return "gpg";
  return "x509";
}

async function existingFile(path: string, what: string): Promise<string> {
  const abs = resolvePath(path);
  try {
    await access(abs);
  } catch (error: unknown) {
    throw new GitwardError("config", `${what} ${abs} cannot be read`, { cause: error });
  }
  return abs;
}
