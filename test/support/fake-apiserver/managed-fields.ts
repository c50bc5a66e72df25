import { FieldSet } from "./field-set.ts";
import type { JsonObject } from "./values.ts";
import { isObject } from "./values.ts";

/** The two managedFields operations. */
export type Operation = "Apply" | "Update";

/** One managedFields entry, its field set decoded. */
export interface ManagerEntry {
  readonly manager: string;
  readonly operation: Operation;
  readonly apiVersion: string;
  /** "" for the main resource, "status" for the status subresource. */
  readonly subresource: string;
  readonly time: string | undefined;
  readonly set: FieldSet;
}

/** Entries by identity: manager, operation, subresource and (for Update) apiVersion. */
export type Managers = Map<string, ManagerEntry>;

/** The identity the API server keys entries by; appliers keep one entry across versions. */
export function managerId(e: Pick<ManagerEntry, "manager" | "operation" | "apiVersion" | "subresource">): string {
  return JSON.stringify([e.manager, e.operation, e.operation === "Apply" ? "" : e.apiVersion, e.subresource]);
}

/** Decodes `metadata.managedFields`; malformed entries are dropped. */
export function decodeManagedFields(value: unknown): Managers {
  const managers: Managers = new Map();
  if (!Array.isArray(value)) return managers;
  for (const raw of value) {
    if (!isObject(raw)) continue;
    const operation = raw["operation"] === "Apply" ? "Apply" : "Update";
    const entry: ManagerEntry = {
      manager: typeof raw["manager"] === "string" ? raw["manager"] : "",
      operation,
      apiVersion: typeof raw["apiVersion"] === "string" ? raw["apiVersion"] : "",
      subresource: typeof raw["subresource"] === "string" ? raw["subresource"] : "",
      time: typeof raw["time"] === "string" ? raw["time"] : undefined,
      set: FieldSet.fromFieldsV1(raw["fieldsV1"]),
    };
    if (entry.set.isEmpty()) continue;
    managers.set(managerId(entry), entry);
  }
  return managers;
}

/** Encodes entries in the wire layout and in the API server's order. */
export function encodeManagedFields(managers: Managers): JsonObject[] | undefined {
  const entries = [...managers.values()].filter((e) => !e.set.isEmpty());
  if (entries.length === 0) return undefined;
  entries.sort(compareEntries);
  return entries.map((e) => ({
    manager: e.manager,
    operation: e.operation,
    apiVersion: e.apiVersion,
    ...(e.time === undefined ? {} : { time: e.time }),
    fieldsType: "FieldsV1",
    fieldsV1: e.set.toFieldsV1(),
    ...(e.subresource === "" ? {} : { subresource: e.subresource }),
  }));
}

// sortEncodedManagedFields: Apply before Update, then by time (seconds), manager, apiVersion,
// subresource.
function compareEntries(a: ManagerEntry, b: ManagerEntry): number {
  if (a.operation !== b.operation) return a.operation < b.operation ? -1 : 1;
  const ta = a.time === undefined ? 0 : Date.parse(a.time);
  const tb = b.time === undefined ? 0 : Date.parse(b.time);
  if (ta !== tb) return ta - tb;
  for (const key of ["manager", "apiVersion", "subresource"] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  return 0;
}

/** Formats a time as the API server does in metadata: RFC 3339, whole seconds, UTC. */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** The paths the API server never tracks ownership of (its stripMetaManager). */
export function stripMeta(set: FieldSet): FieldSet {
  const strip = new FieldSet();
  for (const field of ["apiVersion", "kind", "metadata"]) strip.insert([{ field }]);
  for (const field of ["name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation", "managedFields", "resourceVersion"]) {
    strip.insert([{ field: "metadata" }, { field }]);
  }
  return set.difference(strip);
}

/**
 * The manager name of a non-apply write: the fieldManager parameter, else the User-Agent up to
 * its first "/", else "unknown".
 */
export function updateManagerName(fieldManager: string | null, userAgent: string | undefined): string {
  if (fieldManager !== null && fieldManager !== "") return fieldManager;
  if (userAgent === undefined || userAgent === "") return "unknown";
  const slash = userAgent.indexOf("/");
  return slash < 0 ? userAgent : userAgent.slice(0, slash);
}
