import { keySourcesFromEnv } from "../sops/key-sources.ts";
import type { KeySources, SopsKeyring } from "../sops/types.ts";

/** The keys one environment decrypts with, as the agent configuration names them (`decryption.<env>`). */
export interface EnvironmentKeys {
  readonly ageKeyFile?: string | undefined;
  readonly pgpKeyFile?: string | undefined;
  /** A GnuPG home whose keyring holds the PGP keys (default: none, unless no file is given and GNUPGHOME applies). */
  readonly gnupgHome?: string | undefined;
}

/** Options of {@link SecretKeys}. */
export interface SecretKeysOptions {
  /** Keys per environment (the agent's `decryption`); an environment named here uses only these. */
  readonly environments?: Readonly<Record<string, EnvironmentKeys>>;
  /** The process environment for the sops conventions (`SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY`, GNUPGHOME). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Where each environment's SOPS private keys come from, on the runner's side only: the agent's
 * `decryption.<env>` when it names the environment, else the sops conventions of the process
 * environment. Keyrings are loaded on first need and kept, so data keys are decrypted once per
 * file and process.
 */
export class SecretKeys {
  readonly #o: SecretKeysOptions;
  readonly #keyrings = new Map<string, Promise<SopsKeyring>>();

  constructor(opts: SecretKeysOptions = {}) {
    this.#o = opts;
  }

  /** The environment's keyring. A key file that cannot be read fails here, naming the file. */
  keyring(environment: string): Promise<SopsKeyring> {
    const sources = this.sources(environment);
    const id = JSON.stringify(sources);
    const known = this.#keyrings.get(id);
    if (known !== undefined) return known;
    // Loaded on first need: a runner without SOPS files never loads the age and OpenPGP code.
    const keyring = import("../sops/keyring.ts").then((m) => m.loadKeyring(sources));
    // A failed load is tried again next time (the file may be mounted later).
    keyring.catch(() => this.#keyrings.delete(id));
    this.#keyrings.set(id, keyring);
    return keyring;
  }

  /** Where keys for `environment` are looked for, for error messages (names only, never values). */
  hint(environment: string): string {
    const own = this.#o.environments?.[environment];
    if (own !== undefined) return `the agent configuration's decryption.${environment} (ageKeyFile, pgpKeyFile, gnupgHome)`;
    return `SOPS_AGE_KEY_FILE, SOPS_AGE_KEY or a GnuPG keyring (GNUPGHOME) in the runner's environment, or the agent configuration's decryption.${environment}.ageKeyFile`;
  }

  /** The key sources of an environment. */
  sources(environment: string): KeySources {
    const own = this.#o.environments?.[environment];
    if (own === undefined) return keySourcesFromEnv(this.#o.env ?? process.env);
    return {
      ageKeyFiles: own.ageKeyFile === undefined ? [] : [own.ageKeyFile],
      ageKeys: [],
      pgpKeyFiles: own.pgpKeyFile === undefined ? [] : [own.pgpKeyFile],
      gpg: own.gnupgHome === undefined ? false : { home: own.gnupgHome },
    };
  }
}
