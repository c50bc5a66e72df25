/**
 * What the signed-in principal may do, from `/me`'s grants, with the agent's own rules
 * (`src/agent/http/access.ts`, pure), so a button shows exactly when the API would allow it.
 */
import { can, type Action } from "../../src/agent/http/access.ts";
import type { Me } from "./types.ts";

/** Whether `me` may do `action` (on `environment` for read, sync and rollback). */
export function allowed(me: Me | null | undefined, action: Action, environment?: string): boolean {
  if (me === null || me === undefined) return false;
  return can({ kind: me.kind, name: me.name, grants: me.grants }, action, environment);
}
