/**
 * Defence in depth for the store: the engine masks secrets before it records anything, and the
 * store still removes whatever looks like a credential from free text before writing it.
 * Redaction is idempotent and errs on the side of masking too much.
 */

/** What a redacted value is replaced with. */
export const redactedValue = "***";

/** Key names whose values are credentials: `password`, `DB_PASSWORD`, `clientSecret`, `x-api-key`, … */
const credentialName = String.raw`(?:password|passwd|passphrase|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credentials?|authorization)`;
const credentialKey = new RegExp(`${credentialName}$`, "i");
const credentialFlag = new RegExp(`^--?[A-Za-z0-9_.-]*${credentialName}$`, "i");

/** Replaces one match, keeping the groups before the secret. */
type Rule = { readonly re: RegExp; readonly replace: (match: string, ...groups: (string | undefined)[]) => string };

const rules: readonly Rule[] = [
  // A PEM private key, to its END line or, when output was capped, to the end of the text.
  {
    re: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END \1PRIVATE KEY\2-----|$)/g,
    replace: () => redactedValue,
  },
  // Userinfo in a URL: `https://user:pass@host` keeps the user; a long user alone is a token.
  {
    re: /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#@]*)@/gi,
    replace: (_m, scheme = "", user = "") => `${scheme}${user}:${redactedValue}@`,
  },
  {
    re: /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@:]{20,}@/gi,
    replace: (_m, scheme = "") => `${scheme}${redactedValue}@`,
  },
  // `password=x`, `token: x`, `"apiKey": "x"`, `DB_PASSWORD='x y'`, `Authorization: Bearer x`.
  {
    re: new RegExp(
      String.raw`([A-Za-z0-9_.-]*${credentialName})(["']?[ \t]*[:=][ \t]*)((?:bearer|basic|digest|token|negotiate)[ \t]+)?(?:"([^"\r\n]*)"|'([^'\r\n]*)'|([^\s"',;&]+))`,
      "gi",
    ),
    replace: (_m, key = "", sep = "", scheme = "", dq, sq) =>
      `${key}${sep}${scheme}${dq !== undefined ? `"${redactedValue}"` : sq !== undefined ? `'${redactedValue}'` : redactedValue}`,
  },
  { re: /\b(Bearer)[ \t]+[A-Za-z0-9._~+/=-]{8,}/g, replace: (_m, word = "") => `${word} ${redactedValue}` },
  // Tokens recognisable by their shape, wherever they appear.
  { re: /\bgh[pousr]_[A-Za-z0-9]{36,}/g, replace: () => redactedValue },
  { re: /\bgithub_pat_[A-Za-z0-9_]{22,}/g, replace: () => redactedValue },
  { re: /\bgl(?:pat|ptt|dt|rt|cbt|soat)-[A-Za-z0-9_-]{20,}/g, replace: () => redactedValue },
  // gitward's own API tokens (gw_ and 32 bytes in base64url).
  { re: /\bgw_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, replace: () => redactedValue },
  { re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, replace: () => redactedValue },
  { re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, replace: () => redactedValue },
  { re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, replace: () => redactedValue },
];

/**
 * Masks credentials in free text: `key=value` and `key: value` pairs whose key names a
 * credential, `Authorization` headers and bearer tokens, passwords in URLs, PEM private keys,
 * and gitward, GitHub, GitLab, AWS, Slack and JWT tokens.
 */
export function redact(text: string): string {
  let out = text;
  for (const rule of rules) {
    out = out.replace(rule.re, (match: string, ...rest: unknown[]) => {
      const groups = rest.slice(0, -2).map((g) => (typeof g === "string" ? g : undefined));
      return rule.replace(match, ...groups);
    });
  }
  return out;
}

/** Masks credentials in a command line: each argument, and the argument after a flag such as `--password` or `--token`. */
export function redactArgs(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    const prev = i > 0 ? argv[i - 1] : undefined;
    if (prev !== undefined && credentialFlag.test(prev)) return redactedValue;
    return redact(arg);
  });
}

/** True for a key whose value is a credential, whatever the value looks like. */
export function isCredentialKey(key: string): boolean {
  return credentialKey.test(key);
}

/**
 * Masks credentials in JSON-like data: every string is passed through {@link redact}, and the
 * value under a credential-named key (`password`, `accessToken`, `clientSecret`) becomes `***`
 * whatever it is. Other values are returned as they are.
 */
export function redactJson(value: unknown): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map(redactJson);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = v !== null && v !== undefined && isCredentialKey(k) ? redactedValue : redactJson(v);
    }
    return out;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Secret values shorter than this are not masked by value: a 4-character password would mask
 * every word that contains it. Patterns still apply to them.
 */
export const minSecretValueLength = 6;

/** The runner's own secret values (its API token, webhook secrets, credentials it read), ready for {@link redactValues}. */
export interface SecretValues {
  /** Distinct, at least {@link minSecretValueLength} characters, longest first (so a secret containing another is masked whole). */
  readonly values: readonly string[];
}

/** Builds {@link SecretValues} from what the runner read: absent, empty and too-short values are dropped. */
export function secretValues(values: Iterable<string | undefined>): SecretValues {
  const kept = new Set<string>();
  for (const v of values) if (v !== undefined && v.length >= minSecretValueLength) kept.add(v);
  return { values: [...kept].sort((a, b) => b.length - a.length) };
}

/** Replaces every occurrence of each secret value in `text` with {@link redactedValue}. */
export function redactValues(text: string, secrets: SecretValues): string {
  let out = text;
  for (const v of secrets.values) if (out.includes(v)) out = out.split(v).join(redactedValue);
  return out;
}

/**
 * A copy of JSON-like data with the secret values masked in every string (object keys
 * included); other values are kept as they are.
 */
export function redactValuesDeep<T>(value: T, secrets: SecretValues): T {
  if (secrets.values.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return redactValues(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [redactValues(k, secrets), walk(x)]));
    return v;
  };
  return walk(value) as T;
}
