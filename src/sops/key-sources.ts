import type { KeySources } from "./types.ts";

/**
 * The key sources sops itself reads from the environment: `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY`,
 * and the GnuPG keyring (GNUPGHOME, else gpg's default home).
 */
export function keySourcesFromEnv(env: NodeJS.ProcessEnv): KeySources {
  const file = env["SOPS_AGE_KEY_FILE"];
  const inline = env["SOPS_AGE_KEY"];
  const home = env["GNUPGHOME"];
  return {
    ageKeyFiles: file === undefined || file === "" ? [] : [file],
    ageKeys: inline === undefined || inline === "" ? [] : [inline],
    pgpKeyFiles: [],
    gpg: home === undefined || home === "" ? true : { home },
  };
}
