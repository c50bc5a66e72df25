import { isDeepStrictEqual } from "node:util";
import { credentialPatterns, isCredentialName, looksLikeCredential } from "./credential-patterns.ts";
import type { JsonValue, KObject } from "./object.ts";
import { isRecord } from "./object.ts";
import { isSopsEncryptedValue } from "./sops-values.ts";
import { parseFieldPath } from "./yaml-positions.ts";

/** What a masked value is shown as. */
export const maskedValue = "***";
/** What a masked value is shown as when it differs from the other side of a diff. */
export const maskedChangedValue = "*** (changed)";

// Holds the whole previous object as kubectl apply wrote it, secret values included.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

/** Options of {@link maskSecrets}; every one may be left out. */
export interface MaskOptions {
  /**
   * The other side of a diff. A masked value that differs from the value at the same place in
   * it is shown as {@link maskedChangedValue}, so a reviewer sees which value changed, never to
   * what. Default: none, every masked value is {@link maskedValue}.
   */
  readonly before?: KObject | undefined;
  /**
   * The runner's own secret values (its tokens and passwords): a string equal to one, or
   * containing one, is masked wherever it is. Empty strings are ignored. Default: none.
   */
  readonly secretValues?: ReadonlySet<string> | undefined;
  /**
   * Fields masked whatever they hold, on both sides of a diff (`a.b[0].c`): those that were
   * SOPS-encrypted in Git. Default: none.
   */
  readonly fields?: readonly string[] | undefined;
}

/**
 * A copy of an object with its secret values masked, for whatever gitward shows: plans, diffs,
 * logs, records. Masked are: every value under a v1 Secret's `data` and `stringData`; any string
 * that looks like a credential (a private key, a token: `looksLikeCredential`); any non-empty
 * string in a field named like a credential (`password`, `DB_PASSWORD`, `apiToken`:
 * `isCredentialName`), or in an array such a field holds; any string holding one of
 * `secretValues`; and the last-applied-configuration annotation of a Secret, or of any object
 * whose stored configuration has something to mask.
 */
export function maskSecrets(obj: KObject, options: MaskOptions = {}): KObject {
  const secretValues = [...(options.secretValues ?? [])].filter((s) => s !== "");
  const ctx: MaskContext = { secretValues, compare: options.before !== undefined };
  const out = maskValue(obj, options.before, false, ctx) as KObject;
  for (const field of options.fields ?? []) maskField(out, options.before, field, ctx);
  if (isRecord(obj["sops"])) out["sops"] = sopsSummary(obj["sops"]);
  const isSecret = obj["kind"] === "Secret" && obj["apiVersion"] === "v1";
  if (isSecret) {
    for (const field of ["data", "stringData"]) {
      const values = obj[field];
      if (!isRecord(values)) continue;
      const prev = options.before?.[field];
      const masked: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(values)) masked[k] = marker(v, isRecord(prev) ? prev[k] : undefined, ctx);
      out[field] = masked;
    }
  }
  maskLastApplied(obj, out, options, isSecret, ctx);
  maskSensitiveContent(obj, out, options, ctx);
  return out;
}

// A host File marked `sensitive: true` (host.md): its content is never shown, in any diff.
function maskSensitiveContent(obj: KObject, out: KObject, options: MaskOptions, ctx: MaskContext): void {
  const spec = obj["spec"];
  if (obj["apiVersion"] !== "host.gitward.dev/v1alpha1" || obj["kind"] !== "File" || !isRecord(spec) || spec["sensitive"] !== true) return;
  const content = spec["content"];
  if (content === undefined) return;
  const prev = options.before?.["spec"];
  out["spec"] = { ...(out["spec"] as Record<string, JsonValue>), content: marker(content, isRecord(prev) ? prev["content"] : undefined, ctx) };
}

/** Masks the value at `field` (`a.b[0].c`) of `out`, in place, when it is there. */
function maskField(out: KObject, before: KObject | undefined, field: string, ctx: MaskContext): void {
  const steps = parseFieldPath(field);
  let cur: JsonValue = out;
  let prev: JsonValue | undefined = before;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as string | number;
    const container = cur as Record<string, JsonValue> | JsonValue[];
    const next: JsonValue | undefined = typeof step === "number"
      ? (Array.isArray(container) ? container[step] : undefined)
      : (isRecord(container) ? container[step] : undefined);
    const prevNext: JsonValue | undefined = prev === undefined || prev === null || typeof prev !== "object"
      ? undefined
      : typeof step === "number" ? (Array.isArray(prev) ? prev[step] : undefined) : (isRecord(prev) ? prev[step] : undefined);
    if (next === undefined) return;
    if (i === steps.length - 1) {
      const masked = marker(next, prevNext, ctx);
      if (typeof step === "number" && Array.isArray(container)) container[step] = masked;
      else if (typeof step === "string" && isRecord(container)) container[step] = masked;
      return;
    }
    cur = next;
    prev = prevNext;
  }
}

interface MaskContext {
  readonly secretValues: readonly string[];
  /** Whether there is another side to compare with. */
  readonly compare: boolean;
}

/**
 * What a plan shows of a SOPS section: who can decrypt the file, not the encrypted data keys or
 * the MAC (which change at every edit and say nothing to a reviewer).
 */
function sopsSummary(meta: Record<string, JsonValue>): JsonValue {
  const recipients: string[] = [];
  const groups = [meta, ...(Array.isArray(meta["key_groups"]) ? meta["key_groups"] : [])];
  for (const g of groups) {
    if (!isRecord(g)) continue;
    for (const [kind, key] of [["age", "recipient"], ["pgp", "fp"]] as const) {
      const list = g[kind];
      if (Array.isArray(list)) for (const e of list) if (isRecord(e) && typeof e[key] === "string") recipients.push(`${kind} ${e[key]}`);
    }
  }
  return { recipients };
}


function maskValue(value: JsonValue, before: JsonValue | undefined, credentialField: boolean, ctx: MaskContext): JsonValue {
  if (typeof value === "string") {
    const secret = (credentialField && value !== "") || isSopsEncryptedValue(value) || looksLikeCredential(value) || ctx.secretValues.some((s) => value.includes(s));
    return secret ? marker(value, before, ctx) : value;
  }
  if (Array.isArray(value)) {
    const prev = Array.isArray(before) ? before : [];
    return value.map((v, i) => maskValue(v, prev[i], credentialField, ctx));
  }
  if (isRecord(value)) {
    const prev = isRecord(before) ? before : {};
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskValue(v, prev[k], isCredentialName(k), ctx);
    return out;
  }
  return value;
}

function marker(value: JsonValue, before: JsonValue | undefined, ctx: MaskContext): string {
  return ctx.compare && before !== undefined && !isDeepStrictEqual(before, value) ? maskedChangedValue : maskedValue;
}

// The annotation is JSON of a whole object: masked whole when that object holds anything masked.
function maskLastApplied(obj: KObject, out: KObject, options: MaskOptions, isSecret: boolean, ctx: MaskContext): void {
  const annotations = isRecord(obj["metadata"]) ? obj["metadata"]["annotations"] : undefined;
  const applied = isRecord(annotations) ? annotations[lastAppliedAnnotation] : undefined;
  if (typeof applied !== "string") return;
  if (!isSecret && !holdsSecrets(applied, options)) return;
  const meta = out["metadata"] as Record<string, JsonValue>;
  const prev = options.before?.["metadata"];
  const prevAnnotations = isRecord(prev) ? prev["annotations"] : undefined;
  const before = isRecord(prevAnnotations) ? prevAnnotations[lastAppliedAnnotation] : undefined;
  meta["annotations"] = { ...(meta["annotations"] as Record<string, JsonValue>), [lastAppliedAnnotation]: marker(applied, before, ctx) };
}

function holdsSecrets(applied: string, options: MaskOptions): boolean {
  let stored: unknown;
  try {
    stored = JSON.parse(applied);
  } catch {
    return false;
  }
  return isRecord(stored) && !isDeepStrictEqual(maskSecrets(stored, { secretValues: options.secretValues }), stored);
}

/** Options of {@link maskSecretsInText}; every one may be left out. */
export interface TextMaskOptions {
  /** As {@link MaskOptions.secretValues}: each occurrence is masked. Default: none. */
  readonly secretValues?: ReadonlySet<string> | undefined;
}

const privateKeyBlock = /-----BEGIN ((?:[A-Z]+ )*PRIVATE KEY)-----[\s\S]*?(?:-----END \1-----|$)/g;
// `password = x`, `"apiToken": "x"`, `DB_PASSWORD=x`, `?token=x&`: a credential-named key, then `=` or `:`.
const keyedValue = /([A-Za-z_][A-Za-z0-9_.-]*)(["']?[ \t]*[:=][ \t]*)("[^"\n]*"|'[^'\n]*'|[^\s,;&"'#]+)/g;
// `secret x;` or `password x` at the start of a line (nginx-like directives, netrc-like files).
const leadingKeyValue = /^([ \t]*)([A-Za-z_][A-Za-z0-9_.-]*)([ \t]+)("[^"\n]*"|'[^'\n]*'|[^\s;]+)/gm;

/**
 * A copy of a text (a configuration file shown in a diff) with what looks like a secret masked,
 * by the patterns {@link maskSecrets} uses for values: a private key block (to its END line), a
 * value matching a credential pattern (a token, a password in a URL), the value after a key
 * named like a credential (`password = x`, `DB_PASSWORD: x`, `"apiToken": "x"`, `secret x;` at
 * the start of a line), and each of `secretValues`. Masked text keeps its quotes and the rest
 * of its line, so a diff of two masked texts still shows which lines changed.
 */
export function maskSecretsInText(text: string, options: TextMaskOptions = {}): string {
  let out = text;
  for (const s of options.secretValues ?? []) if (s !== "") out = out.split(s).join(maskedValue);
  out = out.replace(privateKeyBlock, (_m, label: string) => `-----BEGIN ${label}-----\n${maskedValue}\n-----END ${label}-----`);
  for (const p of credentialPatterns) {
    if (p.re.source.includes("PRIVATE KEY")) continue;
    out = out.replace(new RegExp(p.re.source, `${p.re.flags}g`), (m) => {
      // A URL keeps its scheme and user: only the password goes.
      const url = /^([^:]+:\/\/[^:]+:)[^@]*@$/.exec(m);
      return url === null ? maskedValue : `${url[1] ?? ""}${maskedValue}@`;
    });
  }
  const value = (v: string): string => (v.length >= 2 && (v[0] === '"' || v[0] === "'") ? `${v[0]}${maskedValue}${v[0]}` : maskedValue);
  const keep = (v: string): boolean => v === "" || v === '""' || v === "''" || v.includes(maskedValue);
  out = out.replace(keyedValue, (m, key: string, sep: string, v: string) => (isCredentialName(key) && !keep(v) ? `${key}${sep}${value(v)}` : m));
  return out.replace(leadingKeyValue, (m, indent: string, key: string, sep: string, v: string) => (isCredentialName(key) && !keep(v) ? `${indent}${key}${sep}${value(v)}` : m));
}
