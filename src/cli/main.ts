import { CommanderError } from "commander";
import { buildProgram } from "./program.ts";
import { ExitCode } from "./exit-codes.ts";

/** Runs the gitward CLI with the process's arguments and sets its exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  let code: number = ExitCode.Ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (e: unknown) {
    // Commander has already printed usage errors, help and the version.
    code = e instanceof CommanderError ? (e.exitCode === 0 ? ExitCode.Ok : ExitCode.Error) : ExitCode.Error;
    if (!(e instanceof CommanderError)) process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  process.exitCode = code;
}

if (import.meta.main) await main();
