import { Command } from "commander";
import { compareFindings, hasErrors } from "../../check/finding.ts";
import { planRevisions } from "../../engine/plan-revisions.ts";
import { defaultCacheDir, openWorkspace } from "../../engine/workspace.ts";
import { hasChanges } from "../../plan/change.ts";
import { planToJson } from "../../plan/format-json.ts";
import { planToMarkdown } from "../../plan/format-markdown.ts";
import { findingsText, planToText } from "../../plan/format-text.ts";
import { addCommonOptions, addOutputOption, instanceFilter, verificationFrom, workspaceOptions, type CommonFlags } from "../common-options.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";

interface PlanFlags extends CommonFlags {
  base?: string;
  head: string;
  output: "text" | "markdown" | "json";
  detailedExitcode?: boolean;
}

/** `gitward plan`: what changes in each environment between two revisions, offline. */
export function planCommand(run: (action: (io: CliIO, flags: PlanFlags) => Promise<number>) => (flags: PlanFlags) => Promise<void>): Command {
  const cmd = new Command("plan")
    .description("Show what changes in each environment between two revisions (offline, for pull requests)")
    .option("-b, --base <rev>", "the revision the change is proposed against, e.g. origin/main (default: nothing, so every object is created)")
    .option("--head <rev>", "the proposed revision", "HEAD")
    .option("--detailed-exitcode", "exit 0 with no changes, 2 with changes, 1 on error");
  addOutputOption(addCommonOptions(cmd), ["text", "markdown", "json"]);
  return cmd.action(run(plan));
}

async function plan(io: CliIO, flags: PlanFlags): Promise<number> {
  const ws = await openWorkspace(workspaceOptions(flags, io.progress));
  try {
    const verification = verificationFrom(flags);
    io.progress(`planning ${flags.base ?? "(nothing)"} -> ${flags.head}`);
    const outcome = await planRevisions({
      source: ws.source, base: flags.base, head: flags.head, configPath: flags.config, filter: instanceFilter(flags),
      renderer: ws.renderer, check: ws.check, configCache: ws.configCache, ...(verification === undefined ? {} : { verification }),
      // Terraform stacks are planned in working directories under the same cache (--cache-dir).
      cacheDir: flags.cacheDir ?? defaultCacheDir(),
    });
    const findings = [...outcome.findings].sort(compareFindings);
    if (outcome.plan === undefined) {
      io.err(findingsText(findings, io.errColors));
      io.err(`${io.errColors.red("error")}: head ${flags.head} did not render; no plan was made\n`);
      return ExitCode.Error;
    }
    const p = { ...outcome.plan, findings };
    if (flags.output === "json") io.out(planToJson(p));
    else if (flags.output === "markdown") io.out(planToMarkdown(p));
    else io.out(planToText(p, io.colors));
    if (hasErrors(findings)) return ExitCode.Error;
    return flags.detailedExitcode === true && hasChanges(p.counts) ? ExitCode.Changes : ExitCode.Ok;
  } finally {
    await ws.close();
  }
}
