import type { Finding } from "../check/finding.ts";
import { sopsRecipientsOf } from "../check/sops.ts";
import { runChecks, type CheckOptions } from "../check/run-checks.ts";
import { ConfigError } from "../config/config-error.ts";
import { parseConfig } from "../config/load-config.ts";
import { checkInstanceDirs, stackInstances, type StackInstance } from "../config/stack-instances.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { mapLimit } from "../core/map-limit.ts";
import type { Renderer, RenderResult } from "../render/renderer.ts";
import type { Commit, GitSource, SignatureVerification } from "../source/types.ts";
import { decideGate, type GateOutcome } from "./gate.ts";
import { refineFindingLocations } from "./locate-findings.ts";
import { runPolicies } from "./policy-stage.ts";
import { previewEnvironment, type PreviewEnvironment } from "./preview-environment.ts";
import { confineToNamespace } from "./preview-render.ts";
import type { PreviewPullRequest } from "../config/preview-template.ts";

/** What evaluating a pull request's preview needs. */
export interface PreviewEvaluateOptions {
  readonly source: GitSource;
  readonly pr: PreviewPullRequest;
  /** Repository-relative path of gitward.yaml. */
  readonly configPath: string;
  readonly renderer: Renderer;
  readonly check: CheckOptions;
  /** Trusted keys, for a gitward.yaml that requires signed commits. */
  readonly verification?: SignatureVerification;
  readonly signal?: AbortSignal;
}

/** A pull request's head evaluated as its preview environment: Source, Render, Check, Gate. */
export interface PreviewEvaluation {
  readonly commit: Commit;
  readonly preview: PreviewEnvironment;
  readonly instances: readonly StackInstance[];
  readonly renders: readonly RenderResult[];
  readonly findings: readonly Finding[];
  readonly gate: GateOutcome;
}

/**
 * Evaluates a pull request's head for its preview as `evaluateRevision` does for an
 * environment, with the preview environment added to gitward.yaml and, when `previews.namespace`
 * is set, the kubernetes stacks' objects moved into it before they are checked, so that
 * checks and policies judge what will be applied. Configuration errors throw.
 */
export async function evaluatePreview(opts: PreviewEvaluateOptions): Promise<PreviewEvaluation> {
  const commit = await opts.source.resolve(opts.pr.sha, opts.signal);
  const snapshot = await opts.source.snapshot(commit, opts.signal);
  if (snapshot.entry(opts.configPath)?.type !== "blob") {
    throw new GitwardError(ErrorCode.Config, `${opts.configPath} not found at ${commit.sha.slice(0, 12)} (pull request ${opts.pr.number})`);
  }
  const loaded = parseConfig(await snapshot.readFile(opts.configPath, opts.signal), opts.configPath);
  await checkSignature(opts, commit, loaded.config.verification?.signatures);
  const preview = previewEnvironment(loaded, opts.pr);
  const instances = stackInstances(preview.loaded, { environments: [preview.name] });
  const dirIssues = checkInstanceDirs(preview.loaded, instances, (p) => snapshot.entry(p)?.type === "tree");
  if (dirIssues.length > 0) throw new ConfigError(dirIssues);
  const renders = (await mapLimit(instances, 4, (inst) => opts.renderer.render(snapshot, inst, opts.signal)))
    .map((r) => (preview.namespace !== undefined && r.instance.target.provider === "kubernetes" ? confineToNamespace(r, preview.namespace) : r));
  const checked = await runChecks(renders, opts.check, sopsRecipientsOf(preview.loaded.config));
  const policy = await runPolicies(snapshot, preview.loaded, renders, opts.signal);
  const findings = await refineFindingLocations([...checked, ...policy.findings], snapshot);
  return { commit, preview, instances, renders, findings, gate: await decideGate(findings, undefined) };
}

/** A gitward.yaml requiring signed commits holds for previews too: an unsigned head is refused. */
async function checkSignature(opts: PreviewEvaluateOptions, commit: Commit, wanted: { required: boolean; format: "ssh" | "gpg" } | undefined): Promise<void> {
  if (wanted?.required !== true) return;
  if (opts.verification === undefined) {
    throw new GitwardError(ErrorCode.Signature, `gitward.yaml requires ${wanted.format} commit signatures, and the agent has no trusted keys to verify pull request ${opts.pr.number}'s head`);
  }
  const verified = await opts.source.verify(commit, opts.verification, opts.signal);
  if (verified.format !== wanted.format) {
    throw new GitwardError(ErrorCode.Signature, `gitward.yaml requires ${wanted.format} commit signatures, and pull request ${opts.pr.number}'s head was verified as ${verified.format}`);
  }
}
