import { stringify } from "yaml";
import type { JsonValue, KObject } from "../../core/object.ts";
import { unifiedHunks } from "../../core/text-diff.ts";
import { isRecord } from "../../core/object.ts";
import { jsonEqual } from "./json-equal.ts";

/**
 * The readable diff of a live object and what it would become: both sides cleaned of what the
 * server writes for itself, Secret values masked, as YAML in unified form.
 */

/** What a masked value is shown as. */
export const maskedValue = "***";
const maskedChanged = "*** (changed)";

const serverMetadata = ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"];
// Holds the whole previous object, Secret values included, as kubectl apply wrote it.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration";

/** The object without status and the metadata the server writes (managedFields, resourceVersion, ...). */
export function cleanForDiff(obj: KObject): KObject {
  const out: KObject = { ...obj };
  delete out["status"];
  if (isRecord(out["metadata"])) {
    const meta = { ...out["metadata"] };
    for (const k of serverMetadata) delete meta[k];
    out["metadata"] = meta;
  }
  return out;
}

/**
 * Masks a Secret's `data` and `stringData` values and its last-applied annotation. With the
 * other side of the diff, a value that differs from it shows as changed, so a reviewer sees
 * which key changed but never to what.
 */
export function maskSecret(obj: KObject, other?: KObject): KObject {
  if (obj["kind"] !== "Secret" || obj["apiVersion"] !== "v1") return obj;
  const out: KObject = { ...obj };
  for (const field of ["data", "stringData"]) {
    const cur = obj[field];
    if (!isRecord(cur)) continue;
    const prev = other?.[field];
    const masked: { [k: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(cur)) {
      const old = isRecord(prev) ? prev[k] : undefined;
      masked[k] = old !== undefined && !jsonEqual(old, v) ? maskedChanged : maskedValue;
    }
    out[field] = masked;
  }
  const meta = out["metadata"];
  if (isRecord(meta) && isRecord(meta["annotations"]) && meta["annotations"][lastApplied] !== undefined) {
    out["metadata"] = { ...meta, annotations: { ...meta["annotations"], [lastApplied]: maskedValue } };
  }
  return out;
}

/**
 * A unified diff (`@@` hunks, three lines of context, no file headers) of two objects as YAML,
 * after {@link cleanForDiff} and {@link maskSecret}. `before` undefined diffs against nothing.
 */
export function diffObjects(before: KObject | undefined, after: KObject): string {
  const a = before === undefined ? undefined : cleanForDiff(before);
  const b = cleanForDiff(after);
  const left = a === undefined ? "" : toYaml(maskSecret(a));
  const right = toYaml(maskSecret(b, a));
  return unifiedHunks(left, right);
}

// YAML 1.2 so strings such as `on` and `0755` print quoted, not as YAML 1.1 booleans and octals.
function toYaml(obj: KObject): string {
  return stringify(obj, { version: "1.2", lineWidth: 0, sortMapEntries: false });
}
