import { z } from "zod";
import type { JsonValue } from "../core/object.ts";
import { SopsError, type SopsRecipient } from "./types.ts";

/** One master key entry that can open the data key here: an age recipient or a PGP fingerprint, and its wrapped key. */
export interface WrappedKey extends SopsRecipient {
  /** The data key wrapped for it: an armored age file or an armored PGP message. */
  readonly enc: string;
}

/** A key group: the keys that each hold the whole data key (or one Shamir share of it). */
export interface KeyGroup {
  readonly keys: readonly WrappedKey[];
  /** Key services gitward cannot reach (kms, gcp_kms, azure_kv, hc_vault, hckms) that the group also names. */
  readonly unsupported: readonly string[];
}

/** Which values a file keeps encrypted: sops' path and comment rules (at most one is set). */
export interface CryptRules {
  readonly unencryptedSuffix?: string;
  readonly encryptedSuffix?: string;
  readonly unencryptedRegex?: RegExp;
  readonly encryptedRegex?: RegExp;
  readonly unencryptedCommentRegex?: RegExp;
  readonly encryptedCommentRegex?: RegExp;
}

/** A file's sops metadata, validated. */
export interface SopsMetadata {
  readonly mac: string | undefined;
  readonly lastModified: string;
  readonly rules: CryptRules;
  readonly macOnlyEncrypted: boolean;
  readonly groups: readonly KeyGroup[];
  readonly shamirThreshold: number;
}

const unsupportedServices = ["kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"] as const;

const entry = z.object({ enc: z.string().optional(), recipient: z.string().optional(), fp: z.string().optional() }).loose();
const entries = z.array(entry).nullish();
const group = z.object({
  age: entries, pgp: entries, kms: entries, gcp_kms: entries, azure_kv: entries, hc_vault: entries, hckms: entries,
}).loose();
const optText = z.string().nullish();
// Flattened formats (dotenv, INI) hold every value as a string: accept those as sops' weakly typed decoder does.
const flag = z.union([z.boolean(), z.enum(["true", "false", "True", "False", "1", "0"])]).nullish();
const count = z.union([z.number().int(), z.string().regex(/^\d+$/)]).nullish();
const schema = group.extend({
  mac: optText,
  lastmodified: z.string(),
  version: optText,
  key_groups: z.array(group).nullish(),
  shamir_threshold: count,
  unencrypted_suffix: optText,
  encrypted_suffix: optText,
  unencrypted_regex: optText,
  encrypted_regex: optText,
  unencrypted_comment_regex: optText,
  encrypted_comment_regex: optText,
  mac_only_encrypted: flag,
});

/** Validates a `sops` map (as YAML/JSON hold it, or unflattened from dotenv/INI). Throws `malformed`. */
export function parseMetadata(raw: JsonValue | undefined): SopsMetadata {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? "" : ` at sops.${issue.path.join(".")}`;
    throw new SopsError("malformed", `the sops metadata is invalid${where}: ${issue?.message ?? "not a map"}`);
  }
  const m = parsed.data;
  const groups = (m.key_groups ?? []).length > 0 ? (m.key_groups ?? []).map(toGroup) : [toGroup(m)];
  return {
    mac: m.mac === null || m.mac === undefined || m.mac === "" ? undefined : m.mac,
    lastModified: m.lastmodified,
    rules: rulesOf(m),
    macOnlyEncrypted: m.mac_only_encrypted === true || (typeof m.mac_only_encrypted === "string" && ["true", "True", "1"].includes(m.mac_only_encrypted)),
    groups,
    shamirThreshold: Number(m.shamir_threshold ?? 0),
  };
}

function toGroup(g: z.infer<typeof group>): KeyGroup {
  const keys: WrappedKey[] = [];
  for (const e of g.age ?? []) {
    if (e.recipient !== undefined && e.enc !== undefined) keys.push({ kind: "age", id: e.recipient, enc: e.enc });
  }
  for (const e of g.pgp ?? []) {
    if (e.fp !== undefined && e.enc !== undefined) keys.push({ kind: "pgp", id: e.fp.toUpperCase(), enc: e.enc });
  }
  const unsupported = unsupportedServices.filter((s) => (g[s] ?? []).length > 0);
  return { keys, unsupported };
}

function rulesOf(m: z.infer<typeof schema>): CryptRules {
  const set = (v: string | null | undefined): v is string => typeof v === "string" && v !== "";
  const rules: { -readonly [K in keyof CryptRules]: CryptRules[K] } = {};
  let count = 0;
  if (set(m.unencrypted_suffix)) { rules.unencryptedSuffix = m.unencrypted_suffix; count++; }
  if (set(m.encrypted_suffix)) { rules.encryptedSuffix = m.encrypted_suffix; count++; }
  if (set(m.unencrypted_regex)) { rules.unencryptedRegex = goRegex(m.unencrypted_regex, "unencrypted_regex"); count++; }
  if (set(m.encrypted_regex)) { rules.encryptedRegex = goRegex(m.encrypted_regex, "encrypted_regex"); count++; }
  if (set(m.unencrypted_comment_regex)) { rules.unencryptedCommentRegex = goRegex(m.unencrypted_comment_regex, "unencrypted_comment_regex"); count++; }
  if (set(m.encrypted_comment_regex)) { rules.encryptedCommentRegex = goRegex(m.encrypted_comment_regex, "encrypted_comment_regex"); count++; }
  if (count > 1) throw new SopsError("malformed", "the sops metadata sets more than one of the encrypted/unencrypted suffix, regex and comment regex rules");
  // sops' default when no rule is stored.
  if (count === 0) rules.unencryptedSuffix = "_unencrypted";
  return rules;
}

/** A Go (RE2) regular expression as a JS one; a leading `(?flags)` group becomes JS flags. */
function goRegex(source: string, field: string): RegExp {
  const lead = /^\(\?([imsU]+)\)/.exec(source);
  const flags = (lead?.[1] ?? "").replace(/[U]/g, "");
  try {
    return new RegExp(lead === null ? source : source.slice(lead[0].length), `u${flags}`);
  } catch {
    throw new SopsError("malformed", `sops.${field} is not a regular expression gitward can evaluate`);
  }
}

/** Every recipient the metadata names, over all key groups, for `no-key` messages. */
export function recipientsOf(meta: SopsMetadata): SopsRecipient[] {
  return meta.groups.flatMap((g) => g.keys.map((k) => ({ kind: k.kind, id: k.id })));
}

/** `age age1…, pgp FPR`: the recipients as an error message lists them. */
export function formatRecipients(recipients: readonly SopsRecipient[]): string {
  return recipients.length === 0 ? "no age or pgp recipient" : recipients.map((r) => `${r.kind} ${r.id}`).join(", ");
}
