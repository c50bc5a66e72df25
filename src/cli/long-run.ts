/** The V8 setting that keeps a long-running agent's memory small (bench/RESULTS.md, "Agent"). */
export const agentHeapFlag = "--max-semi-space-size=2";

/**
 * The V8 setting for the commands that render a whole revision: V8 otherwise grows its young
 * generation to 2 x 64 MiB on a machine with a lot of memory, most of the peak memory of a large
 * render and none of its speed (bench/RESULTS.md, "Render memory").
 */
export const renderHeapFlag = "--max-semi-space-size=16";

/** The young-generation flag each command runs with; commands not listed keep Node's default. */
const heapFlags: Readonly<Record<string, string>> = {
  agent: agentHeapFlag,
  quickstart: agentHeapFlag,
  validate: renderHeapFlag,
  render: renderHeapFlag,
  plan: renderHeapFlag,
  diff: renderHeapFlag,
  apply: renderHeapFlag,
};

/** The heap flag `gitward COMMAND …` runs with, or undefined for Node's default. */
export function heapFlagFor(argv: readonly string[]): string | undefined {
  const command = argv[2];
  if (command === undefined || argv.includes("--help") || argv.includes("-h")) return undefined;
  return Object.hasOwn(heapFlags, command) ? heapFlags[command] : undefined;
}

/**
 * A V8 heap flag cannot be set once the process runs, so for the commands that want one (the
 * agent and quick start run for days; validate, render, plan, diff and apply render whole
 * revisions) the process replaces itself (execve: same pid, same signals, nothing left behind)
 * with the flag added: about 40 ms once per command. Skipped when the flag is already given (in
 * the command line or NODE_OPTIONS), when GITWARD_NO_REEXEC is set, or where Node has no
 * process.execve.
 */
export function reexecForLongRun(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): void {
  const flag = heapFlagFor(argv);
  if (flag === undefined) return;
  if (env["GITWARD_NO_REEXEC"] !== undefined) return;
  if ([...process.execArgv, env["NODE_OPTIONS"] ?? ""].some((a) => a.includes("--max-semi-space-size"))) return;
  if (typeof process.execve !== "function") return;
  process.execve(process.execPath, [process.execPath, flag, "--disable-warning=ExperimentalWarning", ...process.execArgv, ...argv.slice(1)], env);
}
