import type { DesiredObject } from "../provider.ts";
import type { HostObjectSpec } from "./kinds.ts";

/** A desired host object, parsed, with its owner and group resolved to ids. */
export interface ResolvedObject {
  readonly desired: DesiredObject;
  readonly spec: HostObjectSpec;
  readonly uid?: number;
  readonly gid?: number;
}

/** A desired host object that cannot be applied, and why. */
export interface InvalidObject {
  readonly desired: DesiredObject;
  readonly error: string;
}

/** The object's resolved ids, leaving out those it does not set (for scans and operations). */
export function idsOf(o: ResolvedObject): { uid?: number; gid?: number } {
  return { ...(o.uid === undefined ? {} : { uid: o.uid }), ...(o.gid === undefined ? {} : { gid: o.gid }) };
}
