import { refKey } from "../../core/objref.ts";
import type { DesiredObject, Inventory } from "../provider.ts";

// The inventory itself is a file under the root (state.ts); these are what the verbs take from it.

/** Inventory entries no longer desired. */
export function staleEntries(inventory: Inventory | undefined, desired: readonly DesiredObject[]): Inventory["entries"] {
  const wanted = new Set(desired.map((d) => refKey(d.ref)));
  return (inventory?.entries ?? []).filter((e) => !wanted.has(refKey(e.ref)));
}
