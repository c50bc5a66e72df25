import type { JsonValue, KObject } from "./object.ts";
import { isRecord } from "./object.ts";
import type { YamlPath } from "./yaml-positions.ts";

// Whatever the cipher: a value of an unknown one is still not plaintext.
const encrypted = /^ENC\[[A-Z0-9_]+,data:/;

/** True for a value SOPS encrypted: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`. */
export function isSopsEncryptedValue(value: unknown): boolean {
  return typeof value === "string" && encrypted.test(value);
}

/** One encrypted value of an object and where it is. */
export interface EncryptedLeaf {
  readonly path: YamlPath;
  readonly value: string;
}

/** Every SOPS-encrypted value of an object, in document order; its top-level `sops` section is not walked. */
export function encryptedLeaves(obj: KObject): EncryptedLeaf[] {
  const out: EncryptedLeaf[] = [];
  const walk = (v: JsonValue, path: (string | number)[]): void => {
    if (typeof v === "string") {
      if (isSopsEncryptedValue(v)) out.push({ path, value: v });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (!(path.length === 0 && k === "sops")) walk(x, [...path, k]);
  };
  walk(obj, []);
  return out;
}
