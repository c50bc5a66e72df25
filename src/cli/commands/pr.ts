import { readFileSync, writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { hasErrors } from "../../check/finding.ts";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { openWorkspace } from "../../engine/workspace.ts";
import type { Forge, ForgeKind } from "../../forge/forge.ts";
import { openForge } from "../../forge/open-forge.ts";
import { hasChanges } from "../../plan/change.ts";
import { planToMarkdown } from "../../plan/format-markdown.ts";
import { planToText } from "../../plan/format-text.ts";
import { prContext, type PrContext } from "../../pr/ci-context.ts";
import { commentLimits, markerIdPattern, planComment, planMarker } from "../../pr/comment.ts";
import { planPullRequest } from "../../pr/plan-result.ts";
import { describeFailure, publishPlan, type PublishOutcome, type PublishTarget } from "../../pr/publish.ts";
import { planStatuses, type PlanResult } from "../../pr/statuses.ts";
import { resolveToken } from "../../pr/token.ts";
import { pushDetail } from "../actor.ts";
import { addCommonOptions, addOutputOption, instanceFilter, verificationFrom, workspaceOptions, type CommonFlags } from "../common-options.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";

interface PrCommentFlags extends CommonFlags {
  base?: string;
  head: string;
  output: "text" | "markdown" | "json";
  detailedExitcode?: boolean;
  forge?: ForgeKind;
  apiUrl?: string;
  repository?: string;
  pr?: number;
  sha?: string;
  tokenEnv?: string;
  tokenFile?: string;
  markerId?: string;
  maxCommentChars?: number;
  planFile?: string;
}

const positiveInt = (what: string) => (value: string): number => {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError(`${what} must be a positive whole number`);
  return Number(value);
};

/** `gitward pr`: the pull-request loop on the forge; `gitward pr comment` posts the plan and sets statuses. */
export function prCommand(run: (action: (io: CliIO, flags: PrCommentFlags) => Promise<number>) => (flags: PrCommentFlags) => Promise<void>): Command {
  const comment = new Command("comment")
    .description("Plan the pull request (base -> head, offline), post the plan as one comment on it (updated on each push) and set a gitward/plan/<env> commit status per environment")
    .option("-b, --base <rev>", "the revision the change is proposed against (default: the pull request's base commit, from CI)")
    .option("--head <rev>", "the proposed revision", "HEAD")
    .option("--detailed-exitcode", "exit 0 with no changes, 2 with changes, 1 on error")
    .addOption(new Option("--forge <kind>", "the forge (default: from CI)").choices(["github", "gitlab", "gitea"]))
    .option("--api-url <url>", "the forge's REST API URL (default: GITHUB_API_URL or CI_API_V4_URL)")
    .option("--repository <name>", "owner/name, or a GitLab project id or path (default: GITHUB_REPOSITORY or CI_PROJECT_ID)")
    .option("--pr <n>", "the pull (merge) request number (default: from the CI event or CI_MERGE_REQUEST_IID)", positiveInt("--pr"))
    .option("--sha <sha>", "the commit to set statuses on (default: the pull request's head commit from CI, else --head)")
    .option("--token-env <name>", "the environment variable holding the forge token (default: GITHUB_TOKEN; GITLAB_TOKEN; GITEA_TOKEN then GITHUB_TOKEN)")
    .option("--token-file <path>", "read the forge token from this file instead")
    .option("--marker-id <id>", "tell apart several plans in one pull request: comment marker gitward:plan:<id>, statuses gitward/plan/<id>/<env>")
    .option("--max-comment-chars <n>", "the longest comment to post (default: the forge's limit, 65536 on GitHub and Gitea, 1000000 on GitLab)", positiveInt("--max-comment-chars"))
    .option("--plan-file <path>", "always write the full plan (markdown) here; without it, gitward-plan.md is written when the comment is a summary");
  addOutputOption(addCommonOptions(comment), ["text", "markdown", "json"]);
  comment.addHelpText("after", "\nThe token is read from the environment or --token-file, never from a flag's value. Docs: docs/ci.md");
  comment.action(run(prComment));
  return new Command("pr").description("Pull-request integration with GitHub, GitLab and Gitea/Forgejo (see docs/ci.md)").addCommand(comment);
}

async function prComment(io: CliIO, flags: PrCommentFlags): Promise<number> {
  const read = (p: string): string => readFileSync(p, "utf8");
  const ctx = prContext(flags, process.env, read);
  const token = resolveToken(ctx.forge, flags, process.env, read);
  if (flags.markerId !== undefined && !markerIdPattern.test(flags.markerId)) {
    throw new GitwardError(ErrorCode.Config, `--marker-id ${flags.markerId}: expected letters, digits, '.', '_' or '-' (at most 64)`);
  }
  const ws = await openWorkspace(workspaceOptions(flags, io.progress));
  let planned: Awaited<ReturnType<typeof planPullRequest>>;
  try {
    const verification = verificationFrom(flags);
    io.progress(`planning ${ctx.base} -> ${flags.head} for ${ctx.forge} pull request ${ctx.pr}`);
    planned = await planPullRequest({
      source: ws.source, base: ctx.base, head: flags.head, configPath: flags.config, filter: instanceFilter(flags),
      renderer: ws.renderer, check: ws.check, configCache: ws.configCache, ...(verification === undefined ? {} : { verification }),
    }, flags.env ?? []);
  } finally {
    await ws.close();
  }
  const { result } = planned;
  const sha = ctx.headSha ?? planned.headSha;
  const marker = planMarker(flags.markerId);
  const planFile = resolve(flags.planFile ?? "gitward-plan.md");
  const limit = flags.maxCommentChars ?? commentLimits[ctx.forge];
  const comment = planComment(result, { marker, limit, fullPlanAt: `the CI artifact \`${basename(planFile)}\`` });
  const wrote = comment.summarized || flags.planFile !== undefined;
  if (wrote) {
    writeFileSync(planFile, comment.fullPlan);
    io.progress(`wrote the full plan to ${planFile}`);
  }
  if (flags.output !== "json") printPlan(io, result, flags.output);
  const target: PublishTarget = { forge: ctx.forge, apiUrl: ctx.apiUrl, repository: ctx.repository, pr: ctx.pr, sha: sha ?? "", tokenSource: token.source };
  const published = sha === undefined
    ? noSha(ctx)
    : await publish(target, token.token, { marker, body: comment.body }, planStatuses(result, { targetUrl: pushDetail(), markerId: flags.markerId }), io);
  if (flags.output === "json") io.out(jsonReport(ctx, sha, result, published, { summarized: comment.summarized, chars: comment.body.length, planFile: wrote ? planFile : undefined }));
  reportFailures(io, published);
  if (published.failures.length > 0 || !result.ok || hasErrors(result.plan.findings)) return ExitCode.Error;
  return flags.detailedExitcode === true && hasChanges(result.plan.counts) ? ExitCode.Changes : ExitCode.Ok;
}

async function publish(target: PublishTarget, token: string, comment: { marker: string; body: string }, statuses: ReturnType<typeof planStatuses>, io: CliIO): Promise<PublishOutcome> {
  let forge: Forge;
  try {
    forge = await openForge({ kind: target.forge, apiUrl: target.apiUrl, repository: target.repository, token });
  } catch (e: unknown) {
    return { comment: undefined, statuses: [], failures: [describeFailure(e, `opening the ${target.forge} client`, target)] };
  }
  return publishPlan(forge, target, comment, statuses, io.progress);
}

function noSha(ctx: PrContext): PublishOutcome {
  return {
    comment: undefined, statuses: [],
    failures: [{ call: `publishing to ${ctx.forge} pull request ${ctx.pr}`, message: "the head commit is unknown: it is not in the CI event and --head did not resolve", hint: "pass --sha, or fetch the pull request's head" }],
  };
}

function printPlan(io: CliIO, result: PlanResult, output: "text" | "markdown"): void {
  if (!result.ok) {
    io.err(`${io.errColors.red("error")}: no plan was made: ${result.reason}\n`);
    for (const f of result.findings.filter((x) => x.severity === "error")) io.err(`  ${f.environment ?? ""}${f.stack === undefined ? "" : `/${f.stack}`}: ${f.message}\n`);
    return;
  }
  io.out(output === "markdown" ? planToMarkdown(result.plan) : planToText(result.plan, io.colors));
}

function reportFailures(io: CliIO, p: PublishOutcome): void {
  for (const f of p.failures) io.err(`${io.errColors.red("error")}: ${f.message}\n${io.errColors.dim("hint")}: ${f.hint}\n`);
  if (p.failures.length === 0) return;
  const set = p.statuses.filter((s) => s.set).length;
  if (p.comment === undefined && set > 0) io.err(`${io.errColors.red("error")}: the plan comment was NOT posted, but ${set} of ${p.statuses.length} statuses were set\n`);
  else if (p.comment !== undefined && set < p.statuses.length) io.err(`${io.errColors.red("error")}: the plan comment was posted, but only ${set} of ${p.statuses.length} statuses were set\n`);
  else if (p.comment === undefined) io.err(`${io.errColors.red("error")}: nothing was published: no comment, no status\n`);
}

function jsonReport(ctx: PrContext, sha: string | undefined, result: PlanResult, p: PublishOutcome, c: { summarized: boolean; chars: number; planFile: string | undefined }): string {
  const doc = {
    forge: ctx.forge,
    repository: ctx.repository,
    pullRequest: ctx.pr,
    sha: sha ?? null,
    planned: result.ok,
    ...(result.ok ? {} : { reason: result.reason }),
    comment: p.comment === undefined ? null : { id: p.comment.id, created: p.comment.created, summarized: c.summarized, chars: c.chars },
    planFile: c.planFile ?? null,
    statuses: p.statuses,
    counts: result.ok ? result.plan.counts : null,
    environments: result.ok ? result.plan.environments.map((e) => ({ environment: e.environment, counts: e.counts })) : [],
    errors: p.failures,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
