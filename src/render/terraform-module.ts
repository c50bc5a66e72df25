import { createHash } from "node:crypto";
import type { StackInstance } from "../config/stack-instances.ts";
import type { KObject, RenderedObject } from "../core/object.ts";
import type { Snapshot } from "../source/types.ts";
import { moduleKind, terraformApiVersion, terraformGroup, type ModuleFile, type ModuleSpec } from "../core/terraform-objects.ts";
import type { RenderBudget } from "./render-limits.ts";

/** Files Terraform makes in a working directory: never part of a module gitward plans, even if committed. */
function isWorkingFile(rel: string): boolean {
  const parts = rel.split("/");
  return parts.some((p) => p === ".terraform" || p === ".git") || /\.tfstate(\.backup)?$/.test(rel) || rel.endsWith(".tfstate.lock.info")
    || parts.at(-1) === "gitward.auto.tfvars.json";
}

/**
 * A Terraform stack's render: one `Module` object holding the root module's files and the
 * instance's variables, so Check, the Gate and the plan treat it like any other object. The
 * Terraform target writes the files into a private working copy; the repository is never
 * used as Terraform's working directory.
 */
export async function renderTerraformModule(snapshot: Snapshot, instance: StackInstance, budget: RenderBudget, signal?: AbortSignal): Promise<RenderedObject[]> {
  const prefix = instance.dir === "" ? "" : `${instance.dir}/`;
  const entries = snapshot.listFiles(instance.dir).filter((f) => f.type === "blob" && !isWorkingFile(f.path.slice(prefix.length)));
  for (const f of entries) budget.takeBytes(f.size, { file: f.path });
  const contents = await snapshot.readFiles(entries.map((f) => f.path), signal);
  const hash = createHash("sha256").update("terraform-module\n");
  const files: ModuleFile[] = entries.map((f) => {
    const rel = f.path.slice(prefix.length);
    hash.update(`${rel}\u0000${f.mode}\u0000${f.oid}\n`);
    const bytes = contents.get(f.path) ?? Buffer.alloc(0);
    const text = isText(bytes);
    return {
      path: rel,
      ...(f.mode === "100755" ? { executable: true } : {}),
      content: text ? bytes.toString("utf8") : bytes.toString("base64"),
      ...(text ? {} : { base64: true }),
    };
  });
  const spec: ModuleSpec = { path: instance.dir, filesHash: hash.digest("hex"), files, vars: instance.vars };
  const object: KObject = {
    apiVersion: terraformApiVersion,
    kind: moduleKind,
    metadata: { name: instance.stack },
    spec: spec as unknown as KObject,
  };
  budget.takeObjects(1, { file: instance.dir });
  return [{ object, ref: { group: terraformGroup, kind: moduleKind, name: instance.stack }, apiVersion: terraformApiVersion, source: { file: instance.dir } }];
}

/** Valid UTF-8 without NUL bytes: kept as text so the object stays readable. */
function isText(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  return Buffer.from(bytes.toString("utf8"), "utf8").equals(bytes);
}
