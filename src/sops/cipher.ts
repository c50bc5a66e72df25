import { createDecipheriv } from "node:crypto";
import { SopsError } from "./types.ts";

/** A value sops encrypted: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` (sops' own pattern, unanchored at the end). */
const encPattern = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/s;

/** True when a string has the shape of a sops-encrypted value. */
export function isEncryptedValue(value: unknown): value is string {
  return typeof value === "string" && encPattern.test(value);
}

/** The type tags sops writes after `type:`. */
export type SopsValueType = "str" | "int" | "float" | "bool" | "bytes" | "time" | "comment";

/** A decrypted value: what the tree holds, and the bytes sops' `ToBytes` feeds the MAC. */
export interface PlainValue {
  readonly type: SopsValueType;
  /** The value as the document holds it: numbers and booleans typed, everything else a string. */
  readonly value: string | number | boolean;
  /** The decrypted bytes exactly (the binary format's plaintext). */
  readonly raw: Buffer;
  /** What sops hashes for this value (`ToBytes` of the typed value). */
  readonly macBytes: Buffer;
}

/** Why a ciphertext could not be opened: not of the ENC[...] form, or its GCM tag failed. */
export class OpenFailure extends Error {
  readonly reason: "malformed" | "tag";
  constructor(reason: "malformed" | "tag", message: string) {
    super(message);
    this.name = "OpenFailure";
    this.reason = reason;
  }
}

const types: ReadonlySet<string> = new Set(["str", "int", "float", "bool", "bytes", "time", "comment"]);

/**
 * Decrypts one ENC[...] value with the data key and AAD (`path:joined:by:colons:`, or the
 * file's lastmodified for the MAC), as sops' AES-GCM cipher does: the nonce is the 32-byte IV.
 * Throws {@link OpenFailure}; the messages never hold the plaintext.
 */
export function openValue(ciphertext: string, key: Buffer, aad: string): PlainValue {
  const m = encPattern.exec(ciphertext);
  if (m === null) throw new OpenFailure("malformed", "is not an ENC[AES256_GCM,...] value");
  const [, data = "", iv = "", tag = "", type = ""] = m;
  if (!types.has(type)) throw new OpenFailure("malformed", `has an unknown type '${type.slice(0, 20)}'`);
  const ivBytes = Buffer.from(iv, "base64");
  const tagBytes = Buffer.from(tag, "base64");
  if (ivBytes.length === 0 || tagBytes.length !== 16) throw new OpenFailure("malformed", "has a malformed iv or tag");
  let raw: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, ivBytes);
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(tagBytes);
    raw = Buffer.concat([decipher.update(Buffer.from(data, "base64")), decipher.final()]);
  } catch {
    throw new OpenFailure("tag", "failed its integrity check (AES-GCM tag)");
  }
  return typedValue(type as SopsValueType, raw);
}

function typedValue(type: SopsValueType, raw: Buffer): PlainValue {
  const text = raw.toString("utf8");
  switch (type) {
    case "int": {
      if (!/^[+-]?\d+$/.test(text)) throw new OpenFailure("malformed", "holds an int that does not parse");
      // Itoa of Atoi: the canonical decimal, exact even past 2^53.
      const canonical = BigInt(text).toString();
      return { type, value: Number(canonical), raw, macBytes: Buffer.from(canonical) };
    }
    case "float": {
      const n = Number(text);
      if (text.trim() === "" || Number.isNaN(n) && !/^[+-]?nan$/i.test(text)) throw new OpenFailure("malformed", "holds a float that does not parse");
      return { type, value: n, raw, macBytes: Buffer.from(goFormatFloat(n)) };
    }
    case "bool": {
      const b = goParseBool(text);
      if (b === undefined) throw new OpenFailure("malformed", "holds a bool that does not parse");
      return { type, value: b, raw, macBytes: Buffer.from(b ? "True" : "False") };
    }
    default:
      return { type, value: text, raw, macBytes: raw };
  }
}

/** Go's `strconv.ParseBool`. */
function goParseBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

/** Go's `strconv.FormatFloat(n, 'f', -1, 64)`: the shortest digits that round-trip, never an exponent. */
function goFormatFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : "-Inf";
  if (Object.is(n, -0)) return "-0";
  const s = String(n);
  const e = s.indexOf("e");
  if (e < 0) return s;
  const sign = s.startsWith("-") ? "-" : "";
  const [intPart = "", frac = ""] = s.slice(sign.length, e).split(".");
  const digits = intPart + frac;
  // Where the decimal point falls within `digits`.
  const point = intPart.length + Number(s.slice(e + 1));
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** What sops' `ToBytes` hashes for a value left in clear (strings, numbers, booleans). */
export function macBytesOf(value: string | number | boolean): Buffer {
  if (typeof value === "boolean") return Buffer.from(value ? "True" : "False");
  if (typeof value === "number") return Buffer.from(goFormatFloat(value));
  return Buffer.from(value, "utf8");
}

/**
 * Decrypts the stored MAC (AAD: lastmodified as Go formats RFC 3339, without fractional seconds)
 * and returns it as upper-case hex text. A tag failure is `tampered`: the MAC or lastmodified changed.
 */
export function openMac(mac: string, key: Buffer, lastModified: string): string {
  const aad = lastModified.replace(/\.\d+(?=(Z|[+-]\d\d:\d\d)$)/i, "").replace(/z$/, "Z");
  try {
    return openValue(mac, key, aad).raw.toString("utf8");
  } catch (e: unknown) {
    if (e instanceof OpenFailure && e.reason === "malformed") throw new SopsError("malformed", `sops.mac ${e.message}`);
    throw new SopsError("tampered", "sops.mac failed its integrity check: the MAC or lastmodified was changed, or the data key is not this file's");
  }
}
