import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { armor, Encrypter, generateIdentity, identityToRecipient } from "age-encryption";
import { stringify } from "yaml";

/**
 * A TEST-ONLY SOPS encryptor: it writes files in the format the `sops` tool writes (YAML with a
 * `sops:` map, dotenv, binary), for fixtures whose plaintext a test must choose. Files that must
 * look like the real tool's output come from `test/fixtures/sops/` instead. Format facts (from
 * sops' `sops.go`, `aes/cipher.go`, `age/keysource.go`, `stores/dotenv/store.go`): each value is
 * AES-256-GCM with a fresh 32-byte IV and AAD = the map keys on its path joined by `:` plus a
 * trailing `:` (list indices are not part of it); the MAC is SHA-512 over every non-null leaf in
 * document order, upper-case hex, itself encrypted with AAD = `lastmodified`; the 32-byte data key
 * is age-encrypted for each recipient and ASCII-armored.
 */

/** A JSON-like value a test document holds. */
export type PlainValue = string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };

/** A test age key pair. */
export interface AgeTestKey {
  /** `AGE-SECRET-KEY-1…`. */
  readonly identity: string;
  /** `age1…`. */
  readonly recipient: string;
  /** The identity as a `SOPS_AGE_KEY_FILE` file's content. */
  readonly keyFile: string;
}

/** Which values are encrypted, and for whom. */
export interface SopsEncryptOptions {
  /** age recipients (`age1…`) the data key is encrypted for; at least one. */
  readonly recipients: readonly string[];
  /** sops' `--encrypted-regex`: only values under a key matching it are encrypted. */
  readonly encryptedRegex?: string;
  /** sops' `--unencrypted-suffix` (default `_unencrypted` when no regex is given). */
  readonly unencryptedSuffix?: string;
  /** The data key (default: 32 random bytes, a distinct key per file as sops does). */
  readonly dataKey?: Buffer;
  /** RFC 3339 without fractional seconds (default: now). */
  readonly lastModified?: string;
}

/** A fresh age X25519 key pair for a test. */
export async function makeAgeKey(): Promise<AgeTestKey> {
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  return { identity, recipient, keyFile: `# public key: ${recipient}\n${identity}\n` };
}

/** Encrypts one value as sops' AES-GCM cipher does: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`. */
export function encryptValue(value: string | number | boolean, key: Buffer, aad: string): string {
  const type = typeof value === "boolean" ? "bool" : typeof value === "number" ? (Number.isInteger(value) ? "int" : "float") : "str";
  const iv = randomBytes(32);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const data = Buffer.concat([cipher.update(macBytes(value)), cipher.final()]);
  return `ENC[AES256_GCM,data:${data.toString("base64")},iv:${iv.toString("base64")},tag:${cipher.getAuthTag().toString("base64")},type:${type}]`;
}

// sops' ToBytes: booleans Titlecase, numbers in Go's shortest form (integers only here, and
// plain JS decimals, which tests keep short enough not to need an exponent).
function macBytes(value: string | number | boolean): Buffer {
  if (typeof value === "boolean") return Buffer.from(value ? "True" : "False");
  return Buffer.from(String(value), "utf8");
}

interface Encrypted {
  readonly tree: { [key: string]: PlainValue };
  readonly sops: { [key: string]: PlainValue };
}

/**
 * Encrypts a document's values (not its `sops` key, which it must not have) and returns the
 * encrypted tree and the `sops` metadata map, in the key order sops writes.
 */
export async function encryptTree(doc: { readonly [key: string]: PlainValue }, opts: SopsEncryptOptions): Promise<Encrypted> {
  if (opts.recipients.length === 0) throw new Error("encryptTree: at least one age recipient is needed");
  const key = opts.dataKey ?? randomBytes(32);
  const regex = opts.encryptedRegex === undefined ? undefined : new RegExp(opts.encryptedRegex);
  const suffix = opts.unencryptedSuffix ?? (regex === undefined ? "_unencrypted" : undefined);
  const encrypted = (path: readonly string[]): boolean => {
    if (suffix !== undefined && path.some((k) => k.endsWith(suffix))) return false;
    if (regex !== undefined) return path.some((k) => regex.test(k));
    return true;
  };
  const hash = createHash("sha512");
  const walk = (v: PlainValue, path: readonly string[]): PlainValue => {
    if (v === null) return null;
    if (Array.isArray(v)) return v.map((x) => walk(x, path));
    if (typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]));
    hash.update(macBytes(v));
    if (!encrypted(path) || v === "") return v;
    return encryptValue(v, key, `${path.join(":")}:`);
  };
  const tree = walk({ ...doc }, []) as { [key: string]: PlainValue };
  const lastModified = opts.lastModified ?? new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const age: PlainValue[] = [];
  for (const recipient of opts.recipients) age.push({ recipient, enc: await wrapKey(key, recipient) });
  const sops: { [key: string]: PlainValue } = {
    age,
    lastmodified: lastModified,
    mac: encryptValue(hash.digest("hex").toUpperCase(), key, lastModified),
    ...(regex === undefined ? {} : { encrypted_regex: opts.encryptedRegex ?? "" }),
    ...(suffix === undefined ? {} : { unencrypted_suffix: suffix }),
    version: "3.9.0",
  };
  return { tree, sops };
}

/** The data key age-encrypted for one recipient and armored, as sops' age key source writes it. */
async function wrapKey(key: Buffer, recipient: string): Promise<string> {
  const e = new Encrypter();
  e.addRecipient(recipient);
  return armor.encode(await e.encrypt(key));
}

/** A YAML document (a Kubernetes object, say) encrypted in sops' YAML format. */
export async function encryptYaml(doc: { readonly [key: string]: PlainValue }, opts: SopsEncryptOptions): Promise<string> {
  const { tree, sops } = await encryptTree(doc, opts);
  return stringify({ ...tree, sops }, { version: "1.2", lineWidth: 0 });
}

/**
 * A dotenv file encrypted in sops' dotenv format: `KEY=ENC[…]` lines, then the metadata
 * flattened into sorted `sops_*` lines with newlines written as `\n`.
 */
export async function encryptDotenv(entries: Readonly<Record<string, string>>, opts: SopsEncryptOptions): Promise<string> {
  const { tree, sops } = await encryptTree(entries, opts);
  const lines = Object.entries(tree).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  const flat: [string, string][] = [];
  const flatten = (v: PlainValue, prefix: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => flatten(x, `${prefix}__list_${i}`));
    else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) flatten(x, prefix === "sops" ? `sops_${k}` : `${prefix}__map_${k}`);
    else if (v !== null) flat.push([prefix, typeof v === "string" ? v : JSON.stringify(v)]);
  };
  flatten(sops, "sops");
  flat.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [...lines, ...flat.map(([k, v]) => `${k}=${v.replace(/\n/g, "\\n")}`)].join("\n") + "\n";
}

/** A whole file (any bytes as UTF-8 text) in sops' binary format: `{"data": ENC[…], "sops": {…}}`, tab-indented. */
export async function encryptBinary(content: string, opts: SopsEncryptOptions): Promise<string> {
  const { tree, sops } = await encryptTree({ data: content }, opts);
  return JSON.stringify({ ...tree, sops }, null, "\t") + "\n";
}

/**
 * The same text with one character of the first ENC value's `data:` (or of `sops.mac` when
 * `which` is "mac") changed: what a hand edit without the key does.
 */
export function tamper(text: string, which: "value" | "mac"): string {
  const at = which === "mac" ? text.search(/mac["']?\s*[:=]\s*["']?ENC\[AES256_GCM,data:/) : text.search(/(?<!mac["']?\s*[:=]\s*["']?)ENC\[AES256_GCM,data:/);
  if (at < 0) throw new Error(`tamper: no ${which} ENC value in the text`);
  const start = text.indexOf("data:", at) + "data:".length;
  const c = text[start];
  return text.slice(0, start) + (c === "A" ? "B" : "A") + text.slice(start + 1);
}
