import { resolve } from "node:path";
import { Command } from "commander";
import { ProcessRunner } from "../core/command-runner.ts";
import { looksLikeUrl } from "./common-options.ts";
import { repositoryTopLevel } from "./local-repository.ts";
import { reportError } from "./report-error.ts";
import { ExitCode } from "./exit-codes.ts";
import { processIO, type CliIO } from "./io.ts";
import { planCommand } from "./commands/plan.ts";
import { applyCommand } from "./commands/apply.ts";
import { diffCommand } from "./commands/diff.ts";
import { renderCommand } from "./commands/render.ts";
import { validateCommand } from "./commands/validate.ts";
import { quickstartCommand } from "./commands/quickstart.ts";
import { rollbackCommand } from "./commands/rollback.ts";
import { prCommand } from "./commands/pr.ts";
import { tokenCommand } from "./commands/token.ts";
import { stateCommand } from "./commands/state.ts";
import { agentCommand, auditCommand, historyCommand, statusCommand, syncCommand } from "./commands/agent.ts";

/** The version printed by --version. */
export const version = "0.1.0";

/** Builds the gitward command line; `setExit` receives each command's exit code. */
export function buildProgram(setExit: (code: number) => void, makeIO: typeof processIO = processIO): Command {
  const run =
    <F extends { debug?: boolean; quiet?: boolean; color?: boolean }>(action: (io: CliIO, flags: F) => Promise<number>) =>
    async (flags: F): Promise<void> => {
      const io = makeIO(flags);
      try {
        setExit(await action(io, flags));
      } catch (e: unknown) {
        reportError(e, flags.debug === true, io.errColors, io.err);
        setExit(ExitCode.Error);
      }
    };
  const program = new Command("gitward")
    .description("GitOps engine: Git is the single source of truth for infrastructure")
    .version(version)
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", "\nExit codes: 0 success, 1 error, 2 changes (plan --detailed-exitcode). Docs: docs/cli.md");
  program.addCommand(validateCommand(run));
  program.addCommand(renderCommand(run));
  program.addCommand(planCommand(run));
  program.addCommand(diffCommand(run));
  program.addCommand(applyCommand(run));
  program.addCommand(agentCommand(run));
  program.addCommand(syncCommand(run));
  program.addCommand(statusCommand(run));
  program.addCommand(historyCommand(run));
  program.addCommand(auditCommand(run));
  program.addCommand(quickstartCommand(run));
  program.addCommand(rollbackCommand(run));
  program.addCommand(prCommand(run));
  program.addCommand(tokenCommand(run));
  program.addCommand(stateCommand(run));
  refuseUnknownCommands(program);
  program.hook("preAction", findTopLevel);
  program.exitOverride();
  return program;
}

/**
 * A local `--repo` (`.` by default) may be anywhere in a clone: as git does, the command reads
 * the clone whose work tree it is in, from its top level, where paths in gitward.yaml start.
 */
async function findTopLevel(_program: Command, action: Command): Promise<void> {
  const repo: unknown = action.getOptionValue("repo");
  if (typeof repo !== "string" || looksLikeUrl(repo)) return;
  action.setOptionValue("repo", await repositoryTopLevel(new ProcessRunner(), resolve(repo)));
}

/**
 * Makes an unknown command an error (`unknown command 'pr'`, exit 1) even when `--help` follows
 * it. By default commander answers `gitward pr comment --help` with the general help and exit
 * 0, as if `pr` existed: it reads `--help` before it looks at the command. With pass-through
 * options, what follows an unknown command stays an operand of it, so the command is looked at
 * first; options given before a command (`gitward --help`) still work.
 */
function refuseUnknownCommands(program: Command): void {
  program.enablePositionalOptions().passThroughOptions();
  for (const cmd of program.commands) if (cmd.commands.length > 0) cmd.passThroughOptions();
}
