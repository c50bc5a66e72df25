import { stringify } from "yaml";
import { maskSecrets } from "../../core/mask-secrets.ts";
import type { KObject } from "../../core/object.ts";
import { isRecord } from "../../core/object.ts";
import { unifiedHunks } from "../../core/text-diff.ts";

/**
 * The readable diff of a live object and what it would become: both sides cleaned of what the
 * server writes for itself, secret values masked ({@link maskSecrets}), as YAML in unified form.
 */

const serverMetadata = ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"];

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
 * A unified diff (`@@` hunks, three lines of context, no file headers) of two objects as YAML,
 * after {@link cleanForDiff} and {@link maskSecrets}. `before` undefined diffs against nothing.
 * `secretFields` (those SOPS encrypted in Git) are masked on both sides.
 */
export function diffObjects(before: KObject | undefined, after: KObject, secretFields?: readonly string[]): string {
  const a = before === undefined ? undefined : cleanForDiff(before);
  const b = cleanForDiff(after);
  const left = a === undefined ? "" : toYaml(maskSecrets(a, { fields: secretFields }));
  const right = toYaml(maskSecrets(b, { before: a, fields: secretFields }));
  return unifiedHunks(left, right);
}

// YAML 1.2 so strings such as `on` and `0755` print quoted, not as YAML 1.1 booleans and octals.
function toYaml(obj: KObject): string {
  return stringify(obj, { version: "1.2", lineWidth: 0, sortMapEntries: false });
}
