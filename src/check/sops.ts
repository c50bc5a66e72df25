import type { JsonValue, RenderedObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import { formatFieldPath } from "../core/yaml-positions.ts";
import type { Config } from "../config/schema.ts";
import type { Finding } from "./finding.ts";

/**
 * The public recipients each environment declares (`environments.<env>.sops.recipients`), by
 * environment; an environment without the key is absent (its files' recipients are not checked).
 */
export type SopsRecipients = ReadonlyMap<string, readonly string[]>;

/** A value SOPS encrypted: `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]`. */
const encryptedValue = /^ENC\[[A-Z0-9_]+,data:[^\]]*\]$/;

/** Key services whose files cannot be checked (or decrypted) here yet: they need network access to a cloud or Vault. */
const unsupportedServices = ["kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"] as const;

/** One recipient a SOPS file's data key is encrypted for. */
interface Recipient {
  readonly id: string;
  /** Field path of its entry in the object, for the finding's line. */
  readonly field: string;
}

/**
 * Checks an object SOPS encrypted (it carries a `sops` section) without any key: the metadata
 * is complete (MAC, lastmodified, version, an age or PGP key group); where the environment declares
 * recipients, the file is encrypted for one of them and for no other; and no value the metadata's
 * rules say is encrypted is in clear. Objects without a `sops` section give nothing.
 */
export function checkSops(obj: RenderedObject, environment: string, recipients: SopsRecipients): Finding[] {
  const meta = obj.object["sops"];
  if (meta === undefined) return [];
  const base = { ref: obj.ref, location: obj.source };
  const fail = (rule: string, field: string, message: string, hint: string, severity: "error" | "warning" = "error"): Finding =>
    ({ severity, rule, field, message, hint, ...base });
  if (!isRecord(meta)) return [fail("sops.metadata", "sops", "the sops section is not a map", "re-encrypt the file with sops")];
  const out: Finding[] = [];
  const reencrypt = "the file was edited by hand or truncated; re-encrypt it with sops (sops encrypt -i, or sops edit)";
  const mac = meta["mac"];
  if (mac === undefined || mac === null) out.push(fail("sops.metadata", "sops", "sops.mac is missing: nobody can tell whether the values were tampered with", reencrypt));
  else if (typeof mac !== "string" || !encryptedValue.test(mac)) out.push(fail("sops.metadata", "sops.mac", "sops.mac is not an ENC[...] value", reencrypt));
  for (const key of ["lastmodified", "version"]) {
    if (typeof meta[key] !== "string" || meta[key] === "") out.push(fail("sops.metadata", "sops", `sops.${key} is missing`, reencrypt));
  }
  const found = keyGroupRecipients(meta, fail);
  out.push(...found.findings);
  if (found.recipients.length === 0 && !found.unsupported) {
    out.push(fail("sops.metadata", "sops", "sops section has no age or pgp key group: nobody can decrypt this file", "encrypt it for the environment's recipients: sops encrypt --age <recipient> (or --pgp <fingerprint>)"));
  }
  out.push(...recipientFindings(found.recipients, environment, recipients, fail));
  out.push(...plaintextFindings(obj.object, meta, fail));
  return out;
}

type Fail = (rule: string, field: string, message: string, hint: string, severity?: "error" | "warning") => Finding;

/** The age and PGP recipients of the metadata (top level and Shamir `key_groups`), with findings for malformed or unsupported entries. */
function keyGroupRecipients(meta: Record<string, JsonValue>, fail: Fail): { recipients: Recipient[]; findings: Finding[]; unsupported: boolean } {
  const recipients: Recipient[] = [];
  const findings: Finding[] = [];
  let unsupported = false;
  const groups: [string, Record<string, JsonValue>][] = [["sops", meta]];
  const shamir = meta["key_groups"];
  if (Array.isArray(shamir)) shamir.forEach((g, i) => { if (isRecord(g)) groups.push([`sops.key_groups[${i}]`, g]); });
  for (const [at, group] of groups) {
    for (const [kind, idKey] of [["age", "recipient"], ["pgp", "fp"]] as const) {
      const list = group[kind];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) { findings.push(fail("sops.metadata", `${at}.${kind}`, `${at}.${kind} is not a list`, "re-encrypt the file with sops")); continue; }
      list.forEach((entry, i) => {
        const field = `${at}.${kind}[${i}]`;
        const id = isRecord(entry) ? entry[idKey] : undefined;
        const enc = isRecord(entry) ? entry["enc"] : undefined;
        if (typeof id !== "string" || id === "" || typeof enc !== "string" || enc === "") {
          findings.push(fail("sops.metadata", field, `${field} lacks ${idKey} or enc (the data key encrypted for it)`, "re-encrypt the file with sops"));
        } else {
          recipients.push({ id: kind === "pgp" ? id.toUpperCase() : id, field: `${field}.${idKey}` });
        }
      });
    }
    for (const service of unsupportedServices) {
      const list = group[service];
      if (Array.isArray(list) && list.length > 0) {
        unsupported = true;
        findings.push(fail("sops.unsupported", `${at}.${service}`, `encrypted for ${service} keys: gitward does not support ${service} yet, so their recipients are not checked`,
          "encrypt for age or PGP recipients as well, so the environment's agent can decrypt it", "warning"));
      }
    }
  }
  return { recipients, findings, unsupported };
}

/** The environment's recipients against the file's: at least one of them, and nobody else. */
function recipientFindings(found: readonly Recipient[], environment: string, declared: SopsRecipients, fail: Fail): Finding[] {
  const allowed = declared.get(environment);
  if (allowed === undefined || found.length === 0) return [];
  const norm = new Set(allowed.map(normalizeRecipient));
  const owners = (id: string): string => {
    const envs = [...declared].filter(([env, list]) => env !== environment && list.some((r) => normalizeRecipient(r) === id)).map(([env]) => `${env}'s`);
    return envs.length === 0 ? "" : ` (${envs.join(", ")})`;
  };
  const first = found[0];
  if (first !== undefined && !found.some((r) => norm.has(r.id))) {
    // None of them is the environment's: one finding says so, naming them all (each is also not allowed).
    const list = found.map((r) => `${r.id}${owners(r.id)}`).join(", ");
    return [fail("sops.recipient", first.field, `encrypted for ${list}, not for ${environment}'s recipients: ${environment} cannot decrypt it, and their holders can`,
      `re-encrypt it for ${environment} only: a .sops.yaml creation rule naming environments.${environment}.sops.recipients, then sops updatekeys`)];
  }
  return found.filter((r) => !norm.has(r.id)).map((r) =>
    fail("sops.recipient", r.field, `encrypted for ${r.id}${owners(r.id)}, which ${environment} does not allow: whoever holds its key can read ${environment}'s secret`,
      `remove it from the file's recipients (.sops.yaml, then sops updatekeys), or add it to environments.${environment}.sops.recipients if it belongs there`));
}

/** A recipient as compared: PGP fingerprints in upper case, age recipients as written. */
function normalizeRecipient(r: string): string {
  return /^[0-9A-Fa-f]{40}$/.test(r) ? r.toUpperCase() : r;
}

/** The metadata's rule for which values are encrypted; sops lets a file declare only one. */
type EncryptionRule = (key: string) => "encrypted" | "clear" | undefined;

/** Values the metadata's rules say are encrypted, found in clear. */
function plaintextFindings(object: Record<string, JsonValue>, meta: Record<string, JsonValue>, fail: Fail): Finding[] {
  const rule = encryptionRule(meta);
  if (typeof rule === "string") return [fail("sops.metadata", "sops", rule, "re-encrypt the file with sops")];
  const clear: (string | number)[][] = [];
  // A key the rule matches decides for its whole subtree; until one does, the rule's default holds.
  const walk = (value: JsonValue, path: (string | number)[], decided: "encrypted" | "clear" | undefined): void => {
    if (Array.isArray(value)) { value.forEach((v, i) => walk(v, [...path, i], decided)); return; }
    if (isRecord(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (path.length === 0 && k === "sops") continue;
        walk(v, [...path, k], decided ?? rule.match(k));
      }
      return;
    }
    // sops stores empty strings and nulls as they are: there is nothing to hide.
    if (value === null || value === "") return;
    if ((decided ?? rule.fallback) === "clear") return;
    if (typeof value !== "string" || !encryptedValue.test(value)) clear.push(path);
  };
  walk(object, [], undefined);
  if (clear.length === 0) return [];
  const first = clear[0] ?? [];
  const names = clear.slice(0, 5).map(formatFieldPath).join(", ") + (clear.length > 5 ? `, and ${clear.length - 5} more` : "");
  return [fail("sops.plaintext", formatFieldPath(first), `${clear.length} value(s) in clear in a SOPS-encrypted file where its rules (${rule.describe}) say they are encrypted: ${names}`,
    "a value was added or edited without sops; edit the file with sops edit (or re-encrypt it), and rotate the secret if it was pushed")];
}

/** The file's encryption rule from its metadata, or a message when it cannot be read. */
function encryptionRule(meta: Record<string, JsonValue>): { match: EncryptionRule; fallback: "encrypted" | "clear"; describe: string } | string {
  const str = (k: string): string | undefined => (typeof meta[k] === "string" && meta[k] !== "" ? meta[k] : undefined);
  const regex = (k: string): RegExp | string => {
    try { return new RegExp(str(k) ?? ""); } catch { return `sops.${k} is not a valid regular expression`; }
  };
  const encRegex = str("encrypted_regex");
  if (encRegex !== undefined) {
    const re = regex("encrypted_regex");
    return typeof re === "string" ? re : { match: (k: string) => (re.test(k) ? "encrypted" : undefined), fallback: "clear", describe: `encrypted_regex ${encRegex}` };
  }
  const unencRegex = str("unencrypted_regex");
  if (unencRegex !== undefined) {
    const re = regex("unencrypted_regex");
    return typeof re === "string" ? re : { match: (k: string) => (re.test(k) ? "clear" : undefined), fallback: "encrypted", describe: `unencrypted_regex ${unencRegex}` };
  }
  const encSuffix = str("encrypted_suffix");
  if (encSuffix !== undefined) return { match: (k: string) => (k.endsWith(encSuffix) ? "encrypted" : undefined), fallback: "clear", describe: `encrypted_suffix ${encSuffix}` };
  const suffix = str("unencrypted_suffix") ?? "_unencrypted";
  return { match: (k: string) => (k.endsWith(suffix) ? "clear" : undefined), fallback: "encrypted", describe: `unencrypted_suffix ${suffix}` };
}

/** The `sops.recipients` each environment of gitward.yaml declares. */
export function sopsRecipientsOf(config: Config): SopsRecipients {
  return new Map(Object.entries(config.environments).flatMap(([env, spec]) => (spec.sops === undefined ? [] : [[env, spec.sops.recipients] as const])));
}
