import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { JsonValue, KObject, RenderedObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import { mapLimit } from "../core/map-limit.ts";
import { decryptFile, decryptTree, decryptValues } from "../sops/decrypt.ts";
import { sopsFormatOf } from "../sops/format.ts";
import { SopsError, type SopsKeyring } from "../sops/types.ts";

/** A value SOPS encrypted. */
const encryptedValue = /^ENC\[[A-Z0-9_]+,data:/;
const hostApiVersion = "host.gitward.dev/v1alpha1";

/** A rendered object after decryption: plaintext, for the target only. */
export interface DecryptedObject extends RenderedObject {
  /** Fields that held encrypted values (`a.b[0].c`), masked in every diff on both sides. */
  readonly secretFields?: readonly string[];
}

/** What {@link decryptForTarget} needs: the environment's keys, loaded on first need. */
export interface DecryptInput {
  readonly environment: string;
  readonly keyring: () => Promise<SopsKeyring>;
  /** How keys reach this runner, for the error when none opens a file (`SOPS_AGE_KEY_FILE`, the agent's `decryption.<env>`). */
  readonly keyHint: string;
}

/**
 * The stack's rendered objects as the target must receive them: every SOPS-encrypted object,
 * host File source and nested SOPS document in a Secret's `data` decrypted, after the MAC of
 * each document as the sops tool wrote it was verified. Objects without encrypted values are
 * returned as they are, and no key is loaded for a stack without any. A file that cannot be
 * decrypted or verified fails the whole stack, naming its file, line and object, and never a
 * plaintext value: nothing of the stack is applied.
 */
export async function decryptForTarget(objects: readonly RenderedObject[], input: DecryptInput): Promise<DecryptedObject[]> {
  if (!objects.some(needsDecryption)) return [...objects];
  const keyring = await input.keyring();
  const verified = new WeakMap<KObject, Promise<Buffer>>();
  // A few at a time: unwrapping data keys (X25519, RSA) runs on the thread pool, so both cores work.
  return mapLimit(objects, decryptConcurrency, async (o) => {
    try {
      return await decryptOne(o, keyring, verified);
    } catch (e: unknown) {
      throw decryptionError(e, o, input);
    }
  });
}

const decryptConcurrency = 8;

function needsDecryption(o: RenderedObject): boolean {
  return o.encrypted !== undefined || isRecord(o.object["sops"]) || o.sopsFile !== undefined || o.encryptedEnvFile !== undefined || nestedSecretKeys(o.object).length > 0;
}

async function decryptOne(o: RenderedObject, keyring: SopsKeyring, verified: WeakMap<KObject, Promise<Buffer>>): Promise<DecryptedObject> {
  if (o.sopsFile !== undefined) return decryptHostFile(o, o.sopsFile, keyring);
  if (o.encryptedEnvFile !== undefined) return decryptGeneratedEnv(o, o.encryptedEnvFile, keyring);
  if (o.encrypted !== undefined || isRecord(o.object["sops"])) {
    const originals = o.encrypted ?? [o.object];
    const keys: Buffer[] = [];
    for (const doc of originals) {
      const known = verified.get(doc);
      const key = known ?? decryptTree(doc, keyring).then((t) => t.dataKey);
      if (known === undefined) verified.set(doc, key);
      keys.push(await key);
    }
    const fields = encryptedFields(o.object);
    const meta = isRecord(o.object["sops"]) ? o.object["sops"] : {};
    const { tree } = decryptValues(o.object, keys, meta);
    const { encrypted: _e, ...rest } = o;
    return { ...rest, object: tree, ...(fields.length === 0 ? {} : { secretFields: fields }) };
  }
  const nested = nestedSecretKeys(o.object);
  if (nested.length > 0) return decryptNested(o, nested, keyring);
  return o;
}

/** A host File whose source is a SOPS file: its content in clear, never shown, private unless Git says otherwise. */
async function decryptHostFile(o: RenderedObject, format: NonNullable<RenderedObject["sopsFile"]>, keyring: SopsKeyring): Promise<DecryptedObject> {
  const spec = isRecord(o.object["spec"]) ? o.object["spec"] : {};
  const content = typeof spec["content"] === "string" ? spec["content"] : "";
  const file = await decryptFile(Buffer.from(content, "utf8"), format, keyring);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(file.plaintext);
  if (!Buffer.from(text, "utf8").equals(file.plaintext)) {
    throw new GitwardError(ErrorCode.Render, "the decrypted spec.source is not UTF-8 text; host File content must be text");
  }
  const { sopsFile: _s, ...rest } = o;
  const mode = typeof spec["mode"] === "string" ? spec["mode"] : "0600";
  return { ...rest, object: { ...o.object, spec: { ...spec, content: text, mode, sensitive: true } } };
}

/**
 * A Secret kustomize generated from a SOPS dotenv file: its `data` becomes that file's values in
 * clear, read as kustomize reads an env file, once the file's MAC is verified. kustomize sorted
 * and base64-encoded the encrypted lines, so the file itself is what is decrypted.
 */
async function decryptGeneratedEnv(o: RenderedObject, envFile: string, keyring: SopsKeyring): Promise<DecryptedObject> {
  const file = await decryptFile(Buffer.from(envFile, "utf8"), "dotenv", keyring);
  const data: Record<string, JsonValue> = {};
  for (const line of file.plaintext.toString("utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (line.trim() === "" || line.startsWith("#") || eq < 0) continue;
    data[line.slice(0, eq)] = Buffer.from(line.slice(eq + 1), "utf8").toString("base64");
  }
  const { encryptedEnvFile: _e, ...rest } = o;
  return { ...rest, object: { ...o.object, data }, secretFields: Object.keys(data).map((k) => `data.${k}`) };
}

/**
 * A plain v1 Secret's `data` keys whose value is base64 of a whole SOPS file (a generator's
 * encrypted file, as Flux decrypts them too).
 */
function nestedSecretKeys(obj: KObject): string[] {
  if (obj["apiVersion"] !== "v1" || obj["kind"] !== "Secret" || isRecord(obj["sops"])) return [];
  const data = obj["data"];
  if (!isRecord(data)) return [];
  return Object.entries(data).filter(([k, v]) => typeof v === "string" && v.length > 40 && nestedFormat(k, v) !== undefined).map(([k]) => k);
}

function nestedFormat(key: string, value: string): ReturnType<typeof sopsFormatOf> {
  const bytes = Buffer.from(value, "base64");
  // Only well-formed base64 of a SOPS file counts; anything else is ordinary data.
  if (bytes.toString("base64").replace(/=+$/, "") !== value.replace(/\s+/g, "").replace(/=+$/, "")) return undefined;
  return sopsFormatOf(key, bytes);
}

async function decryptNested(o: RenderedObject, keys: readonly string[], keyring: SopsKeyring): Promise<DecryptedObject> {
  const data = { ...(o.object["data"] as Record<string, JsonValue>) };
  for (const k of keys) {
    const value = data[k] as string;
    const format = nestedFormat(k, value);
    if (format === undefined) continue;
    const file = await decryptFile(Buffer.from(value, "base64"), format, keyring);
    data[k] = file.plaintext.toString("base64");
  }
  return { ...o, object: { ...o.object, data }, secretFields: keys.map((k) => `data.${k}`) };
}

/** The paths of the encrypted values in an object, in the `a.b[0].c` form diffs mask by. */
export function encryptedFields(obj: KObject): string[] {
  const out: string[] = [];
  const walk = (v: JsonValue, path: string): void => {
    if (typeof v === "string") {
      if (encryptedValue.test(v)) out.push(path);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
    } else if (isRecord(v)) {
      for (const [k, x] of Object.entries(v)) if (!(path === "" && k === "sops")) walk(x, path === "" ? k : `${path}.${k}`);
    }
  };
  walk(obj, "");
  return out;
}

function decryptionError(e: unknown, o: RenderedObject, input: DecryptInput): GitwardError {
  const subject = { subject: { ref: o.ref, location: o.source } };
  // The subject (file:line: Kind/ns/name) starts the message already.
  const what = "cannot decrypt its SOPS data";
  if (e instanceof SopsError) {
    const hints: Record<string, string> = {
      "no-key": `give this runner a private key of one of those recipients for environment ${input.environment}: ${input.keyHint}`,
      tampered: "the file was changed without the key (or by hand); re-encrypt it with sops from a trusted copy",
      "no-mac": "re-encrypt the file with sops: a file without a MAC cannot be told from a tampered one",
      malformed: "re-encrypt the file with sops",
      unsupported: "gitward decrypts age and PGP recipients only; add an age or PGP recipient with sops updatekeys",
    };
    return new GitwardError(ErrorCode.Render, `${what}: ${e.message}`, { ...subject, hint: hints[e.kind] ?? "re-encrypt the file with sops" });
  }
  if (e instanceof GitwardError) return new GitwardError(e.code, `${what}: ${e.message}`, { ...subject, ...(e.hint === undefined ? {} : { hint: e.hint }) });
  // Anything else may carry text of the file: only its kind is told.
  return new GitwardError(ErrorCode.Internal, `${what}: ${e instanceof Error ? e.name : "unexpected failure"}`, subject);
}

/**
 * The decrypted values among `objects` (at their secret fields, and decrypted File contents),
 * so that a target's error message that quotes one can be masked before it is shown or stored.
 */
export function plaintextsOf(objects: readonly DecryptedObject[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    for (const field of o.secretFields ?? []) {
      const steps = field.split(/\.|(?=\[)/).map((p) => (p.startsWith("[") ? Number(p.slice(1, -1)) : p));
      let v: JsonValue | undefined = o.object;
      for (const s of steps) v = typeof s === "number" ? (Array.isArray(v) ? v[s] : undefined) : isRecord(v) ? v[s] : undefined;
      if (typeof v === "string" && v.length >= 6) out.add(v);
    }
    const spec = o.object["spec"];
    if (o.object["apiVersion"] === hostApiVersion && isRecord(spec) && spec["sensitive"] === true && typeof spec["content"] === "string") {
      for (const line of spec["content"].split("\n")) if (line.trim().length >= 6) out.add(line.trim());
    }
  }
  return out;
}
