import { z } from "zod";
import { GitwardError } from "../../core/errors.ts";
import type { KObject } from "../../core/object.ts";
import { getPath, isRecord } from "../../core/object.ts";
import type { ObjRef } from "../../core/objref.ts";
import { formatRef } from "../../core/objref.ts";
import type { Inventory, InventorySummary, StackRef } from "../provider.ts";
import { isApiError } from "./errors.ts";
import { inventoryName } from "./inventory-name.ts";
import type { ObjectLocation } from "./resource-path.ts";
import type { SessionContext } from "./session-context.ts";

/**
 * The inventory in the cluster: one ConfigMap per stack and environment in the inventory
 * namespace, its `inventory.json` holding the stack, the revision, every object it owns (with
 * API version) and the last syncs. Written with server-side apply; validated when read, so a
 * damaged inventory is an error, never an empty one (which would forget what to prune).
 */

/** The key of the inventory document in the ConfigMap's data. */
export const inventoryKey = "inventory.json";
/** The label every inventory carries. */
export const managedByLabel = { "app.kubernetes.io/managed-by": "gitward" } as const;

const name = z.string().min(1);
const entrySchema = z.object({ group: z.string(), kind: name, namespace: name.optional(), name, apiVersion: name });
const documentSchema = z.object({
  version: z.literal(1),
  stack: z.object({ environment: name, stack: name }),
  revision: z.string(),
  entries: z.array(entrySchema),
  syncs: z.array(
    z.object({
      revision: z.string(),
      at: z.string(),
      result: z.enum(["succeeded", "failed"]),
      summary: z.partialRecord(z.enum(["failed", "created", "configured", "deleted", "unchanged", "skipped"]), z.number().int().min(0)),
      gateOverride: z.object({ by: z.string(), reason: z.string().optional(), denials: z.number().int().min(0) }).optional(),
    }),
  ),
});
type InventoryDocument = z.infer<typeof documentSchema>;
type EntryDocument = z.infer<typeof entrySchema>;

/** Where a stack's inventory ConfigMap lives. */
export function inventoryLocation(namespace: string, stack: StackRef): ObjectLocation {
  return { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace, name: inventoryName(stack) };
}

/** Reads a stack's inventory; undefined when there is none yet. */
export async function readInventory(ctx: SessionContext, stack: StackRef, signal?: AbortSignal): Promise<Inventory | undefined> {
  const loc = inventoryLocation(ctx.settings.inventoryNamespace, stack);
  let cm: KObject;
  try {
    cm = await ctx.client.get(loc, signal);
  } catch (err: unknown) {
    if (isApiError(err, "NotFound")) return undefined;
    throw err;
  }
  return parseInventory(cm, stack, loc);
}

/** Every inventory of an environment in the inventory namespace: one LIST by the managed-by label. */
export async function listInventories(ctx: SessionContext, environment: string, signal?: AbortSignal): Promise<InventorySummary[]> {
  const loc = { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespace: ctx.settings.inventoryNamespace };
  let list;
  try {
    list = await ctx.client.list(loc, { labelSelector: "app.kubernetes.io/managed-by=gitward", ...(signal === undefined ? {} : { signal }) });
  } catch (err: unknown) {
    if (isApiError(err, "NotFound")) return [];
    throw err;
  }
  const out: InventorySummary[] = [];
  for (const cm of list.items) {
    const raw = getPath(cm, ["data", inventoryKey]);
    if (typeof raw !== "string") continue;
    try {
      const doc = JSON.parse(raw) as { stack?: { environment?: unknown; stack?: unknown }; revision?: unknown; entries?: unknown };
      if (doc.stack?.environment !== environment || typeof doc.stack.stack !== "string") continue;
      out.push({ stack: doc.stack.stack, revision: typeof doc.revision === "string" ? doc.revision : "", objects: Array.isArray(doc.entries) ? doc.entries.length : 0 });
    } catch {
      // An unreadable inventory is reported when its stack reads it; it is not an orphan to list.
    }
  }
  return out;
}

/** The inventory a ConfigMap holds, checked against the stack it should belong to. */
export function parseInventory(cm: KObject, stack: StackRef, loc: ObjectLocation): Inventory {
  const ref: ObjRef = { group: "", kind: "ConfigMap", namespace: loc.namespace ?? "", name: loc.name };
  const corrupt = (why: string): GitwardError =>
    new GitwardError("cluster", `the inventory of stack ${stack.stack} in environment ${stack.environment} is unreadable: ${why}`, {
      subject: { ref },
      hint: `repair or delete ${formatRef(ref)}; without it gitward no longer knows what the stack owns, so nothing is pruned until it is rewritten`,
    });
  const raw = getPath(cm, ["data", inventoryKey]);
  if (typeof raw !== "string") throw corrupt(`data.${inventoryKey} is missing`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err: unknown) {
    throw corrupt(`data.${inventoryKey} is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  // zod's first pass over a thousand entries costs about 15 ms of a CLI run. Entries that are
  // well formed (nearly always) are checked here; zod checks the rest of the document, or all
  // of it when an entry is not, so that its message names the entry.
  const checked = isRecord(json) ? wellFormedEntries(json["entries"]) : undefined;
  const parsed = documentSchema.safeParse(checked === undefined ? json : { ...(json as object), entries: [] });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw corrupt(`data.${inventoryKey}: ${issue === undefined ? "invalid" : `${issue.path.join(".") || "(root)"}: ${issue.message}`}`);
  }
  const doc = checked === undefined ? parsed.data : { ...parsed.data, entries: checked };
  if (doc.stack.environment !== stack.environment || doc.stack.stack !== stack.stack) {
    throw corrupt(`it holds the inventory of stack ${doc.stack.stack} in environment ${doc.stack.environment}`);
  }
  return fromDocument(doc);
}

/** The entries when every one is what the entry schema accepts, checked without zod. */
function wellFormedEntries(value: unknown): EntryDocument[] | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const e of value as unknown[]) if (!isEntryDocument(e)) return undefined;
  return value as EntryDocument[];
}

function isEntryDocument(value: unknown): value is EntryDocument {
  if (!isRecord(value)) return false;
  const nonEmpty = (v: unknown): boolean => typeof v === "string" && v !== "";
  return typeof value["group"] === "string" && nonEmpty(value["kind"]) && nonEmpty(value["name"]) && nonEmpty(value["apiVersion"])
    && (!Object.hasOwn(value, "namespace") || nonEmpty(value["namespace"]));
}

/** Writes a stack's inventory, creating the inventory namespace when it does not exist yet. */
export async function writeInventory(ctx: SessionContext, inventory: Inventory, signal?: AbortSignal): Promise<void> {
  const namespace = ctx.settings.inventoryNamespace;
  const loc = inventoryLocation(namespace, inventory.stack);
  const opts = { fieldManager: ctx.settings.fieldManager, force: true, dryRun: false, ...(signal === undefined ? {} : { signal }) };
  const cm = inventoryConfigMap(loc, inventory);
  try {
    await ctx.client.applyPatch(loc, cm, opts);
  } catch (err: unknown) {
    if (!isApiError(err, "NotFound")) throw err;
    // The namespace is missing (the only NotFound an apply can get): create it, then write again.
    const nsLoc = { group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: namespace };
    await ctx.client.applyPatch(nsLoc, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: { ...managedByLabel } } }, opts);
    await ctx.client.applyPatch(loc, cm, opts);
  }
}

/** The ConfigMap that holds an inventory. */
export function inventoryConfigMap(loc: ObjectLocation, inventory: Inventory): KObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: loc.name,
      namespace: loc.namespace ?? "",
      labels: { ...managedByLabel },
      annotations: { "gitward.dev/environment": inventory.stack.environment, "gitward.dev/stack": inventory.stack.stack },
    },
    data: { [inventoryKey]: JSON.stringify(toDocument(inventory)) },
  };
}

function toDocument(inv: Inventory): InventoryDocument {
  return {
    version: 1,
    stack: { environment: inv.stack.environment, stack: inv.stack.stack },
    revision: inv.revision,
    entries: inv.entries.map((e) => ({
      group: e.ref.group, kind: e.ref.kind, ...(e.ref.namespace === undefined ? {} : { namespace: e.ref.namespace }), name: e.ref.name, apiVersion: e.apiVersion,
    })),
    syncs: inv.syncs.map((s) => ({ ...s, summary: { ...s.summary }, ...(s.gateOverride === undefined ? {} : { gateOverride: { ...s.gateOverride } }) })),
  };
}

function fromDocument(doc: InventoryDocument): Inventory {
  return {
    stack: doc.stack,
    revision: doc.revision,
    entries: doc.entries.map((e) => ({
      ref: { group: e.group, kind: e.kind, ...(e.namespace === undefined ? {} : { namespace: e.namespace }), name: e.name },
      apiVersion: e.apiVersion,
    })),
    syncs: doc.syncs.map((s) => ({
      revision: s.revision, at: s.at, result: s.result, summary: s.summary,
      ...(s.gateOverride === undefined ? {} : { gateOverride: s.gateOverride }),
    })),
  };
}
