import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { InventorySummary } from "../provider.ts";
import { stateDirName } from "./fs/paths.ts";
import { readHostInventory } from "./state.ts";

/** The inventories of an environment under a root (`.gitward/inventory/<environment>.<stack>.json`). */
export async function listHostInventories(root: string, environment: string, except?: ReadonlySet<string>): Promise<InventorySummary[]> {
  let names: string[];
  try {
    names = await readdir(join(root, stateDirName, "inventory"));
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const out: InventorySummary[] = [];
  for (const name of names) {
    // Environment and stack names are DNS labels: no dots, so the first dot separates them.
    const m = /^([^.]+)\.([^.]+)\.json$/.exec(name);
    // A stack the caller knows is not read: the agent's drift pass would read every inventory twice.
    if (m?.[1] !== environment || m[2] === undefined || except?.has(m[2]) === true) continue;
    const inv = await readHostInventory(root, { environment, stack: m[2] });
    if (inv !== undefined) out.push({ stack: m[2], revision: inv.revision, objects: inv.entries.length });
  }
  return out;
}
