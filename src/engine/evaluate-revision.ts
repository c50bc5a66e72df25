import { ConfigError } from "../config/config-error.ts";
import { createHash } from "node:crypto";
import { cachedConfig, parseConfig, type LoadedConfig } from "../config/load-config.ts";
import type { Config } from "../config/schema.ts";
import type { ContentCache } from "../core/layered-cache.ts";
import { checkInstanceDirs, stackInstances, type InstanceFilter, type StackInstance } from "../config/stack-instances.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { mapLimit } from "../core/map-limit.ts";
import { renderFailures, runChecks, type CheckOptions } from "../check/run-checks.ts";
import type { Finding } from "../check/finding.ts";
import { sopsRecipientsOf } from "../check/sops.ts";
import type { Renderer, RenderResult } from "../render/renderer.ts";
import type { Commit, GitSource, SignatureVerification, Snapshot, VerifiedCommit } from "../source/types.ts";
import { refineFindingLocations } from "./locate-findings.ts";
import { runPolicies, withPlannedChecks } from "./policy-stage.ts";
import type { Exemption } from "../policy/index.ts";
import type { RenderedObject } from "../core/object.ts";
import { producersFirst, type CheckAgain, type OutputsFactory, type RenderAgain } from "./outputs.ts";

/** What evaluating one revision needs. */
export interface EvaluateOptions {
  readonly source: GitSource;
  readonly rev: string;
  /** Repository-relative path of gitward.yaml. */
  readonly configPath: string;
  readonly filter: InstanceFilter;
  readonly renderer: Renderer;
  readonly check: CheckOptions;
  /** Verify the commit's signature with these keys before reading anything from it. */
  readonly verification?: SignatureVerification;
  /**
   * False lets a commit that fails verification be evaluated as unverified, unless its
   * gitward.yaml requires signatures: the agent has keys for every environment but requires
   * signatures only where its configuration says. Default true: a failed verification throws.
   */
  readonly verificationRequired?: boolean;
  /**
   * The base of a plan: already merged, so a missing gitward.yaml counts as empty (the PR that
   * adds it), filter names it lacks select nothing (a PR adding an environment), and a signature
   * requirement in its gitward.yaml is not enforced (only the proposed head must be signed).
   * Only rendered: checks and policies are for the proposed revision.
   */
  readonly asBase?: boolean;
  /** Render only: no checks, no policies (`gitward render`). */
  readonly renderOnly?: boolean;
  /** Validated gitward.yaml files by content, so an unchanged one is not parsed again. */
  readonly configCache?: ContentCache<Config>;
  /** Where `${outputs.<stack>.<name>}` are read while rendering (`gitward plan`); default: known after apply. */
  readonly outputs?: OutputsFactory;
  readonly signal?: AbortSignal;
}

/** Everything known about one revision after Source, Render and Check. */
export interface RevisionEvaluation {
  readonly commit: Commit;
  readonly verified: VerifiedCommit | undefined;
  /** Undefined when the revision has no gitward.yaml and that was allowed. */
  readonly config: LoadedConfig | undefined;
  readonly instances: readonly StackInstance[];
  readonly renders: readonly RenderResult[];
  readonly findings: readonly Finding[];
  /** Policy exemptions objects claimed, for reviewers to see. */
  readonly exemptions: readonly Exemption[];
  /** How many policies were evaluated. */
  readonly policies: number;
  /** Renders a stack of this revision again with the outputs of the stacks it depends on (before it syncs). */
  readonly renderAgain?: RenderAgain;
  /** Check and policies again over such a render (the values the gate saw as known after apply are filled in). */
  readonly checkAgain?: CheckAgain;
}

/**
 * Source, Render and Check for one revision: resolves and (optionally) verifies the commit,
 * loads gitward.yaml from it, renders every selected stack instance, checks the objects and
 * evaluates the repository's policies over them.
 * Configuration errors throw; render and check problems come back as findings.
 */
export async function evaluateRevision(opts: EvaluateOptions): Promise<RevisionEvaluation> {
  const commit = await opts.source.resolve(opts.rev, opts.signal);
  const { verified, failure } = await verifyAt(opts, commit);
  const snapshot = await opts.source.snapshot(commit, opts.signal);
  const config = await loadConfigAt(snapshot, opts);
  if (config === undefined) return { commit, verified, config, instances: [], renders: [], findings: [], exemptions: [], policies: 0 };
  const wanted = config.config.verification?.signatures;
  if (wanted?.required === true && opts.asBase !== true) checkSignaturePolicy(config, wanted.format, verified, failure);
  const instances = stackInstances(config, opts.asBase === true ? { ...opts.filter, lenient: true } : opts.filter);
  const dirIssues = checkInstanceDirs(config, instances, (p) => snapshot.entry(p)?.type === "tree");
  if (dirIssues.length > 0) throw new ConfigError(dirIssues);
  const renders = await renderAll(snapshot, instances, opts);
  const renderAgain: RenderAgain = (inst, outputs) => opts.renderer.render(snapshot, inst, opts.signal, outputs);
  // The base of a plan is only compared with; its findings would be thrown away.
  if (opts.asBase === true || opts.renderOnly === true) {
    return { commit, verified, config, instances, renders, findings: renderFailures(renders), exemptions: [], policies: 0, renderAgain };
  }
  const sops = sopsRecipientsOf(config.config);
  const checked = await runChecks(renders, opts.check, sops);
  const policy = await runPolicies(snapshot, config, renders, opts.signal);
  const findings = await refineFindingLocations([...checked, ...policy.findings], snapshot);
  const checkAgain: CheckAgain = async (render) => {
    const again = [...(await runChecks([render], opts.check, sops)), ...(await runPolicies(snapshot, config, [render], opts.signal)).findings];
    return refineFindingLocations(again, snapshot);
  };
  return {
    commit, verified, config, instances, renders: withPlannedChecks(renders, policy), findings,
    exemptions: policy.exemptions, policies: policy.policies, renderAgain, checkAgain,
  };
}

/** Renders every instance, producers of outputs first, so a stack reading their outputs can wait for their render. */
async function renderAll(snapshot: Snapshot, instances: readonly StackInstance[], opts: EvaluateOptions): Promise<RenderResult[]> {
  const started = new Map<StackInstance, Promise<RenderResult>>();
  const objectsOf = async (inst: StackInstance): Promise<readonly RenderedObject[] | undefined> => {
    const r = await started.get(inst);
    return r?.ok === true ? r.objects : undefined;
  };
  const source = opts.outputs?.({ instances, objectsOf });
  await mapLimit(producersFirst(instances), 4, (inst) => {
    const p = opts.renderer.render(snapshot, inst, opts.signal, source);
    started.set(inst, p);
    return p;
  });
  return Promise.all(instances.map((i) => started.get(i) ?? opts.renderer.render(snapshot, i, opts.signal, source)));
}

/** The commit verified; with `verificationRequired: false`, a signature failure is returned instead of thrown. */
async function verifyAt(opts: EvaluateOptions, commit: Commit): Promise<{ verified?: VerifiedCommit; failure?: GitwardError }> {
  if (opts.verification === undefined) return {};
  try {
    return { verified: await opts.source.verify(commit, opts.verification, opts.signal) };
  } catch (e: unknown) {
    if (opts.verificationRequired !== false || !(e instanceof GitwardError) || e.code !== ErrorCode.Signature) throw e;
    return { failure: e };
  }
}

async function loadConfigAt(snapshot: Snapshot, opts: EvaluateOptions): Promise<LoadedConfig | undefined> {
  const entry = snapshot.entry(opts.configPath);
  if (entry === undefined) {
    if (opts.asBase === true) return undefined;
    throw new GitwardError(ErrorCode.Config, `${opts.configPath} not found at ${snapshot.commit.sha.slice(0, 12)}`, {
      hint: "run gitward in a repository with a gitward.yaml, or pass --config PATH",
    });
  }
  const bytes = await snapshot.readFile(opts.configPath, opts.signal);
  const text = bytes.toString("utf8");
  const key = createHash("sha256").update(`${configFormat}\u0000${opts.configPath}\u0000${entry.oid}`).digest("hex");
  const hit = await opts.configCache?.get(key);
  if (hit !== undefined) return cachedConfig(hit, text, opts.configPath);
  // The bytes, so that text which is not UTF-8 is refused at its line instead of read as U+FFFD.
  const loaded = parseConfig(bytes, opts.configPath);
  await opts.configCache?.put(key, loaded.config);
  return loaded;
}

/** Bumped whenever loading gitward.yaml changes what it produces. */
const configFormat = "gitward-config-1";

/** Refuses a revision whose gitward.yaml requires signatures that were not verified, or verified in another format. */
function checkSignaturePolicy(config: LoadedConfig, format: "ssh" | "gpg", verified: VerifiedCommit | undefined, failure: GitwardError | undefined): void {
  const subject = { location: config.locate(["verification", "signatures"]) };
  const hint = format === "ssh" ? "pass --allowed-signers FILE" : "pass --gpg-keyring FILE";
  if (failure !== undefined) {
    throw new GitwardError(ErrorCode.Signature, `gitward.yaml requires ${format} commit signatures, and ${failure.detail}`, { subject, hint: failure.hint ?? hint });
  }
  if (verified === undefined) {
    throw new GitwardError(ErrorCode.Signature, `gitward.yaml requires ${format} commit signatures, and no trusted keys were given`, { subject, hint });
  }
  if (verified.format !== format) {
    throw new GitwardError(ErrorCode.Signature, `gitward.yaml requires ${format} commit signatures, and the commit was verified as ${verified.format}`, { subject, hint });
  }
}
