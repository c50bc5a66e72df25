import type { JsonValue } from "../core/object.ts";

/**
 * The contract of gitward's SOPS support (issue 16). `src/sops/` reads files the real `sops`
 * tool wrote and decrypts them with the runner's keys; the engine decrypts rendered objects
 * through {@link SopsDecryptor} right before they reach a target, and nowhere else.
 */

/** The file formats SOPS writes. `binary` is a JSON document `{data, sops}` holding the whole file. */
export type SopsFormat = "yaml" | "json" | "dotenv" | "ini" | "binary";

/** One recipient a file's data key is encrypted for. PGP ids are upper-case fingerprints. */
export interface SopsRecipient {
  readonly kind: "age" | "pgp";
  readonly id: string;
}

/** Why SOPS data could not be decrypted; every message names no plaintext and no key material. */
export type SopsErrorKind =
  /** None of the runner's keys is one of the file's recipients. */
  | "no-key"
  /** The values or the metadata were changed without the key (MAC differs, a GCM tag fails). */
  | "tampered"
  /** The metadata has no MAC: sops itself refuses such a file. */
  | "no-mac"
  /** Not a SOPS document, or its metadata or an ENC[...] value is malformed. */
  | "malformed"
  /** Encrypted only for a key service gitward cannot reach (KMS, Vault), or a Shamir threshold above 1. */
  | "unsupported";

/** An error decrypting SOPS data. The engine adds the file, line and object. */
export class SopsError extends Error {
  readonly kind: SopsErrorKind;
  /** For `no-key`: what the file was encrypted for. */
  readonly recipients: readonly SopsRecipient[];
  constructor(kind: SopsErrorKind, message: string, recipients: readonly SopsRecipient[] = []) {
    super(message);
    this.name = "SopsError";
    this.kind = kind;
    this.recipients = recipients;
  }
}

/** Where a runner's private keys come from. Never from Git. */
export interface KeySources {
  /** age identity files (`SOPS_AGE_KEY_FILE`, the agent's `decryption.<env>.ageKeyFile`). */
  readonly ageKeyFiles: readonly string[];
  /** age identities given inline (`SOPS_AGE_KEY`): `AGE-SECRET-KEY-1…` lines, `#` comments allowed. */
  readonly ageKeys: readonly string[];
  /** Armored or binary OpenPGP secret key files (the agent's `decryption.<env>.pgpKeyFile`). */
  readonly pgpKeyFiles: readonly string[];
  /**
   * Use the GnuPG keyring through the `gpg` binary, as sops does: its home is GNUPGHOME (or
   * this directory when set). False: never run gpg.
   */
  readonly gpg: boolean | { readonly home: string };
}

/** The runner's private keys, loaded once; data keys are cached by the metadata entry that holds them. */
export interface SopsKeyring {
  /**
   * The file's 32-byte data key, from the first of its recipients (top level or a Shamir key
   * group of threshold 1) that a key here opens: age first, then PGP, as sops tries them.
   * Throws a `no-key` {@link SopsError} naming every recipient when none does.
   */
  dataKey(metadata: Readonly<Record<string, JsonValue>>): Promise<Buffer>;
  /** True when no key at all was loaded. */
  readonly empty: boolean;
  /** Where the keys came from, for error messages (paths and counts, never key material). */
  describe(): string;
}

/** A SOPS tree (a YAML or JSON document, or a Kubernetes object) decrypted and verified. */
export interface DecryptedTree {
  /** The document without its `sops` section, every encrypted value in clear, in key order. */
  readonly tree: { [key: string]: JsonValue };
  /** The data key that decrypted it (for values the same key encrypted elsewhere, e.g. after a kustomize patch). */
  readonly dataKey: Buffer;
  /** Upper-case hex SHA-512 MAC of the plaintext values, as sops computes it (equal MACs: equal values). */
  readonly mac: string;
  /** Every value that was encrypted, as text: what masks must hide. */
  readonly secrets: readonly string[];
}

/** A SOPS file decrypted to its plaintext bytes, in its own format (binary: the original bytes). */
export interface DecryptedFile {
  readonly plaintext: Buffer;
  readonly mac: string;
  readonly secrets: readonly string[];
}
