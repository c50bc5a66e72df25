import type { JsonValue, KObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import { looksLikeCredential } from "../check/secrets.ts";

/** What a masked value is shown as. */
export const maskedValue = "***";
const maskedChanged = "*** (changed)";

/**
 * Masks secret values before anything is shown: every value under a Secret's data and
 * stringData, and any string that looks like a credential. With a `before` object, a value
 * that differs from before is shown as changed, so reviewers see which key changed but not to what.
 */
export function maskSecrets(obj: KObject, before?: KObject): KObject {
  const isSecret = obj["kind"] === "Secret" && obj["apiVersion"] === "v1";
  const out = maskCredentials(obj) as KObject;
  if (!isSecret) return out;
  for (const field of ["data", "stringData"]) {
    const cur = obj[field];
    if (!isRecord(cur)) continue;
    const prev = before?.[field];
    const masked: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(cur)) {
      const old = isRecord(prev) ? prev[k] : undefined;
      masked[k] = before !== undefined && old !== undefined && old !== v ? maskedChanged : maskedValue;
    }
    out[field] = masked;
  }
  return out;
}

function maskCredentials(value: JsonValue): JsonValue {
  if (typeof value === "string") return looksLikeCredential(value) ? maskedValue : value;
  if (Array.isArray(value)) return value.map(maskCredentials);
  if (isRecord(value)) {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskCredentials(v);
    return out;
  }
  return value;
}
