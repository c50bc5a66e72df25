import { readFile } from "node:fs/promises";
import { armor, Decrypter, identityToRecipient } from "age-encryption";
import type * as OpenPgp from "openpgp";
import type { JsonValue } from "../core/object.ts";
import { ProcessRunner, type CommandRunner } from "../core/command-runner.ts";
import { formatRecipients, parseMetadata, recipientsOf, type WrappedKey } from "./metadata.ts";
import { SopsError, type KeySources, type SopsKeyring } from "./types.ts";

/** Options for {@link loadKeyring}; the defaults run gpg as a child process. */
export interface KeyringOptions {
  /** How `gpg` is run (tests pass a fake). Default: a {@link ProcessRunner}. */
  readonly runner?: CommandRunner;
  /** Milliseconds one gpg decryption may take. Default 30 000. */
  readonly gpgTimeoutMs?: number;
}

export { keySourcesFromEnv } from "./key-sources.ts";

/**
 * Loads the runner's private keys once: age identities (X25519 and post-quantum hybrid) from files
 * and inline text, OpenPGP secret key files, and optionally the GnuPG keyring through `gpg`.
 * Throws a plain Error naming the file (never its content) when a key file is missing or unreadable.
 */
export async function loadKeyring(sources: KeySources, options: KeyringOptions = {}): Promise<SopsKeyring> {
  const age = new Map<string, Decrypter>();
  for (const path of sources.ageKeyFiles) await addAgeIdentities(age, await readKeyFile(path, "utf8"), `age key file ${path}`);
  for (const [i, text] of sources.ageKeys.entries()) await addAgeIdentities(age, text, `inline age key #${i + 1}`);
  const pgpKeys: OpenPgp.PrivateKey[] = [];
  for (const path of sources.pgpKeyFiles) pgpKeys.push(...await readPgpKeys(path));
  const gpgHome = typeof sources.gpg === "object" ? sources.gpg.home : undefined;
  const useGpg = sources.gpg !== false;
  const runner = options.runner ?? new ProcessRunner();
  const timeoutMs = options.gpgTimeoutMs ?? 30_000;
  const cache = new Map<string, Promise<Buffer | undefined>>();

  const unwrap = async (key: WrappedKey): Promise<Buffer | undefined> => {
    if (key.kind === "age") {
      const decrypter = age.get(key.id);
      if (decrypter === undefined) return undefined;
      return acceptKey(await decrypter.decrypt(armor.decode(key.enc)).catch(() => undefined));
    }
    if (pgpKeys.length > 0) {
      const viaFile = await pgpDecrypt(key.enc, pgpKeys);
      if (viaFile !== undefined) return viaFile;
    }
    if (!useGpg) return undefined;
    const result = await runner.run({
      command: "gpg",
      args: ["--batch", "--quiet", "--no-tty", "--decrypt"],
      input: key.enc,
      timeoutMs,
      maxStdoutBytes: 4096,
      ...(gpgHome === undefined ? {} : { env: { GNUPGHOME: gpgHome } }),
    }).catch(() => undefined);
    return result === undefined || result.exitCode !== 0 ? undefined : acceptKey(result.stdout);
  };
  const cached = (key: WrappedKey): Promise<Buffer | undefined> => {
    let hit = cache.get(key.enc);
    if (hit === undefined) {
      hit = unwrap(key).catch(() => undefined);
      cache.set(key.enc, hit);
    }
    return hit;
  };

  const describe = (): string => [
    `${age.size} age identit${age.size === 1 ? "y" : "ies"}`,
    `${pgpKeys.length} OpenPGP key${pgpKeys.length === 1 ? "" : "s"} from ${sources.pgpKeyFiles.length} file(s)`,
    useGpg ? `the GnuPG keyring${gpgHome === undefined ? "" : ` in ${gpgHome}`}` : "no GnuPG keyring",
  ].join(", ");
  return {
    empty: age.size === 0 && pgpKeys.length === 0 && !useGpg,
    describe,
    async dataKey(metadata: Readonly<Record<string, JsonValue>>): Promise<Buffer> {
      const meta = parseMetadata(metadata);
      const recipients = recipientsOf(meta);
      if (meta.groups.length > 1) {
        throw new SopsError("unsupported", `the data key is split with Shamir over ${meta.groups.length} key groups (threshold ${meta.shamirThreshold || meta.groups.length}); gitward decrypts only single-group files`, recipients);
      }
      const group = meta.groups[0];
      if (group === undefined || group.keys.length === 0) {
        const services = group?.unsupported.join(", ") ?? "";
        throw new SopsError(services === "" ? "malformed" : "unsupported", services === ""
          ? "the sops metadata names no key that can decrypt the data key"
          : `the data key is encrypted only for key services gitward cannot reach (${services})`);
      }
      // age first, then PGP, as sops' default decryption order.
      const ordered = [...group.keys.filter((k) => k.kind === "age"), ...group.keys.filter((k) => k.kind === "pgp")];
      for (const key of ordered) {
        const dataKey = await cached(key);
        if (dataKey !== undefined) return dataKey;
      }
      throw new SopsError("no-key", `none of the runner's keys (${describe()}) opens the data key; the file is encrypted for ${formatRecipients(recipients)}`, recipients);
    },
  };
}

/** A data key is 32 bytes; anything else is not one (a wrong or corrupt wrapping). */
function acceptKey(bytes: Uint8Array | undefined): Buffer | undefined {
  return bytes !== undefined && bytes.length === 32 ? Buffer.from(bytes) : undefined;
}

async function readKeyFile(path: string, encoding: "utf8"): Promise<string>;
async function readKeyFile(path: string): Promise<Buffer>;
async function readKeyFile(path: string, encoding?: "utf8"): Promise<string | Buffer> {
  try {
    return encoding === undefined ? await readFile(path) : await readFile(path, encoding);
  } catch (e: unknown) {
    const code = (e as NodeJS.ErrnoException).code ?? "unreadable";
    throw new Error(`cannot read key file ${path}: ${code}`);
  }
}

// One Decrypter per identity, keyed by its recipient, so a file is only tried with the identity it names.
async function addAgeIdentities(into: Map<string, Decrypter>, text: string, where: string): Promise<void> {
  for (const [i, rawLine] of text.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (!line.startsWith("AGE-SECRET-KEY-")) throw new Error(`${where}, line ${i + 1}: not an age identity (AGE-SECRET-KEY-…)`);
    let recipient: string;
    const decrypter = new Decrypter();
    try {
      recipient = await identityToRecipient(line);
      decrypter.addIdentity(line);
    } catch {
      throw new Error(`${where}, line ${i + 1}: malformed age identity`);
    }
    into.set(recipient, decrypter);
  }
}

// OpenPGP.js takes ~150 ms to load: only runners given a PGP key file pay for it.
const loadOpenPgp = (): Promise<typeof OpenPgp> => import("openpgp");

async function readPgpKeys(path: string): Promise<OpenPgp.PrivateKey[]> {
  const openpgp = await loadOpenPgp();
  const bytes = await readKeyFile(path);
  const text = bytes.toString("latin1");
  let keys: OpenPgp.PrivateKey[];
  try {
    keys = text.includes("-----BEGIN PGP PRIVATE KEY BLOCK-----")
      ? await openpgp.readPrivateKeys({ armoredKeys: bytes.toString("utf8") })
      : await openpgp.readPrivateKeys({ binaryKeys: new Uint8Array(bytes) });
  } catch {
    throw new Error(`PGP key file ${path}: not an OpenPGP secret key`);
  }
  for (const key of keys) {
    if (!key.isDecrypted()) throw new Error(`PGP key file ${path}: key ${key.getFingerprint().toUpperCase()} is protected by a passphrase, which gitward cannot use`);
  }
  return keys;
}

async function pgpDecrypt(armored: string, keys: OpenPgp.PrivateKey[]): Promise<Buffer | undefined> {
  const openpgp = await loadOpenPgp();
  try {
    const message = await openpgp.readMessage({ armoredMessage: armored });
    const result: { data: Uint8Array } = await openpgp.decrypt({ message, decryptionKeys: keys, format: "binary" });
    return acceptKey(result.data);
  } catch {
    return undefined;
  }
}
