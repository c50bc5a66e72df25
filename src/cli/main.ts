import { ExitCode } from "./exit-codes.ts";
import { startCompileCache } from "./compile-cache.ts";
import { reexecForLongRun } from "./long-run.ts";

export { startCompileCache } from "./compile-cache.ts";
export { reexecForLongRun } from "./long-run.ts";

/**
 * Runs the gitward CLI with the process's arguments and sets its exit code. The command line
 * and the commands are loaded here, not imported by this module, so that an entry point can
 * start the compile cache ({@link startCompileCache}) before they load.
 */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  quietOnClosedPipe();
  const { CommanderError } = await import("commander");
  const { buildProgram } = await import("./program.ts");
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

/**
 * `gitward --help | head`: when the reader of stdout (or stderr) has gone, what is left to write
 * is for nobody. Node reports the closed pipe as an unhandled EPIPE with a stack trace; gitward
 * stops quietly instead, with exit code 0, as `head` asked for no more.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(ExitCode.Ok);
      throw e;
    });
  }
}

if (import.meta.main) {
  reexecForLongRun();
  startCompileCache();
  await main();
}
