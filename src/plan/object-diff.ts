import { isDeepStrictEqual } from "node:util";
import { structuredPatch } from "diff";
import { stringify } from "yaml";
import type { KObject } from "../core/object.ts";
import { maskSecrets } from "../core/mask-secrets.ts";

/** True when two objects hold the same desired state. */
export function sameObject(a: KObject, b: KObject): boolean {
  return isDeepStrictEqual(a, b);
}

/**
 * A unified diff of two objects as YAML, secret values masked, without file headers:
 * `@@` hunks with three lines of context, the form reviewers know from Git.
 */
export function diffObjects(before: KObject, after: KObject): string {
  const a = toYaml(maskSecrets(before));
  const b = toYaml(maskSecrets(after, { before }));
  const patch = structuredPatch("base", "head", a, b, "", "", { context: 3 });
  const lines: string[] = [];
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const l of hunk.lines) if (!l.startsWith("\\")) lines.push(l);
  }
  return lines.join("\n");
}

function toYaml(obj: KObject): string {
  return stringify(obj, { version: "1.2", lineWidth: 0, sortMapEntries: false });
}
