import { join } from "node:path";
import type { Inventory, StackRef } from "../provider.ts";
import { readJsonFile, writeJsonAtomic } from "./fs/atomic.ts";
import { stateDirName } from "./fs/paths.ts";

/** One path gitward manages under a root, and whether gitward created it (only those are ever deleted). */
export interface PathRecord {
  readonly kind: "File" | "Directory";
  /** `environment/stack`. */
  readonly owner: string;
  /** The object's ref key. */
  readonly ref: string;
  /** False when the path existed before gitward managed it: prune then leaves it in place. */
  readonly created: boolean;
}

/** Every path managed under one root, by path: shared by all stacks using the target. */
export interface PathRegistry {
  readonly version: 1;
  readonly paths: Readonly<Record<string, PathRecord>>;
}

/** The owner string of a stack in the registry. */
export function ownerOf(stack: StackRef): string {
  return `${stack.environment}/${stack.stack}`;
}

/** Reads the registry; an empty one when the root was never synced. */
export async function readRegistry(root: string): Promise<PathRegistry> {
  return (await readJsonFile<PathRegistry>(join(root, stateDirName, "paths.json"))) ?? { version: 1, paths: {} };
}

/** Writes the registry atomically. */
export async function writeRegistry(root: string, registry: PathRegistry): Promise<void> {
  await writeJsonAtomic(join(root, stateDirName, "paths.json"), registry);
}

function inventoryPath(root: string, stack: StackRef): string {
  return join(root, stateDirName, "inventory", `${stack.environment}.${stack.stack}.json`);
}

/** The stack's inventory under the root, or undefined before its first sync. */
export async function readHostInventory(root: string, stack: StackRef): Promise<Inventory | undefined> {
  return readJsonFile<Inventory>(inventoryPath(root, stack));
}

/** Writes the stack's inventory atomically. */
export async function writeHostInventory(root: string, inventory: Inventory): Promise<void> {
  await writeJsonAtomic(inventoryPath(root, inventory.stack), inventory);
}
