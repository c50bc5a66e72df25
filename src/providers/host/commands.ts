import { CommandStartError, type CommandRunner } from "../../core/command-runner.ts";
import type { CommandOutput } from "../provider.ts";

/** Bytes of a command's output kept in a sync record. */
export const outputCap = 8 * 1024;

/** A command a host target runs: the name gitward.yaml gave it, the runner's argument array for it, and its time limit. */
export interface HostCommand {
  readonly name: string;
  readonly argv: readonly string[];
  /** Milliseconds one run may take before it and everything it started are killed. */
  readonly timeoutMs: number;
}

/** A host target's commands, resolved: names from gitward.yaml, argument arrays from the runner. */
export interface HostCommands {
  readonly check?: HostCommand;
  readonly reload?: HostCommand;
  readonly health?: HealthCommand;
}

/** The health command (its `timeoutMs` is the limit of one try) and how long to keep trying it. */
export interface HealthCommand {
  readonly command: HostCommand;
  readonly attempts: number;
  readonly intervalMs: number;
}

/**
 * Runs one command: `{root}` and `{staged}` in its arguments are replaced, it runs in the root
 * with the runner's environment, and its output is captured, capped. A command that cannot
 * start, or is killed for its time limit, is a failed result (exit -1), not an exception.
 */
export async function runHostCommand(
  runner: CommandRunner,
  phase: CommandOutput["phase"],
  cmd: HostCommand,
  places: { readonly root: string; readonly staged?: string },
  opts: { readonly signal?: AbortSignal } = {},
): Promise<CommandOutput> {
  const command = cmd.argv.map((a) => a.replaceAll("{root}", places.root).replaceAll("{staged}", places.staged ?? places.root));
  const [program, ...args] = command;
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  if (program === undefined) return { phase, command, exitCode: -1, output: "empty command", durationMs: 0 };
  try {
    const r = await runner.run({
      command: program, args, cwd: places.root, timeoutMs: cmd.timeoutMs,
      maxStdoutBytes: 1024 * 1024, maxStderrBytes: outputCap,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    const text = [r.stdout.toString("utf8"), r.stderr].filter((t) => t !== "").join("\n");
    const note = r.timedOut ? `\n(killed after ${cmd.timeoutMs} ms, with every process it started)` : "";
    return { phase, command, exitCode: r.timedOut ? -1 : r.exitCode, output: cap(text) + note, durationMs: elapsed() };
  } catch (e: unknown) {
    if (e instanceof CommandStartError) return { phase, command, exitCode: -1, output: e.message, durationMs: elapsed() };
    throw e;
  }
}

/** Runs the health command until it succeeds or its attempts are spent; returns every try's output folded into one. */
export async function runHealth(
  runner: CommandRunner,
  health: HealthCommand,
  root: string,
  signal?: AbortSignal,
): Promise<CommandOutput> {
  let last: CommandOutput | undefined;
  const started = performance.now();
  for (let attempt = 1; attempt <= health.attempts; attempt++) {
    if (attempt > 1) await sleep(health.intervalMs, signal);
    last = await runHostCommand(runner, "health", health.command, { root }, signal === undefined ? {} : { signal });
    if (last.exitCode === 0) break;
  }
  if (last === undefined) throw new Error("health: no attempts");
  const tries = last.exitCode === 0 ? "" : ` (failed ${health.attempts} tr${health.attempts === 1 ? "y" : "ies"})`;
  return { ...last, output: `${last.output.trimEnd()}${tries}`, durationMs: Math.round(performance.now() - started) };
}

/** One line for messages: what ran, how it ended, and the start of its output. */
export function describeFailure(c: CommandOutput): string {
  const how = c.exitCode === -1 ? "could not run or timed out" : `exited ${c.exitCode}`;
  const out = c.output.trim();
  return `${c.phase} \`${c.command.join(" ")}\` ${how}${out === "" ? "" : `: ${out}`}`;
}

function cap(text: string): string {
  if (Buffer.byteLength(text) <= outputCap) return text;
  return `${Buffer.from(text).subarray(0, outputCap).toString("utf8")}\n… (output capped at ${outputCap} bytes)`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
