import { existsSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { rollback, type RollbackPublish, type RollbackResult, type RollbackTarget } from "../../engine/rollback.ts";
import { defaultCacheDir } from "../../engine/workspace.ts";
import { addOutputOption, looksLikeUrl } from "../common-options.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";

interface RollbackFlags {
  repo: string;
  config: string;
  env: string;
  stack?: string;
  to?: string;
  steps?: number;
  reason: string;
  push?: boolean;
  branch?: string;
  dryRun?: boolean;
  sourceBranch?: string;
  branchFrom?: string;
  cacheDir?: string;
  cache: boolean;
  output: "text" | "json";
  debug?: boolean;
  quiet?: boolean;
  color?: boolean;
}

const positiveInt = (value: string): number => {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw new InvalidArgumentError("must be a whole number from 1 to 9999");
  return Number.parseInt(value, 10);
};

/** `gitward rollback`: a revert commit made and pushed through Git, so Git stays the truth. */
export function rollbackCommand(run: (action: (io: CliIO, flags: RollbackFlags) => Promise<number>) => (flags: RollbackFlags) => Promise<void>): Command {
  const cmd = new Command("rollback")
    .description("Roll an environment (or one stack of it) back with a revert commit, pushed to the branch or to a new branch for a pull request")
    .option("--repo <path|url>", "repository: a local path or a URL (file, http(s), ssh, git)", ".")
    .option("--config <path>", "path of gitward.yaml inside the repository", "gitward.yaml")
    .requiredOption("-e, --env <name>", "the environment to roll back")
    .option("-s, --stack <name>", "only this stack: its directory for the environment, and gitward.yaml")
    .addOption(new Option("--steps <n>", "revert the last N commits that changed what the environment (or the stack) renders").argParser(positiveInt).conflicts("to"))
    .addOption(new Option("--to <rev>", "make the files (or the stack's) equal to this revision's, in one commit"))
    .requiredOption("--reason <text>", "why: written into the commit message")
    .addOption(new Option("--push", "push the commit to the branch rolled back").conflicts(["branch", "dryRun"]))
    .addOption(new Option("--branch <name>", "push the commit to this new branch, for a pull request").conflicts("dryRun"))
    .option("--dry-run", "make the commit in a temporary clone and show it; push nothing (the default without --push or --branch)")
    .addOption(new Option("--source-branch <name>", "the branch to roll back (default: the remote's default branch)").conflicts("branchFrom"))
    .addOption(new Option("--branch-from <name>", "same as --source-branch"))
    .option("--cache-dir <dir>", "cache for render results (default $GITWARD_CACHE_DIR or ~/.cache/gitward)")
    .option("--no-cache", "keep no cache on disk: render each revision afresh")
    .option("-q, --quiet", "no progress messages on stderr")
    .option("--no-color", "no colour, even on a terminal (NO_COLOR is honoured too)")
    .option("--debug", "show stack traces for errors")
    .addHelpText("after", `
Examples:
  gitward rollback --env prod --stack web --steps 1 --reason "5xx after web 1.4.2" --push
  gitward rollback --env prod --to v1.4.1 --reason "back to the last good release" --branch rollback/prod-1.4.1
  gitward rollback --repo https://git.example.com/infra.git --env dev --steps 2 --reason "try it"

The commit is authored by you (GIT_AUTHOR_NAME/EMAIL, else git config user.name/email). Without
--push or --branch nothing is pushed: the commit is shown, then its temporary clone removed.
A rollback changes only what the environment (or the stack) renders: one that would change
another environment or stack too is refused, naming the commit.
Exit codes: 0 success, 1 error (nothing to roll back, a conflict, a refused rollback, a rejected push, invalid flags).
Docs: docs/rollback.md`);
  addOutputOption(cmd, ["text", "json"]);
  return cmd.action(run(rollbackAction));
}

async function rollbackAction(io: CliIO, flags: RollbackFlags): Promise<number> {
  // git run in a directory that does not exist fails as if git were missing ("install git").
  if (!looksLikeUrl(flags.repo) && !existsSync(flags.repo)) {
    throw new GitwardError(ErrorCode.Git, `repository ${flags.repo} does not exist`, { hint: "pass --repo with a clone, a bare repository, or a URL" });
  }
  const sourceBranch = flags.sourceBranch ?? flags.branchFrom;
  const result = await rollback({
    repo: flags.repo, configPath: flags.config, environment: flags.env, reason: flags.reason,
    target: targetOf(flags), publish: publishOf(flags),
    ...(flags.stack === undefined ? {} : { stack: flags.stack }),
    ...(sourceBranch === undefined ? {} : { sourceBranch }),
    ...(flags.cache ? { cacheDir: flags.cacheDir ?? defaultCacheDir() } : {}),
    progress: io.progress,
  });
  if (flags.output === "json") io.out(JSON.stringify(jsonOf(result), null, 2) + "\n");
  else io.out(textOf(result, io));
  return ExitCode.Ok;
}

function targetOf(flags: RollbackFlags): RollbackTarget {
  if (flags.steps !== undefined) return { kind: "steps", steps: flags.steps };
  if (flags.to !== undefined) return { kind: "to", rev: flags.to };
  throw new GitwardError(ErrorCode.Config, "say what to roll back: --steps N or --to REV", {
    hint: "--steps 1 reverts the last commit that changed the environment (or --stack)",
  });
}

function publishOf(flags: RollbackFlags): RollbackPublish {
  if (flags.push === true) return { kind: "push" };
  if (flags.branch !== undefined) return { kind: "branch", name: flags.branch };
  return { kind: "none" };
}

function jsonOf(r: RollbackResult): object {
  return {
    formatVersion: 1, commit: r.commit, branch: r.branch, pushed: r.pushed, publish: r.publish,
    sourceBranch: r.sourceBranch, base: r.base, repository: r.repository, environment: r.environment, stack: r.stack ?? null,
    to: r.to ?? null, reverted: r.reverted, paths: r.paths, files: r.files, author: r.author, message: r.message,
  };
}

function textOf(r: RollbackResult, io: CliIO): string {
  const c = io.colors;
  const where = `${r.environment}${r.stack === undefined ? "" : `/${r.stack}`}`;
  const to = r.to === undefined ? "" : ` to ${r.to.sha.slice(0, 7)} (${r.to.subject})`;
  const on = r.branch === r.sourceBranch ? r.branch : `${r.branch} (a new branch from ${r.sourceBranch})`;
  const lines = [c.bold(`Rollback of ${where}${to}: commit ${r.commit.slice(0, 12)} on ${on}, undoing ${r.reverted.length} commit(s):`)];
  for (const x of r.reverted) lines.push(`  ${c.yellow(x.sha.slice(0, 7))} ${x.subject}`);
  lines.push(r.diffStat);
  if (r.publish === "push") lines.push(c.green(`Pushed to ${r.branch} of ${r.repository}: the agent syncs it like any commit.`));
  else if (r.publish === "branch") lines.push(c.green(`Pushed to the new branch ${r.branch} of ${r.repository}: open a pull request into ${r.sourceBranch}.`));
  else lines.push(c.yellow("Dry run: nothing was pushed (--push pushes it to the branch, --branch NAME to a new branch for a pull request)."));
  return lines.join("\n") + "\n";
}
