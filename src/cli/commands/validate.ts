import { Command } from "commander";
import { compareFindings, hasErrors } from "../../check/finding.ts";
import { ProcessRunner } from "../../core/command-runner.ts";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { evaluateRevision } from "../../engine/evaluate-revision.ts";
import { openWorkspace } from "../../engine/workspace.ts";
import { exemptionsText, findingsText } from "../../plan/format-text.ts";
import { addCommonOptions, addOutputOption, instanceFilter, looksLikeUrl, verificationFrom, workspaceOptions, type CommonFlags } from "../common-options.ts";
import { workingTreeCommit, workingTreeState, type WorkingTreeState } from "../local-repository.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";

interface ValidateFlags extends CommonFlags {
  rev: string;
  workingTree?: boolean;
  output: "text" | "json";
}

/** `gitward validate`: render and check one revision; exit 1 on any error finding. */
export function validateCommand(run: (action: (io: CliIO, flags: ValidateFlags) => Promise<number>) => (flags: ValidateFlags) => Promise<void>): Command {
  const cmd = new Command("validate")
    .description("Render every stack of a revision and check it: structure, schemas, plaintext secrets, duplicates, policies")
    .option("-r, --rev <rev>", "revision to validate (branch, tag, SHA)", "HEAD")
    .option("--working-tree", "validate the tracked files as they are in the working tree (HEAD plus uncommitted edits), not HEAD");
  addOutputOption(addCommonOptions(cmd), ["text", "json"]);
  return cmd.action(run(validate));
}

async function validate(io: CliIO, flags: ValidateFlags): Promise<number> {
  const target = await whatToValidate(io, flags);
  const ws = await openWorkspace(workspaceOptions(flags, io.progress));
  try {
    const verification = verificationFrom(flags);
    io.progress(`validating ${target.label}`);
    const result = await evaluateRevision({
      source: ws.source, rev: target.rev, configPath: flags.config, filter: instanceFilter(flags),
      renderer: ws.renderer, check: ws.check, configCache: ws.configCache, ...(verification === undefined ? {} : { verification }),
    });
    const findings = [...result.findings].sort(compareFindings);
    const objects = result.renders.reduce((n, r) => n + (r.ok ? r.objects.length : 0), 0);
    const errors = findings.filter((f) => f.severity === "error").length;
    const warnings = findings.filter((f) => f.severity === "warning").length;
    if (flags.output === "json") {
      io.out(JSON.stringify({
        formatVersion: 1, revision: result.commit.sha, valid: !hasErrors(findings),
        ...(target.workingTree === undefined ? {} : { workingTree: target.workingTree }),
        stacks: result.renders.length, objects, policies: result.policies, errors, warnings, findings, exemptions: result.exemptions,
        ...(result.verified === undefined ? {} : { signature: result.verified }),
      }, null, 2) + "\n");
    } else {
      io.out(findingsText(findings, io.colors) + exemptionsText(result.exemptions, io.colors));
      const verdict = hasErrors(findings) ? io.colors.red("invalid") : io.colors.green("valid");
      const what = target.workingTree === undefined ? result.commit.sha.slice(0, 12) : `working tree on ${target.workingTree.head.slice(0, 12)}`;
      io.out(`${verdict}: ${what}: ${result.renders.length} stack instance(s), ${objects} object(s), ${result.policies} polic${result.policies === 1 ? "y" : "ies"}, ${errors} error(s), ${warnings} warning(s)\n`);
    }
    return hasErrors(findings) ? ExitCode.Error : ExitCode.Ok;
  } finally {
    await ws.close();
  }
}

/** The revision to validate, and how to name it. */
interface ValidateTarget {
  readonly rev: string;
  readonly label: string;
  /** Set with --working-tree when there were changes: the commit made of them stands in for HEAD. */
  readonly workingTree?: WorkingTreeState;
}

/**
 * HEAD, --rev, or with --working-tree a commit of the working tree. Validating HEAD of a clone
 * with uncommitted edits says so on stderr: a user who just edited a file expects it checked.
 */
async function whatToValidate(io: CliIO, flags: ValidateFlags): Promise<ValidateTarget> {
  const local = !looksLikeUrl(flags.repo);
  if (flags.workingTree === true) {
    if (!local) throw new GitwardError(ErrorCode.Config, "--working-tree needs a local clone, not a URL");
    if (flags.rev !== "HEAD") throw new GitwardError(ErrorCode.Config, "--working-tree validates the working tree on HEAD; it cannot be used with --rev");
  }
  const runner = new ProcessRunner();
  const state = local && flags.rev === "HEAD" ? await workingTreeState(runner, flags.repo) : undefined;
  if (state === undefined || state.changes === 0) return { rev: flags.rev, label: flags.rev };
  if (flags.workingTree === true) {
    const sha = await workingTreeCommit(runner, flags.repo);
    if (sha !== undefined) return { rev: sha, label: `the working tree (HEAD and ${state.changes} uncommitted change(s))`, workingTree: state };
    return { rev: flags.rev, label: flags.rev };
  }
  io.err(`${io.errColors.yellow("warning")}: validating HEAD (${state.head.slice(0, 12)}); ${state.changes} uncommitted change(s) are not included — commit them, or pass --working-tree to validate them too\n`);
  return { rev: flags.rev, label: flags.rev };
}
