import { z } from "zod";
import { isCredentialName, looksLikeCredential } from "../../core/credential-patterns.ts";
import type { TerraformEvent } from "./cli.ts";
import { collect } from "./plan-json.ts";
import type { ApplySummary, ResourceChange, TerraformOutput, TerraformTarget } from "./types.ts";

const outputJson = z.record(z.string(), z.object({ sensitive: z.boolean(), value: z.unknown().optional() }).loose());

/** Parses `terraform output -json`: each output's raw value and whether it is sensitive. */
export function parseOutputs(text: string): Record<string, TerraformOutput> {
  const trimmed = text.trim();
  const r = outputJson.safeParse(JSON.parse(trimmed === "" ? "{}" : trimmed));
  if (!r.success) throw new Error(`unexpected JSON from terraform output: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return Object.fromEntries(Object.entries(r.data).map(([name, o]) => [name, { value: o.value ?? null, sensitive: o.sensitive }]));
}

/** The raw values of sensitive outputs, to mask wherever they might show up. */
export function outputSecrets(outputs: Readonly<Record<string, TerraformOutput>>): Set<string> {
  const out = new Set<string>();
  for (const o of Object.values(outputs)) if (o.sensitive) collect(o.value, true, out);
  return out;
}

/**
 * The target's secrets: its environment's values (provider credentials) except Terraform's own
 * `TF_*` settings, and backend settings that are named like or look like credentials.
 */
export function targetSecrets(target: TerraformTarget): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(target.env ?? {})) if (!k.startsWith("TF_") && v.length >= 3) out.add(v);
  for (const [k, v] of Object.entries(target.backendConfig ?? {})) if (v !== "" && (isCredentialName(k) || looksLikeCredential(v))) out.add(v);
  return out;
}

/**
 * What an apply did, from the plan's changes and the apply's `apply_complete` events: a change
 * counts only when its steps completed (a replace needs both its delete and its create).
 */
export function applySummary(changes: readonly ResourceChange[], events: readonly TerraformEvent[], ok: boolean): ApplySummary {
  const done = new Map<string, Set<string>>();
  for (const e of events) {
    const addr = e.hook?.resource?.addr;
    const action = e.hook?.action;
    if (e.type !== "apply_complete" || addr === undefined || action === undefined) continue;
    done.set(addr, (done.get(addr) ?? new Set()).add(action));
  }
  const finished = (c: ResourceChange): boolean => {
    if (ok) return true;
    const steps = done.get(c.address);
    if (steps === undefined) return false;
    return c.action === "replace" ? steps.has("create") && steps.has("delete") : steps.has(c.action);
  };
  const count = (action: ResourceChange["action"]): number => changes.filter((c) => c.action === action && finished(c)).length;
  return { created: count("create"), updated: count("update"), replaced: count("replace"), deleted: count("delete") };
}
