/**
 * What a credential looks like, by its value and by the name of the field that holds it. The
 * secret check warns about such values committed in clear; masking hides them wherever gitward
 * shows an object.
 */

/** A kind of credential and the pattern of its values. */
export interface CredentialPattern {
  /** What it is, as a message says it: `a GitHub token`. */
  readonly name: string;
  readonly re: RegExp;
}

/** Patterns of values that are credentials whatever field they sit in. */
export const credentialPatterns: readonly CredentialPattern[] = [
  { name: "a private key", re: /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----/ },
  { name: "an AWS access key id", re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: "a GitHub token", re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
  { name: "a GitLab token", re: /\bglpat-[A-Za-z0-9_-]{20,}\b/ },
  { name: "a Slack token", re: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { name: "a Google API key", re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: "a Stripe secret key", re: /\b[sr]k_live_[0-9A-Za-z]{20,}\b/ },
  // gitward's own API tokens: gw_ and 32 random bytes in base64url.
  { name: "a gitward API token", re: /\bgw_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/ },
  { name: "a JSON Web Token", re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  { name: "a password in a URL", re: /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]{3,}@/i },
];

/** The pattern a value matches, or undefined; values shorter than 16 characters match none. */
export function credentialPatternOf(value: string): CredentialPattern | undefined {
  return value.length >= 16 ? credentialPatterns.find((p) => p.re.test(value)) : undefined;
}

/** True when a string looks like a private key or token, wherever it appears. */
export function looksLikeCredential(value: string): boolean {
  return credentialPatternOf(value) !== undefined;
}

// The last word of the name decides: `DB_PASSWORD` and `apiToken` hold credentials, while
// `secretName`, `tokenTTL` and `passwordFile` name or describe one.
const credentialWords = new Set(["password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey", "credential"]);
const credentialWordPairs = new Set(["api key", "private key", "access key", "secret key"]);

/**
 * True when a field's name says it holds a credential: its last word (split at `_`, `-`, `.`
 * and camelCase) is password, passwd, passphrase, secret, token, apikey, privatekey or credential,
 * or one of those with an `s`, or its last two are api key, private key, access key or secret key.
 */
export function isCredentialName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== "");
  const last = words.at(-1);
  if (last === undefined) return false;
  return credentialWords.has(last) || credentialWords.has(last.replace(/s$/, "")) || credentialWordPairs.has(words.slice(-2).join(" "));
}
