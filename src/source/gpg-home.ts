import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandResult, CommandRunner } from "../core/command-runner.ts";
import { CommandStartError } from "../core/command-runner.ts";
import { GitwardError } from "../core/errors.ts";

/**
 * Runs `fn` with a private GNUPGHOME holding only the keys of `keyringFile`, each
 * marked ultimately trusted: being in the file is what makes a key trusted. The
 * home is removed afterwards, whatever happens.
 */
export async function withKeyring<T>(
  runner: CommandRunner,
  keyringFile: string,
  signal: AbortSignal | undefined,
  fn: (home: string) => Promise<T>,
): Promise<T> {
  const home = await mkdtemp(join(tmpdir(), "gitward-gpg-"));
  try {
    await chmod(home, 0o700);
    await importKeyring(runner, home, keyringFile, signal);
    return await fn(home);
  } finally {
    await gpg(runner, "gpgconf", ["--homedir", home, "--kill", "gpg-agent"], undefined).catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
}

async function importKeyring(runner: CommandRunner, home: string, keyringFile: string, signal?: AbortSignal): Promise<void> {
  // --no-autostart: importing public keys needs no agent, and one left running would outlive the home.
  const base = ["--batch", "--no-tty", "--no-autostart", "--homedir", home];
  const imported = await gpg(runner, "gpg", [...base, "--import", keyringFile], signal);
  if (imported.exitCode !== 0) {
    throw new GitwardError("config", `cannot import keyring ${keyringFile}: ${lastLine(imported.stderr)}`, {
      hint: "export the allowed public keys with gpg --export > keyring.gpg",
    });
  }
  const listed = await gpg(runner, "gpg", [...base, "--with-colons", "--list-keys"], signal);
  const fingerprints = primaryFingerprints(listed.stdout.toString("utf8"));
  if (fingerprints.length === 0) {
    throw new GitwardError("config", `keyring ${keyringFile} holds no public keys`);
  }
  const input = fingerprints.map((fpr) => `${fpr}:6:\n`).join("");
  const trusted = await gpg(runner, "gpg", [...base, "--import-ownertrust"], signal, input);
  if (trusted.exitCode !== 0) {
    throw new GitwardError("signature", `cannot trust the keys of ${keyringFile}: ${lastLine(trusted.stderr)}`);
  }
}

/** The fingerprint of each primary key: the `fpr` record right after a `pub` record. */
function primaryFingerprints(colons: string): string[] {
  const out: string[] = [];
  let afterPub = false;
  for (const line of colons.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === "fpr" && afterPub && fields[9] !== undefined) out.push(fields[9]);
    afterPub = fields[0] === "pub";
  }
  return out;
}

async function gpg(
  runner: CommandRunner,
  command: string,
  args: string[],
  signal: AbortSignal | undefined,
  input?: string,
): Promise<CommandResult> {
  try {
    return await runner.run({
      command,
      args,
      timeoutMs: 30_000,
      ...(signal === undefined ? {} : { signal }),
      ...(input === undefined ? {} : { input }),
    });
  } catch (error: unknown) {
    if (error instanceof CommandStartError) {
      throw new GitwardError("tool", `cannot run ${command}`, { cause: error, hint: "install GnuPG to verify GPG signatures" });
    }
    throw error;
  }
}

function lastLine(text: string): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines.at(-1)?.replace(/^gpg:\s*/, "") ?? "gpg failed";
}
