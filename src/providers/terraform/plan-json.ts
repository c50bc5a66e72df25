import { z } from "zod";
import { isRecord, type KObject } from "../../core/object.ts";
import { maskSecrets } from "../../core/mask-secrets.ts";
import { attributeDiff, dottedPaths, maskSensitive } from "./attribute-diff.ts";
import { sensitiveMarker, unknownMarker, type OutputChange, type ResourceAction, type ResourceChange } from "./types.ts";

const change = z.object({
  actions: z.array(z.string()),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  after_unknown: z.unknown().optional(),
  before_sensitive: z.unknown().optional(),
  after_sensitive: z.unknown().optional(),
  replace_paths: z.array(z.array(z.union([z.string(), z.number()]))).optional(),
});

const resourceChange = z.object({
  address: z.string(),
  module_address: z.string().optional(),
  mode: z.string().optional(),
  type: z.string(),
  name: z.string(),
  change,
  action_reason: z.string().optional(),
});

const variables = z.record(z.string(), z.object({ value: z.unknown().optional() }).loose());
const configModule = z.object({ variables: z.record(z.string(), z.object({ sensitive: z.boolean().optional() }).loose()).optional() }).loose();

/** The part of `terraform show -json <plan>` gitward reads (Terraform's JSON output format, 1.x). */
export const planJsonSchema = z
  .object({
    format_version: z.string(),
    variables: variables.optional(),
    resource_changes: z.array(resourceChange).optional(),
    resource_drift: z.array(resourceChange).optional(),
    output_changes: z.record(z.string(), change).optional(),
    configuration: z.object({ root_module: configModule.optional() }).loose().optional(),
    errored: z.boolean().optional(),
  })
  .loose();

/** A parsed `terraform show -json` of a plan. */
export type PlanJson = z.infer<typeof planJsonSchema>;
type RawChange = z.infer<typeof resourceChange>;

/** Parses Terraform's plan JSON; a shape it does not know is an error naming the field. */
export function parsePlanJson(text: string): PlanJson {
  const r = planJsonSchema.safeParse(JSON.parse(text));
  if (!r.success) throw new Error(`unexpected plan JSON from terraform show: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return r.data;
}

/** gitward's action for Terraform's list of actions. */
export function actionOf(actions: readonly string[]): ResourceAction {
  if (actions.includes("delete") && actions.includes("create")) return "replace";
  const [first] = actions;
  if (first === "create" || first === "update" || first === "delete" || first === "read") return first;
  // "no-op", and "forget" (a `removed` block: out of the state, not destroyed).
  return "no-op";
}

/** The resource changes of a plan (`resource_drift` instead for a refresh-only plan), masked. */
export function resourceChanges(plan: PlanJson, drift: boolean, secrets: ReadonlySet<string>): ResourceChange[] {
  const raw = drift ? (plan.resource_drift ?? []) : (plan.resource_changes ?? []);
  return raw.map((rc) => toChange(rc, secrets));
}

function toChange(rc: RawChange, secrets: ReadonlySet<string>): ResourceChange {
  const c = rc.change;
  const action = actionOf(c.actions);
  const before = maskDeep(maskSensitive(c.before ?? null, c.before_sensitive), secrets);
  const after = maskDeep(maskSensitive(c.after ?? null, c.after_sensitive), secrets);
  const afterUnknown = c.after_unknown ?? {};
  const replacePaths = dottedPaths(c.replace_paths ?? []);
  const reason = action === "replace" ? replaceReasonOf(rc.action_reason, replacePaths) : undefined;
  return {
    address: rc.address,
    type: rc.type,
    name: rc.name,
    ...(rc.module_address === undefined ? {} : { module: rc.module_address }),
    action,
    before,
    after,
    afterUnknown,
    diff: action === "no-op" || action === "read" ? "" : attributeDiff(before, after, action === "delete" ? {} : afterUnknown, replacePaths),
    ...(reason === undefined ? {} : { replaceReason: reason }),
  };
}

const reasons: Record<string, string> = {
  replace_because_tainted: "the resource is tainted (an earlier apply of it failed)",
  replace_because_cannot_update: "an attribute that cannot be updated in place changed",
  replace_by_request: "replacement was requested (-replace)",
  replace_by_triggers: "a replace_triggered_by reference changed",
};

function replaceReasonOf(reason: string | undefined, paths: readonly string[]): string {
  const why = reason === undefined ? "Terraform plans a replace" : (reasons[reason] ?? reason);
  return paths.length === 0 ? why : `${why}: ${paths.join(", ")}`;
}

/** The output changes of a plan; values of sensitive or unknown outputs are left out. */
export function outputChanges(plan: PlanJson, secrets: ReadonlySet<string>): OutputChange[] {
  return Object.entries(plan.output_changes ?? {}).map(([name, c]) => {
    const sensitive = c.after_sensitive === true || c.before_sensitive === true;
    const known = c.after_unknown !== true && c.after !== undefined;
    const action = actionOf(c.actions);
    const after = sensitive || !known ? undefined : maskDeep(maskSensitive(c.after, c.after_sensitive), secrets);
    return { name, action, sensitive, ...(after === undefined ? {} : { after }) };
  });
}

/**
 * The sensitive string values a plan holds: values of sensitive variables, the parts of
 * resources and outputs Terraform marks sensitive. They are masked wherever gitward shows text.
 */
export function sensitiveStrings(plan: PlanJson): Set<string> {
  const out = new Set<string>();
  const declared = plan.configuration?.root_module?.variables ?? {};
  for (const [name, v] of Object.entries(plan.variables ?? {})) if (declared[name]?.sensitive === true) collect(v.value, true, out);
  const all = [...(plan.resource_changes ?? []), ...(plan.resource_drift ?? [])].map((r) => r.change);
  for (const c of [...all, ...Object.values(plan.output_changes ?? {})]) {
    collect(c.before, c.before_sensitive, out);
    collect(c.after, c.after_sensitive, out);
  }
  return out;
}

/** Adds the strings (and numbers, as text) of `value` where the sensitivity tree is `true`. */
export function collect(value: unknown, sensitive: unknown, out: Set<string>): void {
  if (sensitive === true) {
    for (const leaf of leaves(value)) if (leaf.length >= 3) out.add(leaf);
    return;
  }
  if (Array.isArray(value)) {
    const s = Array.isArray(sensitive) ? (sensitive as unknown[]) : [];
    value.forEach((v, i) => collect(v, s[i], out));
  } else if (isRecord(value)) {
    const s = isRecord(sensitive) ? sensitive : {};
    for (const [k, v] of Object.entries(value)) collect(v, s[k], out);
  }
}

function leaves(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (typeof value === "number") return [String(value)];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (isRecord(value)) return Object.values(value).flatMap(leaves);
  return [];
}

/** A value with gitward's secret masking applied (credential-named fields, tokens, the given secrets). */
export function maskDeep(value: unknown, secrets: ReadonlySet<string>): unknown {
  if (value === null || value === undefined) return value;
  const masked = maskSecrets({ v: value } as unknown as KObject, { secretValues: secrets });
  return keepMarkers(value, masked["v"]);
}

// Terraform's own markers stay as they are, even in a field named like a credential.
function keepMarkers(original: unknown, masked: unknown): unknown {
  if (original === sensitiveMarker || original === unknownMarker) return original;
  if (Array.isArray(original) && Array.isArray(masked)) return masked.map((m, i) => keepMarkers(original[i], m));
  if (isRecord(original) && isRecord(masked)) return Object.fromEntries(Object.entries(masked).map(([k, m]) => [k, keepMarkers(original[k], m)]));
  return masked;
}
