import type { JsonValue, KObject } from "../../core/object.ts";
import { isRecord } from "../../core/object.ts";
import { storedQuantities } from "./quantity-fields.ts";

/**
 * Desired objects in the form the API server stores, where applying the written form would never
 * look settled: gitward applies this form, and compares it with live objects, so an unchanged
 * manifest is found unchanged and an apply does not write values the server would only rewrite.
 *
 * - A Secret's `stringData` is write-only: the server merges it into `data` (base64) and never
 *   returns it, so managedFields would name a field the live object can never show, and every
 *   sync would write again. It is merged into `data` here, as the server would, `stringData`
 *   winning on a shared key.
 * - Quantities in the quantity fields of built-in kinds (`cpu: 1000m`) are stored canonical
 *   (`"1"`); an apply that sends `1000m` writes every time on a v1.24 server, even when nothing
 *   changed. They are put in their stored form ({@link storedQuantities}).
 *
 * Applying this twice changes nothing more than applying it once.
 */
export function normalizeForApply(obj: KObject): KObject {
  return storedQuantities(mergeStringData(obj));
}

function mergeStringData(obj: KObject): KObject {
  const stringData = obj["stringData"];
  if (obj["apiVersion"] !== "v1" || obj["kind"] !== "Secret" || !isRecord(stringData)) return obj;
  // A value that is not a string is left for the server to reject with its own message.
  if (!Object.values(stringData).every((v) => typeof v === "string")) return obj;
  const data: { [k: string]: JsonValue } = isRecord(obj["data"]) ? { ...obj["data"] } : {};
  for (const [k, v] of Object.entries(stringData as Record<string, string>)) data[k] = Buffer.from(v, "utf8").toString("base64");
  const out: KObject = { ...obj, data };
  delete out["stringData"];
  return out;
}
