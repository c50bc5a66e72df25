import type { JsonValue, KObject } from "../../core/object.ts";
import { getPath, isRecord } from "../../core/object.ts";

/** One entry of `status.conditions`, as the API conventions describe it. */
export interface Condition {
  readonly type: string;
  /** `True`, `False` or `Unknown`. */
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly observedGeneration?: number;
}

/** The well-formed entries of `status.conditions`; malformed ones are skipped. */
export function conditionsOf(obj: KObject): Condition[] {
  const raw = getPath(obj, ["status", "conditions"]);
  if (!Array.isArray(raw)) return [];
  const out: Condition[] = [];
  for (const c of raw) {
    if (!isRecord(c) || typeof c["type"] !== "string" || typeof c["status"] !== "string") continue;
    out.push({
      type: c["type"],
      status: c["status"],
      ...(typeof c["reason"] === "string" ? { reason: c["reason"] } : {}),
      ...(typeof c["message"] === "string" ? { message: c["message"] } : {}),
      ...(typeof c["observedGeneration"] === "number" ? { observedGeneration: c["observedGeneration"] } : {}),
    });
  }
  return out;
}

/** The condition of a type, if the object reports it. */
export function findCondition(obj: KObject, type: string): Condition | undefined {
  return conditionsOf(obj).find((c) => c.type === type);
}

/** A number at a path, or `fallback` when absent or not a number. */
export function numberAt(obj: KObject, path: readonly string[], fallback: number): number {
  const v = getPath(obj, path);
  return typeof v === "number" ? v : fallback;
}

/** A number at a path, or undefined. */
export function optionalNumberAt(obj: KObject, path: readonly string[]): number | undefined {
  const v = getPath(obj, path);
  return typeof v === "number" ? v : undefined;
}

/** A string at a path, or undefined. */
export function stringAt(obj: KObject, path: readonly string[]): string | undefined {
  const v = getPath(obj, path);
  return typeof v === "string" ? v : undefined;
}

/** The value at a path, or undefined. */
export function valueAt(obj: KObject, path: readonly string[]): JsonValue | undefined {
  return getPath(obj, path);
}

/** A condition's reason and message joined for a health message: `Reason: message`. */
export function describeCondition(c: Condition): string {
  const reason = c.reason ?? "";
  const message = c.message ?? "";
  if (reason !== "" && message !== "") return `${reason}: ${message}`;
  return reason !== "" ? reason : message !== "" ? message : `${c.type}=${c.status}`;
}
