import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Finding } from "../check/finding.ts";
import { ProcessRunner, type CommandRunner } from "../core/command-runner.ts";
import { GitwardError } from "../core/errors.ts";
import type { RenderedObject } from "../core/object.ts";
import { compareRefs } from "../core/objref.ts";
import { actionAnnotation, replaceReasonAnnotation } from "../providers/terraform/planned.ts";
import { missingCredentials, terraformProvider } from "../providers/terraform/provider.ts";
import { materializeModule, moduleOf } from "../providers/terraform/stack-state.ts";
import type { DiffEntry } from "../providers/provider.ts";
import { TerraformWorkspace } from "../providers/terraform/workspace.ts";
import type { RenderResult } from "../render/renderer.ts";
import { countChange, emptyCounts, addCounts, type Change, type ChangeCounts, type EnvironmentPlan, type Plan, type StackPlan } from "./change.ts";

/** What planning the Terraform stacks of a plan needs. */
export interface TerraformPlanOptions {
  /** gitward's cache directory (Terraform working directories go under `terraform/`); default as the provider's. */
  readonly cacheDir?: string;
  /** Values of the targets' `env` names, by target; default the process environment only. */
  readonly targetEnv?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly runner?: CommandRunner;
  readonly signal?: AbortSignal;
}

type Rendered = Extract<RenderResult, { ok: true }>;

/**
 * Replaces the offline comparison of each Terraform stack at head (its Module object) with
 * what Terraform would do: where the target's credentials are available on this runner, a real
 * `terraform plan` per resource address, with the revision's policies run on the planned
 * changes; where they are not, the plan says so and the module is only validated
 * (`terraform validate` and the format check). Problems are findings.
 */
export async function planTerraformStacks(plan: Plan, renders: readonly RenderResult[], opts: TerraformPlanOptions = {}): Promise<{ plan: Plan; findings: Finding[] }> {
  const findings: Finding[] = [];
  const replaced = new Map<string, StackPlan>();
  const provider = terraformProvider(opts.runner === undefined ? {} : { runner: opts.runner });
  for (const r of renders) {
    if (!r.ok || r.instance.target.provider !== "terraform") continue;
    const tag = { environment: r.instance.environment, stack: r.instance.stack };
    const current = plan.environments.find((e) => e.environment === tag.environment)?.stacks.find((s) => s.stack === tag.stack);
    if (current === undefined) continue;
    const ctx = { ...(opts.cacheDir === undefined ? {} : { cacheDir: opts.cacheDir }), ...(opts.targetEnv === undefined ? {} : { targetEnv: opts.targetEnv }) };
    const missing = await missingCredentials(r.instance.targetName, r.instance.target, ctx);
    try {
      if (missing !== undefined) {
        const problems = await validateOnly(r, opts);
        findings.push(...problems.map((p) => ({ ...p, ...tag })));
        replaced.set(`${tag.environment}/${tag.stack}`, { ...current, changes: [], counts: emptyCounts(), note: `not planned: no backend credentials here (${missing}); the module was validated only` });
        continue;
      }
      const session = await provider.open(r.instance.targetName, r.instance.target, ctx);
      const labelled = r.objects.map((o) => ({ ...o, object: { ...o.object, metadata: { name: tag.stack, labels: { "gitward.dev/environment": tag.environment, "gitward.dev/stack": tag.stack } } } }));
      const set = await session.diff(labelled, opts.signal === undefined ? {} : { signal: opts.signal });
      const planned: RenderedObject[] = set.entries.filter((e) => e.planned !== undefined && e.action !== "no-op")
        .map((e) => ({ object: e.planned!, ref: e.ref, apiVersion: e.apiVersion, source: { file: r.instance.dir } }));
      findings.push(...(r.plannedCheck?.(planned) ?? []).map((f) => ({ ...f, ...tag, location: { file: r.instance.dir } })));
      replaced.set(`${tag.environment}/${tag.stack}`, stackPlanOf(current, set.entries, r.instance.dir));
    } catch (e: unknown) {
      findings.push({ severity: "error", rule: "terraform.plan", message: e instanceof GitwardError ? e.detail : e instanceof Error ? e.message : String(e), ...tag });
      replaced.set(`${tag.environment}/${tag.stack}`, { ...current, changes: [], counts: emptyCounts(), note: "not planned: terraform failed (see the findings)" });
    }
  }
  if (replaced.size === 0) return { plan, findings };
  return { plan: recount(plan, replaced, findings), findings };
}

/** A Terraform plan's entries as the stack's changes: one per resource address; a replace says so. */
function stackPlanOf(current: StackPlan, entries: readonly DiffEntry[], dir: string): StackPlan {
  const counts = emptyCounts();
  const changes: Change[] = [];
  for (const e of entries) {
    countChange(counts, e.action);
    if (e.action === "no-op") continue;
    const annotations = (e.planned?.["metadata"] as { annotations?: Record<string, string> } | undefined)?.annotations ?? {};
    const replace = annotations[actionAnnotation] === "replace" ? annotations[replaceReasonAnnotation] ?? "destroyed and created again" : undefined;
    changes.push({ action: e.action, ref: e.ref, apiVersion: e.apiVersion, source: { file: dir }, ...(e.diff === undefined ? {} : { diff: e.diff }), ...(replace === undefined ? {} : { replace }) });
  }
  changes.sort((a, b) => compareRefs(a.ref, b.ref));
  return { ...current, changes, counts, note: "terraform plan against the live state" };
}

/** `terraform validate` and the format check of the module, in a throwaway working directory. */
async function validateOnly(r: Rendered, opts: TerraformPlanOptions): Promise<Finding[]> {
  const module = moduleOf(r.objects.map((o) => ({ ref: o.ref, apiVersion: o.apiVersion, object: o.object })));
  if (module === undefined) return [];
  const dir = await mkdtemp(join(tmpdir(), "gitward-tf-validate-"));
  try {
    const stack = { environment: r.instance.environment, stack: r.instance.stack };
    const moduleDir = await materializeModule(dir, stack, module.spec);
    const target = r.instance.target;
    const binary = target.provider === "terraform" ? target.binary : "terraform";
    const ws = new TerraformWorkspace({ binary }, { ...stack, moduleDir, vars: module.spec.vars, cacheDir: dir }, { runner: opts.runner ?? new ProcessRunner() });
    const result = await ws.validate(opts.signal);
    return result.diagnostics.map((d) => ({
      severity: d.startsWith("format:") ? "warning" as const : "error" as const,
      rule: d.startsWith("format:") ? "terraform.fmt" : "terraform.validate",
      message: d.replaceAll(moduleDir, r.instance.dir),
      location: { file: r.instance.dir },
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function recount(plan: Plan, replaced: ReadonlyMap<string, StackPlan>, findings: readonly Finding[]): Plan {
  const total = emptyCounts();
  const environments: EnvironmentPlan[] = plan.environments.map((e) => {
    const counts: ChangeCounts = emptyCounts();
    const stacks = e.stacks.map((s) => replaced.get(`${e.environment}/${s.stack}`) ?? s);
    for (const s of stacks) addCounts(counts, s.counts);
    addCounts(total, counts);
    return { ...e, stacks, counts };
  });
  return { ...plan, environments, counts: total, findings: [...plan.findings, ...findings] };
}
