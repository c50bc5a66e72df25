import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { JsonValue, KObject, RenderedObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import { mapLimit } from "../core/map-limit.ts";
import { minSecretValueLength } from "../store/redact.ts";
import { encryptedLeaves } from "../core/sops-values.ts";
import { formatFieldPath, parseFieldPath } from "../core/yaml-positions.ts";
import { decryptFile, decryptTree, decryptValues } from "../sops/decrypt.ts";
import { sopsFormatOf } from "../sops/format.ts";
import { SopsError, type SopsKeyring } from "../sops/types.ts";

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
  // Read once: which Secret data values are whole SOPS files (each a base64 decode).
  const nested = objects.map((o) => nestedSecretFiles(o.object));
  if (!objects.some((o, i) => needsDecryption(o) || (nested[i]?.size ?? 0) > 0)) return [...objects];
  const keyring = await input.keyring();
  const verified = new WeakMap<KObject, Promise<Buffer>>();
  // A few at a time: unwrapping data keys (X25519, RSA) runs on the thread pool, so both cores work.
  return mapLimit(objects, decryptConcurrency, async (o, i) => {
    try {
      return await decryptOne(o, nested[i] ?? new Map(), keyring, verified);
    } catch (e: unknown) {
      throw decryptionError(e, o, input);
    }
  });
}

const decryptConcurrency = 8;

function needsDecryption(o: RenderedObject): boolean {
  return o.encrypted !== undefined || isRecord(o.object["sops"]) || o.sopsFile !== undefined || o.encryptedEnvFile !== undefined;
}

async function decryptOne(o: RenderedObject, nested: NestedFiles, keyring: SopsKeyring, verified: WeakMap<KObject, Promise<Buffer>>): Promise<DecryptedObject> {
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
  if (nested.size > 0) return decryptNested(o, nested, keyring);
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

/** A Secret's data keys holding a whole SOPS file: the file's bytes and format. */
type NestedFiles = ReadonlyMap<string, { readonly bytes: Buffer; readonly format: NonNullable<ReturnType<typeof sopsFormatOf>> }>;

/**
 * A plain v1 Secret's `data` values that are base64 of a whole SOPS file (a generator's
 * encrypted file, as Flux decrypts them too); empty for any other object.
 */
function nestedSecretFiles(obj: KObject): NestedFiles {
  const out = new Map<string, { bytes: Buffer; format: NonNullable<ReturnType<typeof sopsFormatOf>> }>();
  const data = obj["data"];
  if (obj["apiVersion"] !== "v1" || obj["kind"] !== "Secret" || isRecord(obj["sops"]) || !isRecord(data)) return out;
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== "string" || v.length <= 40) continue;
    const bytes = Buffer.from(v, "base64");
    // Only well-formed base64 of a SOPS file counts; anything else is ordinary data.
    if (bytes.toString("base64").replace(/=+$/, "") !== v.replace(/\s+/g, "").replace(/=+$/, "")) continue;
    const format = sopsFormatOf(k, bytes);
    if (format !== undefined) out.set(k, { bytes, format });
  }
  return out;
}

async function decryptNested(o: RenderedObject, nested: NestedFiles, keyring: SopsKeyring): Promise<DecryptedObject> {
  const data = { ...(o.object["data"] as Record<string, JsonValue>) };
  for (const [k, { bytes, format }] of nested) data[k] = (await decryptFile(bytes, format, keyring)).plaintext.toString("base64");
  return { ...o, object: { ...o.object, data }, secretFields: [...nested.keys()].map((k) => `data.${k}`) };
}

/** The paths of the encrypted values in an object, in the `a.b[0].c` form diffs mask by. */
function encryptedFields(obj: KObject): string[] {
  return encryptedLeaves(obj).map((l) => formatFieldPath(l.path));
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
      let v: JsonValue | undefined = o.object;
      for (const s of parseFieldPath(field)) v = typeof s === "number" ? (Array.isArray(v) ? v[s] : undefined) : isRecord(v) ? v[s] : undefined;
      if (typeof v === "string" && v.length >= minSecretValueLength) out.add(v);
    }
    const spec = o.object["spec"];
    if (o.object["apiVersion"] === hostApiVersion && isRecord(spec) && spec["sensitive"] === true && typeof spec["content"] === "string") {
      for (const line of spec["content"].split("\n")) if (line.trim().length >= minSecretValueLength) out.add(line.trim());
    }
  }
  return out;
}
