/** How the UI names an object: `Kind/namespace/name`, the human form gitward uses everywhere. */
import type { ApiRef } from "../types.ts";

/** `Deployment/web/api`, or `Namespace/web` for cluster-scoped objects. */
export function refText(ref: ApiRef): string {
  return [ref.kind, ref.namespace, ref.name].filter((p) => p !== undefined && p !== "").join("/");
}
