import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { AgentConfig } from "./config.ts";
import type { HttpSettings } from "./listen.ts";
import type { HeadVerification } from "./repo-watch.ts";

/**
 * The head verification the agent configuration asks for: the trusted keys (an SSH allowed
 * signers file or a GPG keyring) and the environments that require a trusted signature.
 * Refuses a requirement without keys, and keys that cannot be read, before the agent starts.
 */
export async function headVerification(v: AgentConfig["verification"]): Promise<HeadVerification | undefined> {
  const file = v.allowedSigners ?? v.gpgKeyring;
  if (file === undefined) {
    if (v.requireSignedCommits.length === 0) return undefined;
    throw new GitwardError(ErrorCode.Config, `verification.requireSignedCommits names ${v.requireSignedCommits.join(", ")}, and no trusted keys are given`, {
      hint: "set verification.allowedSigners (SSH) or verification.gpgKeyring (GPG) in the agent configuration, or pass --allowed-signers or --gpg-keyring",
    });
  }
  const path = resolve(file);
  await readFile(path).catch((e: unknown) => {
    throw new GitwardError(ErrorCode.Config, `the trusted keys file ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  });
  const keys = v.allowedSigners !== undefined ? { format: "ssh" as const, allowedSignersFile: path } : { format: "gpg" as const, keyringFile: path };
  return { keys, required: v.requireSignedCommits };
}

/** The HTTP settings of the agent configuration, with the TLS certificate and key read. */
export async function httpSettings(h: AgentConfig["http"]): Promise<HttpSettings> {
  const read = (what: string, path: string): Promise<Buffer> => readFile(path).catch((e: unknown) => {
    throw new GitwardError(ErrorCode.Config, `http.tls.${what} ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  });
  return {
    maxConnections: h.maxConnections, idleTimeoutMs: h.idleTimeout * 1000, headersTimeoutMs: h.headersTimeout * 1000, requestTimeoutMs: h.requestTimeout * 1000,
    ...(h.tls === undefined ? {} : { tls: { cert: await read("cert", h.tls.cert), key: await read("key", h.tls.key) } }),
  };
}
