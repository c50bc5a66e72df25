import { Command } from "commander";
import { compareFindings, hasErrors } from "../../check/finding.ts";
import { evaluateRevision } from "../../engine/evaluate-revision.ts";
import { openWorkspace } from "../../engine/workspace.ts";
import { exemptionsText, findingsText } from "../../plan/format-text.ts";
import { addCommonOptions, addOutputOption, instanceFilter, verificationFrom, workspaceOptions, type CommonFlags } from "../common-options.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";

interface ValidateFlags extends CommonFlags {
  rev: string;
  output: "text" | "json";
}

/** `gitward validate`: render and check one revision; exit 1 on any error finding. */
export function validateCommand(run: (action: (io: CliIO, flags: ValidateFlags) => Promise<number>) => (flags: ValidateFlags) => Promise<void>): Command {
  const cmd = new Command("validate")
    .description("Render every stack of a revision and check it: structure, schemas, plaintext secrets, duplicates, policies")
    .option("-r, --rev <rev>", "revision to validate (branch, tag, SHA)", "HEAD");
  addOutputOption(addCommonOptions(cmd), ["text", "json"]);
  return cmd.action(run(validate));
}

async function validate(io: CliIO, flags: ValidateFlags): Promise<number> {
  const ws = await openWorkspace(workspaceOptions(flags, io.progress));
  try {
    const verification = verificationFrom(flags);
    io.progress(`validating ${flags.rev}`);
    const result = await evaluateRevision({
      source: ws.source, rev: flags.rev, configPath: flags.config, filter: instanceFilter(flags),
      renderer: ws.renderer, check: ws.check, configCache: ws.configCache, ...(verification === undefined ? {} : { verification }),
    });
    const findings = [...result.findings].sort(compareFindings);
    const objects = result.renders.reduce((n, r) => n + (r.ok ? r.objects.length : 0), 0);
    const errors = findings.filter((f) => f.severity === "error").length;
    const warnings = findings.filter((f) => f.severity === "warning").length;
    if (flags.output === "json") {
      io.out(JSON.stringify({
        formatVersion: 1, revision: result.commit.sha, valid: !hasErrors(findings),
        stacks: result.renders.length, objects, policies: result.policies, errors, warnings, findings, exemptions: result.exemptions,
        ...(result.verified === undefined ? {} : { signature: result.verified }),
      }, null, 2) + "\n");
    } else {
      io.out(findingsText(findings, io.colors) + exemptionsText(result.exemptions, io.colors));
      const verdict = hasErrors(findings) ? io.colors.red("invalid") : io.colors.green("valid");
      io.out(`${verdict}: ${result.commit.sha.slice(0, 12)}: ${result.renders.length} stack instance(s), ${objects} object(s), ${result.policies} polic${result.policies === 1 ? "y" : "ies"}, ${errors} error(s), ${warnings} warning(s)\n`);
    }
    return hasErrors(findings) ? ExitCode.Error : ExitCode.Ok;
  } finally {
    await ws.close();
  }
}
