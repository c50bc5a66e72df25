import type { Finding } from "../check/finding.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { RenderedObject } from "../core/object.ts";
import type { TargetSession } from "../providers/provider.ts";
import type { OutputsSource, OutputValue } from "../render/outputs.ts";
import type { RenderResult } from "../render/renderer.ts";

/**
 * The outputs of producing stacks (Terraform) for the stacks that depend on them
 * (`${outputs.<stack>.<name>}`), read through the producer's target session: one path for
 * `gitward apply`, `plan`, `diff` and the agent. A stack that used outputs is rendered once for
 * the gate (values known after apply, or planned in `gitward plan`), then again with the
 * producer's outputs as they are once it has synced, just before the stack itself syncs.
 */

/** Runs `fn` with the session of an instance's target (a {@link TargetPool}'s `use`). */
export type SessionUse = <T>(instance: StackInstance, fn: (session: TargetSession) => Promise<T>) => Promise<T>;

/** What {@link targetOutputs} reads from. */
export interface TargetOutputsOptions {
  /** The revision's stack instances: the producers are found among them. */
  readonly instances: readonly StackInstance[];
  /** A producer's render at the revision (its Module, which its session needs to reach the state). */
  readonly objectsOf: (instance: StackInstance) => Promise<readonly RenderedObject[] | undefined>;
  readonly use: SessionUse;
  /** The values as the producer's plan would leave them (`gitward plan`), not the current ones. */
  readonly planned: boolean;
}

/** An {@link OutputsSource} reading each producer's outputs once, through its target session. */
export function targetOutputs(opts: TargetOutputsOptions): OutputsSource {
  const read = new Map<string, Promise<Readonly<Record<string, OutputValue>> | undefined>>();
  const find = (environment: string, stack: string): StackInstance | undefined =>
    opts.instances.find((i) => i.environment === environment && i.stack === stack);
  return {
    produces: (environment, stack) => find(environment, stack)?.target.provider === "terraform",
    outputs(environment, stack, signal) {
      const key = `${environment}/${stack}`;
      let p = read.get(key);
      if (p === undefined) {
        p = readOutputs(opts, find(environment, stack), signal);
        read.set(key, p);
      }
      return p;
    },
  };
}

async function readOutputs(opts: TargetOutputsOptions, producer: StackInstance | undefined, signal?: AbortSignal): Promise<Readonly<Record<string, OutputValue>>> {
  if (producer === undefined) throw new GitwardError(ErrorCode.Internal, "no such stack in this revision");
  const objects = await opts.objectsOf(producer);
  if (objects === undefined) throw new GitwardError(ErrorCode.Render, `stack ${producer.stack} did not render at this revision`);
  const desired = objects.map((o) => ({ ref: o.ref, apiVersion: o.apiVersion, object: o.object, source: o.source }));
  const ref = { environment: producer.environment, stack: producer.stack };
  return opts.use(producer, async (session) => {
    if (session.outputs === undefined) throw new GitwardError(ErrorCode.Config, `the ${producer.target.provider} target ${producer.targetName} has no outputs`);
    return session.outputs(ref, desired, { planned: opts.planned, ...(signal === undefined ? {} : { signal }) });
  });
}

/** Renders an instance again with an outputs source: what {@link RevisionEvaluation}'s `renderAgain` does. */
export type RenderAgain = (instance: StackInstance, outputs: OutputsSource) => Promise<RenderResult>;

/** Check and the revision's policies over one render, as the gate ran them over the revision: what `checkAgain` does. */
export type CheckAgain = (render: RenderResult) => Promise<readonly Finding[]>;

/**
 * The render a stack syncs with. `finalFindings` is set when it was rendered again with the
 * current outputs of its dependencies and checked again: the reconcile gates the sync on them.
 */
export type SyncRender = RenderResult & { readonly finalFindings?: readonly Finding[] };

/** What {@link withCurrentOutputs} needs of an evaluated revision. */
export interface OutputsRevision {
  readonly instances: readonly StackInstance[];
  readonly renders: readonly RenderResult[];
  readonly renderAgain?: RenderAgain;
  /** Absent where the revision was only rendered (a plan's base, `gitward render`). */
  readonly checkAgain?: CheckAgain;
}

/**
 * The render a stack syncs with: when it used outputs of other stacks, rendered again with
 * their current values (read from the producers' state, after they synced) and checked again
 * (structure, schemas, secrets, policies), since the gate only saw "known after apply";
 * otherwise as evaluated. Only when its dependencies are ready: else the sync is skipped anyway.
 */
export async function withCurrentOutputs(
  revision: OutputsRevision, instance: StackInstance, use: SessionUse, dependenciesReady: boolean,
): Promise<SyncRender | undefined> {
  const render = revision.renders.find((r) => r.instance === instance);
  if (render?.ok !== true || render.outputs === undefined || render.outputs.length === 0) return render;
  if (!dependenciesReady || revision.renderAgain === undefined) return render;
  const sensitive: string[] = [];
  const source = noteSensitive(targetOutputs({
    instances: revision.instances, use, planned: false,
    objectsOf: (producer) => {
      const r = revision.renders.find((x) => x.instance === producer);
      return Promise.resolve(r?.ok === true ? r.objects : undefined);
    },
  }), sensitive);
  const again = await revision.renderAgain(instance, source);
  if (!again.ok) return again;
  // The gate decided on the first render; the policies over the planned changes still apply.
  const rendered = render.plannedCheck === undefined ? again : { ...again, plannedCheck: render.plannedCheck };
  if (revision.checkAgain === undefined) return rendered;
  // secret.plaintext is about what Git holds, the same text the gate checked: a value an output
  // filled in (a Secret's password from Terraform) is not in Git.
  const findings = (await revision.checkAgain(again)).filter((f) => f.rule !== "secret.plaintext");
  return { ...rendered, finalFindings: findings.map((f) => masked(f, sensitive)) };
}

/** The source, noting the text of every sensitive value it gives, so findings can be masked. */
function noteSensitive(source: OutputsSource, into: string[]): OutputsSource {
  return {
    produces: (environment, stack) => source.produces(environment, stack),
    async outputs(environment, stack, signal) {
      const outputs = await source.outputs(environment, stack, signal);
      for (const o of Object.values(outputs ?? {})) {
        if (!o.sensitive || o.value === null || o.value === undefined) continue;
        const text = typeof o.value === "string" ? o.value : JSON.stringify(o.value);
        // Tiny values would mask every occurrence of common text, and say little.
        if (text.length >= 3) into.push(text);
      }
      return outputs;
    },
  };
}

/** A finding with sensitive output values replaced, should a policy's message quote a field holding one. */
function masked(finding: Finding, sensitive: readonly string[]): Finding {
  if (sensitive.length === 0) return finding;
  const mask = (text: string): string => sensitive.reduce((t, s) => t.replaceAll(s, "(sensitive)"), text);
  return { ...finding, message: mask(finding.message), ...(finding.hint === undefined ? {} : { hint: mask(finding.hint) }) };
}

/** Makes the {@link OutputsSource} an evaluation renders with, given the revision's instances and their renders. */
export type OutputsFactory = (revision: Pick<TargetOutputsOptions, "instances" | "objectsOf">) => OutputsSource;

/** Options of {@link terraformOutputs}. */
export interface TerraformOutputsOptions {
  /** As each producer's plan would leave them (the head of a plan), or as they are (its base). */
  readonly planned: boolean;
  readonly cacheDir?: string;
  readonly targetEnv?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * The outputs `gitward plan` renders with, read through a Terraform session on this runner
 * (its cache), without a pool of targets: planned for the head, current for the base. Where
 * the target's credentials are not here, they are not known (known after apply).
 */
export function terraformOutputs(opts: TerraformOutputsOptions): OutputsFactory {
  const ctx = { ...(opts.cacheDir === undefined ? {} : { cacheDir: opts.cacheDir }), ...(opts.targetEnv === undefined ? {} : { targetEnv: opts.targetEnv }) };
  const use: SessionUse = async (instance, fn) => {
    const { terraformProvider } = await import("../providers/terraform/provider.ts");
    const session = await terraformProvider().open(instance.targetName, instance.target, ctx);
    try {
      return await fn(session);
    } finally {
      await session.close();
    }
  };
  return (revision) => {
    const source = targetOutputs({ ...revision, use, planned: opts.planned });
    return {
      produces: (environment, stack) => source.produces(environment, stack),
      async outputs(environment, stack, signal) {
        const producer = revision.instances.find((i) => i.environment === environment && i.stack === stack);
        if (producer === undefined) return undefined;
        const { missingCredentials } = await import("../providers/terraform/provider.ts");
        if ((await missingCredentials(producer.targetName, producer.target, ctx)) !== undefined) return undefined;
        return source.outputs(environment, stack, signal);
      },
    };
  };
}

/** Instances ordered so each comes after those it depends on: renders then never wait on one not started. */
export function producersFirst(instances: readonly StackInstance[]): StackInstance[] {
  const out: StackInstance[] = [];
  const seen = new Set<StackInstance>();
  const visit = (i: StackInstance): void => {
    if (seen.has(i)) return;
    seen.add(i);
    for (const d of i.dependsOn) {
      const dep = instances.find((x) => x.environment === i.environment && x.stack === d);
      if (dep !== undefined) visit(dep);
    }
    out.push(i);
  };
  for (const i of instances) visit(i);
  return out;
}
