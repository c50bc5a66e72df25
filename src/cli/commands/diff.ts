import { Command } from "commander";
import { compareFindings, hasErrors } from "../../check/finding.ts";
import { diffEnvironment } from "../../engine/diff-environment.ts";
import { defaultProviders } from "../../engine/providers.ts";
import { defaultCacheDir, openWorkspace } from "../../engine/workspace.ts";
import { hasChanges } from "../../plan/change.ts";
import { planToJson } from "../../plan/format-json.ts";
import { planToMarkdown } from "../../plan/format-markdown.ts";
import { findingsText, planToText } from "../../plan/format-text.ts";
import { addKubernetesTuning, kubernetesTuning, type TuningFlags } from "../kubernetes-flags.ts";
import { addCommonOptions, addHostCommandsOption, addOutputOption, pushProviderContext, verificationFrom, workspaceOptions, type TargetFlags } from "../common-options.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";
import { singleEnvironment } from "./apply.ts";

interface DiffFlags extends TargetFlags, TuningFlags {
  rev: string;
  output: "text" | "markdown" | "json";
  detailedExitcode?: boolean;
}

/** `gitward diff`: live state of an environment against a revision. */
export function diffCommand(run: (action: (io: CliIO, flags: DiffFlags) => Promise<number>) => (flags: DiffFlags) => Promise<void>): Command {
  const cmd = new Command("diff")
    .description("Compare an environment's live state with a revision, per object, with drift and who made it (never writes)")
    .option("-r, --rev <rev>", "revision to compare with", "HEAD")
    .option("--detailed-exitcode", "exit 0 with no differences, 2 with differences, 1 on error");
  addKubernetesTuning(cmd);
  addHostCommandsOption(cmd);
  addOutputOption(addCommonOptions(cmd), ["text", "markdown", "json"]);
  return cmd.action(run(diff));
}

async function diff(io: CliIO, flags: DiffFlags): Promise<number> {
  const environment = singleEnvironment(flags);
  // diff runs no command; the same definitions are accepted so that apply's command line works here too.
  // Terraform's working directories go under the same cache as everything else (--cache-dir).
  const providerContext = { ...await pushProviderContext(flags, environment), cacheDir: flags.cacheDir ?? defaultCacheDir() };
  const ws = await openWorkspace(workspaceOptions(flags, io.progress, { clusterSchemas: false }));
  try {
    const verification = verificationFrom(flags);
    const outcome = await diffEnvironment({
      source: ws.source, rev: flags.rev, configPath: flags.config, renderer: ws.renderer, check: ws.check, configCache: ws.configCache,
      environment, ...(flags.stack === undefined ? {} : { stacks: flags.stack }),
      ...(verification === undefined ? {} : { verification }),
      providers: defaultProviders(kubernetesTuning(flags)),
      providerContext,
    });
    const findings = [...outcome.findings].sort(compareFindings);
    for (const e of outcome.errors) io.err(`${io.errColors.red("error")}: stack ${e.stack}: ${e.message}\n`);
    if (outcome.plan === undefined) {
      io.err(findingsText(findings, io.errColors));
      return ExitCode.Error;
    }
    // Stacks whose target could not be read are in no count: the plan says so, rather than "0 to create".
    const unread = outcome.errors.map((e) => ({ stack: e.stack, message: e.message }));
    const environments = outcome.plan.environments.map((e) => (unread.length === 0 ? e : { ...e, unread }));
    const p = { ...outcome.plan, findings, environments };
    // The plan formats, titled for what this is: live state against a revision.
    if (flags.output === "json") io.out(planToJson(p));
    else if (flags.output === "markdown") io.out(planToMarkdown(p).replace(/^## gitward plan\n\nBase _\(nothing\)_/, "## gitward diff\n\nLive state"));
    else io.out(planToText(p, io.colors).replace(/^(\S*)Plan: \(nothing\) ->/, "$1Diff: live ->"));
    if (outcome.errors.length > 0 || hasErrors(findings)) return ExitCode.Error;
    return flags.detailedExitcode === true && hasChanges(p.counts) ? ExitCode.Changes : ExitCode.Ok;
  } finally {
    await ws.close();
  }
}
