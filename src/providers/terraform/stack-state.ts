import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { isRecord, type KObject } from "../../core/object.ts";
import { moduleKind, terraformGroup, type ModuleSpec } from "../../core/terraform-objects.ts";
import { readJsonFile, writeJsonAtomic } from "../host/fs/atomic.ts";
import type { DesiredObject, Inventory, InventorySummary, StackRef } from "../provider.ts";

/**
 * What gitward keeps per Terraform stack instance under `<cache>/terraform/inventory`: the
 * inventory the engine writes (its entries are the resource addresses in the state after the
 * last sync), the last outputs (sensitive ones masked), and where the last module copy is, so
 * a stack removed from Git can still be planned for destruction.
 */
export interface TerraformInventory extends Inventory {
  /** Outputs after the last successful apply; sensitive values are "(sensitive value)". */
  readonly outputs?: Readonly<Record<string, { readonly value: unknown; readonly sensitive: boolean }>>;
  /** The materialized module and variables of the last sync. */
  readonly module?: { readonly dir: string; readonly path: string; readonly vars: Readonly<Record<string, string>> };
  /**
   * The target whose state holds the stack: the inventories of an environment's Terraform
   * targets share the cache, and only this target may report (or destroy) the stack as orphaned.
   */
  readonly target?: string;
}

/** The Module object among a stack's desired objects, validated; undefined when there is none. */
export function moduleOf(desired: readonly DesiredObject[]): { object: DesiredObject; spec: ModuleSpec } | undefined {
  const modules = desired.filter((d) => d.ref.group === terraformGroup && d.ref.kind === moduleKind);
  if (desired.length !== modules.length || modules.length > 1) {
    const other = desired.find((d) => d.ref.group !== terraformGroup || d.ref.kind !== moduleKind);
    throw new GitwardError(ErrorCode.Config, `a terraform target deploys one root module per stack; got ${other === undefined ? `${modules.length} modules` : `${other.ref.kind}/${other.ref.name}`}`, {
      hint: "point the stack's path at a Terraform root module directory",
    });
  }
  const object = modules[0];
  if (object === undefined) return undefined;
  return { object, spec: parseModuleSpec(object.object) };
}

function parseModuleSpec(object: KObject): ModuleSpec {
  const spec = object["spec"];
  if (!isRecord(spec) || typeof spec["filesHash"] !== "string" || !Array.isArray(spec["files"]) || !isRecord(spec["vars"]) || typeof spec["path"] !== "string") {
    throw new GitwardError(ErrorCode.Internal, "the Module object lacks spec.path, spec.filesHash, spec.files or spec.vars");
  }
  return spec as unknown as ModuleSpec;
}

/** The stack a labelled desired object belongs to (the engine labels every desired object). */
export function stackOfObject(d: DesiredObject): StackRef {
  const labels = isRecord(d.object["metadata"]) && isRecord(d.object["metadata"]["labels"]) ? d.object["metadata"]["labels"] : {};
  const environment = labels["gitward.dev/environment"];
  const stack = labels["gitward.dev/stack"];
  if (typeof environment !== "string" || typeof stack !== "string") throw new GitwardError(ErrorCode.Internal, "the Module object carries no stack labels");
  return { environment, stack };
}

/**
 * Writes the module's files into `<base>/modules/<env>.<stack>/<filesHash>`, once per content,
 * and removes older copies of the stack. Paths are checked to stay inside the copy.
 */
export async function materializeModule(base: string, stack: StackRef, spec: ModuleSpec): Promise<string> {
  const parent = join(base, "modules", `${stack.environment}.${stack.stack}`);
  const dir = join(parent, spec.filesHash);
  const done = join(parent, `${spec.filesHash}.done`);
  if ((await readJsonFile<boolean>(done)) === true) return dir;
  await rm(parent, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const f of spec.files) {
    const path = resolve(dir, f.path);
    if (!path.startsWith(dir + sep)) throw new GitwardError(ErrorCode.Config, `module ${spec.path}: file ${f.path} is outside the module directory`);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, f.base64 === true ? Buffer.from(f.content, "base64") : f.content, { mode: f.executable === true ? 0o700 : 0o600 });
  }
  await writeJsonAtomic(done, true);
  return dir;
}

function inventoryPath(base: string, stack: StackRef): string {
  return join(base, "inventory", `${stack.environment}.${stack.stack}.json`);
}

/** The stack's inventory, or undefined before its first sync. */
export function readTerraformInventory(base: string, stack: StackRef): Promise<TerraformInventory | undefined> {
  return readJsonFile<TerraformInventory>(inventoryPath(base, stack));
}

/** Writes the stack's inventory atomically. */
export async function writeTerraformInventory(base: string, inventory: TerraformInventory): Promise<void> {
  await mkdir(join(base, "inventory"), { recursive: true, mode: 0o700 });
  await writeJsonAtomic(inventoryPath(base, inventory.stack), inventory);
}

/** Deletes the stack's inventory. */
export async function deleteTerraformInventory(base: string, stack: StackRef): Promise<void> {
  await rm(inventoryPath(base, stack), { force: true });
}

/**
 * The inventories of an environment's stacks on one target, in brief. Inventories written
 * before they named their target are left out: which state holds them is not known.
 */
export async function listTerraformInventories(base: string, environment: string, target: string, except?: ReadonlySet<string>): Promise<InventorySummary[]> {
  const names = await readdir(join(base, "inventory")).catch(() => [] as string[]);
  const out: InventorySummary[] = [];
  for (const n of names) {
    if (!n.startsWith(`${environment}.`) || !n.endsWith(".json")) continue;
    const stack = n.slice(environment.length + 1, -".json".length);
    if (except?.has(stack) === true) continue;
    const inv = await readTerraformInventory(base, { environment, stack });
    if (inv !== undefined && inv.target === target) out.push({ stack, revision: inv.revision, objects: inv.entries.length });
  }
  return out;
}
