import type { KObject } from "../core/object.ts";
import { getPath } from "../core/object.ts";

/** The annotation naming the policies an object is exempt from, comma-separated. */
export const EXEMPT_ANNOTATION = "gitward.dev/policy-exempt";
/** The annotation saying why; an exemption without one is not honoured. */
export const EXEMPT_REASON_ANNOTATION = "gitward.dev/policy-exempt-reason";

/** What an object's exemption annotations ask for. */
export interface ExemptionRequest {
  /** Policy names, trimmed, without duplicates. */
  readonly policies: readonly string[];
  /** The trimmed reason, or undefined when missing or blank. */
  readonly reason: string | undefined;
}

/** Reads an object's exemption annotations, or undefined when it asks for none. */
export function readExemptionRequest(object: KObject): ExemptionRequest | undefined {
  const names = getPath(object, ["metadata", "annotations", EXEMPT_ANNOTATION]);
  if (typeof names !== "string") return undefined;
  const policies = [...new Set(names.split(",").map((n) => n.trim()).filter((n) => n !== ""))];
  if (policies.length === 0) return undefined;
  const rawReason = getPath(object, ["metadata", "annotations", EXEMPT_REASON_ANNOTATION]);
  const reason = typeof rawReason === "string" && rawReason.trim() !== "" ? rawReason.trim() : undefined;
  return { policies, reason };
}
