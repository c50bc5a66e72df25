import { createHash } from "node:crypto";
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { TerraformStack, TerraformTarget } from "./types.ts";

/** The places of one stack instance's private working directory. */
export interface WorkingPaths {
  /** `<cacheDir>/stacks/<environment>/<stack>`: everything of this stack instance. */
  readonly dir: string;
  /** The private copy of the root module, where Terraform runs. */
  readonly root: string;
  /** Terraform's data directory (`TF_DATA_DIR`): backend, providers and modules of `init`. */
  readonly dataDir: string;
  /** A second data directory for `validate`, initialized without a backend. */
  readonly validateDataDir: string;
  /** Saved plans. */
  readonly plans: string;
  /** The hash of what `init` depends on, as of the last successful one. */
  readonly initHash: string;
  /** The plugin cache every stack shares (`TF_PLUGIN_CACHE_DIR`). */
  readonly pluginCache: string;
}

/** The file gitward writes its variables to, in the private copy. */
export const varsFileName = "gitward.auto.tfvars.json";

// Kept in the private copy across syncs of the module: local state (a module without a backend
// keeps it in its directory) and the lock file that init wrote when the module has none.
const keptNames = new Set(["terraform.tfstate", "terraform.tfstate.backup", "terraform.tfstate.d", ".terraform.tfstate.lock.info", ".terraform.lock.hcl"]);

/** The working paths of a stack instance; names that are not plain path segments are hashed. */
export function workingPaths(stack: TerraformStack): WorkingPaths {
  const cacheDir = resolve(stack.cacheDir);
  const dir = join(cacheDir, "stacks", segment(stack.environment), segment(stack.stack));
  return {
    dir,
    root: join(dir, "root"),
    dataDir: join(dir, "data"),
    validateDataDir: join(dir, "validate-data"),
    plans: join(dir, "plans"),
    initHash: join(dir, "init.sha256"),
    pluginCache: join(cacheDir, "plugin-cache"),
  };
}

function segment(name: string): string {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(name) ? name : `_${createHash("sha256").update(name).digest("hex").slice(0, 16)}`;
}

/**
 * Makes the private copy equal to the module directory (without its `.terraform`), keeping
 * local state and a lock file init wrote, then writes gitward's variables into it.
 */
export async function syncWorkingCopy(stack: TerraformStack, paths: WorkingPaths): Promise<void> {
  await mkdir(paths.root, { recursive: true });
  await mkdir(paths.plans, { recursive: true });
  await mkdir(paths.pluginCache, { recursive: true });
  const sourceNames = new Set(await readdir(stack.moduleDir));
  for (const name of await readdir(paths.root)) {
    const keep = keptNames.has(name) && !sourceNames.has(name);
    if (!keep) await rm(join(paths.root, name), { recursive: true, force: true });
  }
  await cp(stack.moduleDir, paths.root, {
    recursive: true,
    filter: (src) => !/(^|[/\\])\.terraform$/.test(src) && !src.endsWith(`/${varsFileName}`),
  });
  await writeFile(join(paths.root, varsFileName), `${JSON.stringify(stack.vars, null, 2)}\n`, { mode: 0o600 });
}

/**
 * The hash of what `init` depends on: the binary, the backend settings (and the backend file's
 * content), the workspace and the module's lock file. Another hash means init runs again.
 */
export async function initInputsHash(target: TerraformTarget, stack: TerraformStack): Promise<string> {
  const read = async (p: string): Promise<string | null> => readFile(p, "utf8").catch(() => null);
  const inputs = {
    binary: target.binary,
    backendConfig: Object.entries(target.backendConfig ?? {}).sort(([a], [b]) => a.localeCompare(b)),
    backendConfigFile: target.backendConfigFile ?? null,
    backendConfigFileContent: target.backendConfigFile === undefined ? null : await read(target.backendConfigFile),
    workspace: target.workspace ?? null,
    lockFile: await read(join(stack.moduleDir, ".terraform.lock.hcl")),
  };
  return createHash("sha256").update(JSON.stringify(inputs)).digest("hex");
}

/** The hash stored by the last successful init, or null. */
export async function storedInitHash(paths: WorkingPaths): Promise<string | null> {
  return (await readFile(paths.initHash, "utf8").catch(() => null))?.trim() ?? null;
}

/** Records a successful init's inputs. */
export async function storeInitHash(paths: WorkingPaths, hash: string): Promise<void> {
  await writeFile(paths.initHash, `${hash}\n`);
}

/** Forgets the last init, so the next operation runs it again. */
export async function clearInitHash(paths: WorkingPaths): Promise<void> {
  await rm(paths.initHash, { force: true });
}

/** Removes all but the newest `keep` saved plans (their names sort by time). */
export async function prunePlans(paths: WorkingPaths, keep: number): Promise<void> {
  const names = (await readdir(paths.plans).catch(() => [] as string[])).filter((n) => n.endsWith(".tfplan")).sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep))) await rm(join(paths.plans, name), { force: true });
}
