import { createHash } from "node:crypto";
import type { ContentCache } from "../core/layered-cache.ts";
import type { RenderedObject } from "../core/object.ts";
import { mapLimit } from "../core/map-limit.ts";
import type { RenderResult } from "../render/renderer.ts";
import type { ScopeResolver } from "../render/scopes.ts";
import { findDuplicates } from "./duplicates.ts";
import type { Finding } from "./finding.ts";
import { checkTargetKind, findHostPathClashes } from "./host-objects.ts";
import type { SchemaValidator } from "./schema-offline.ts";
import { checkSecrets, isSopsEncrypted } from "./secrets.ts";
import { checkSops, type SopsRecipients } from "./sops.ts";
import { checkSopsFile } from "./sops-files.ts";
import { checkStructure } from "./structure.ts";

/** What the Check stage needs. */
export interface CheckOptions {
  readonly scopes: ScopeResolver;
  /** Tried in order; the first that knows a kind validates it. Empty turns schema checks off. */
  readonly schemas: readonly SchemaValidator[];
  /** Findings of a render already checked with the same validators, by render key. */
  readonly cache?: ContentCache<Finding[]>;
}

/** Bumped whenever the checks change what they find, so cached findings are not reused. */
const checkFormat = "gitward-check-2";

/**
 * The Check stage: structure, duplicates, plaintext secrets, SOPS files (against the
 * environments' `sops.recipients` of gitward.yaml) and schemas over every rendered stack
 * instance. Render failures become error findings here, so one report holds all.
 */
export async function runChecks(renders: readonly RenderResult[], opts: CheckOptions, sops: SopsRecipients = new Map()): Promise<Finding[]> {
  const findings: Finding[] = renderFailures(renders);
  const ok = renders.filter((r) => r.ok);
  const perStack = await mapLimit(ok, 8, async (r) => {
    const tag = { environment: r.instance.environment, stack: r.instance.stack };
    return (await stackFindings(r, opts)).map((f) => ({ ...f, ...tag }));
  });
  findings.push(...perStack.flat());
  // Not cached with the stack's findings: they depend on gitward.yaml's recipients too, which the render key does not cover.
  for (const r of ok) {
    const tag = { environment: r.instance.environment, stack: r.instance.stack };
    for (const obj of r.objects) {
      const found = obj.sopsFile === undefined ? checkSops(obj, r.instance.environment, sops) : checkSopsFile(obj, r.instance.environment, sops);
      findings.push(...found.map((f) => ({ ...f, ...tag })));
    }
  }
  const stacks = ok.map((r) => ({ ...r.instance, provider: r.instance.target.provider, objects: r.objects }));
  findings.push(...findDuplicates(stacks), ...findHostPathClashes(stacks));
  return findings;
}

/** Render failures as error findings, so one report holds them with everything else. */
export function renderFailures(renders: readonly RenderResult[]): Finding[] {
  return renders.flatMap((r): Finding[] => {
    if (r.ok) return [];
    const location = r.error.subject?.location;
    return [{
      severity: "error", rule: `render.${r.error.code}`, message: r.error.detail,
      environment: r.instance.environment, stack: r.instance.stack,
      ...(location === undefined ? {} : { location }),
      ...(r.error.subject?.ref === undefined ? {} : { ref: r.error.subject.ref }),
      ...(r.error.hint === undefined ? {} : { hint: r.error.hint }),
    }];
  });
}

/** The findings of one rendered stack; they depend only on its objects and the validators, so they are cached by its render key. */
async function stackFindings(r: Extract<RenderResult, { ok: true }>, opts: CheckOptions): Promise<Finding[]> {
  const kubernetes = r.instance.target.provider === "kubernetes";
  const key = createHash("sha256")
    .update(JSON.stringify([checkFormat, r.key, r.instance.target.provider, kubernetes ? opts.schemas.map((s) => s.name) : []]))
    .digest("hex");
  // A render that is not cacheable (remote bases) has an empty key: its findings are not either.
  const cache = r.key === "" ? undefined : opts.cache;
  const hit = await cache?.get(key);
  if (hit !== undefined) return hit;
  const out: Finding[] = [];
  for (const obj of r.objects) {
    out.push(...checkStructure(obj, opts.scopes), ...checkSecrets(obj), ...checkTargetKind(obj, r.instance.target.provider));
    if (kubernetes && obj.ref.kind !== "" && obj.apiVersion !== "" && !isSopsEncrypted(obj.object)) {
      out.push(...(await schemaFindings(obj, opts.schemas)));
    }
  }
  await cache?.put(key, out);
  return out;
}

async function schemaFindings(obj: RenderedObject, schemas: readonly SchemaValidator[]): Promise<Finding[]> {
  for (const validator of schemas) {
    const issues = await validator.validate(obj.object);
    if (issues === undefined) continue;
    return issues.map((i) => ({
      severity: "error" as const, rule: "schema", field: i.field,
      message: i.field === "" ? i.message : `${i.field}: ${i.message}`,
      ref: obj.ref, location: obj.source,
    }));
  }
  return [];
}
