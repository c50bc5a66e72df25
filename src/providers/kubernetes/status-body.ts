import { isRecord } from "../../core/object.ts";

/** One entry of a Status's `details.causes`. */
export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

/** The fields of a `Status` answer that failures are classified and described by. */
export interface ParsedStatus {
  /** "" when the Status has none. */
  readonly reason: string;
  readonly code?: number;
  /** "" when the Status has none. */
  readonly message: string;
  readonly causes: StatusCause[];
  readonly retryAfterSeconds?: number;
}

/** Reads an answer body as a `Status` (`kind: Status`); undefined for anything else. */
export function parseStatus(body: string): ParsedStatus | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value["kind"] !== "Status") return undefined;
  const details = isRecord(value["details"]) ? value["details"] : {};
  const causes: StatusCause[] = [];
  if (Array.isArray(details["causes"])) {
    for (const c of details["causes"]) {
      if (!isRecord(c)) continue;
      causes.push({
        ...(typeof c["reason"] === "string" ? { reason: c["reason"] } : {}),
        ...(typeof c["message"] === "string" ? { message: c["message"] } : {}),
        ...(typeof c["field"] === "string" ? { field: c["field"] } : {}),
      });
    }
  }
  const retry = details["retryAfterSeconds"];
  return {
    reason: typeof value["reason"] === "string" ? value["reason"] : "",
    ...(typeof value["code"] === "number" ? { code: value["code"] } : {}),
    message: typeof value["message"] === "string" ? value["message"] : "",
    causes,
    ...(typeof retry === "number" && retry > 0 ? { retryAfterSeconds: retry } : {}),
  };
}
