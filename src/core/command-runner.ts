import { spawn, type ChildProcess } from "node:child_process";

/** What to run: a program and its arguments, never a shell string. */
export interface CommandSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** Extra environment variables, merged over the process environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Bytes written to stdin, which is then closed. */
  readonly input?: Buffer | string;
  /** Milliseconds before the process is killed; default 60 000. */
  readonly timeoutMs?: number;
  /** Bytes kept of stdout; more is an error. Default 256 MiB. */
  readonly maxStdoutBytes?: number;
  /** Bytes kept of stderr; the rest is dropped. Default 64 KiB. */
  readonly maxStderrBytes?: number;
  readonly signal?: AbortSignal;
}

/** The outcome of a finished command. A non-zero exit is a result, not an exception. */
export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** True when the process was killed for exceeding its timeout. */
  readonly timedOut: boolean;
  /** True when stdout exceeded its cap and the process was killed. */
  readonly truncated: boolean;
}

/** The port through which gitward runs external programs (git, kustomize). */
export interface CommandRunner {
  run(spec: CommandSpec): Promise<CommandResult>;
}

/** The error thrown when a program cannot be started at all (e.g. not on PATH). */
export class CommandStartError extends Error {
  readonly command: string;
  readonly errno: string | undefined;
  constructor(command: string, cause: NodeJS.ErrnoException) {
    super(`cannot run ${command}: ${cause.code ?? cause.message}`, { cause });
    this.name = "CommandStartError";
    this.command = command;
    this.errno = cause.code;
  }
}

/** Runs commands as child processes with a timeout and output caps. */
export class ProcessRunner implements CommandRunner {
  run(spec: CommandSpec): Promise<CommandResult> {
    const timeoutMs = spec.timeoutMs ?? 60_000;
    const maxOut = spec.maxStdoutBytes ?? 256 * 1024 * 1024;
    const maxErr = spec.maxStderrBytes ?? 64 * 1024;
    return new Promise((resolve, reject) => {
      spec.signal?.throwIfAborted();
      let child: ChildProcess;
      try {
        // Its own process group, so a timeout kills what it started too (git's remote helpers
        // hold its output open; killing git alone left the run waiting for them).
        child = spawn(spec.command, [...spec.args], {
          cwd: spec.cwd,
          env: spec.env === undefined ? process.env : { ...process.env, ...spec.env },
          stdio: ["pipe", "pipe", "pipe"],
          detached: true,
        });
      } catch (e: unknown) {
        reject(new CommandStartError(spec.command, e as NodeJS.ErrnoException));
        return;
      }
      const { stdout, stderr, stdin } = child;
      const out: Buffer[] = [];
      let outLen = 0;
      let err = "";
      let timedOut = false;
      let truncated = false;
      let settled = false;
      const killGroup = (): void => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      };
      const onAbort = (): void => killGroup();
      const settle = (): void => {
        settled = true;
        clearTimeout(timer);
        spec.signal?.removeEventListener("abort", onAbort);
      };
      // A spawn that fails for lack of descriptors (EMFILE, ENFILE) or processes (EAGAIN) emits
      // 'error' on the next tick and leaves the child without pipes. The listener is attached
      // before anything can throw, and stays for a failed kill, so no 'error' is ever unhandled:
      // the failure is this run's rejection, never the end of the process.
      child.on("error", (e: NodeJS.ErrnoException) => {
        if (settled) return;
        settle();
        reject(new CommandStartError(spec.command, e));
      });
      spec.signal?.addEventListener("abort", onAbort, { once: true });
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, timeoutMs);
      // Node leaves the pipes null (or, after EMFILE, undefined) when the spawn failed: 'error' follows.
      if (!isStream(stdout) || !isStream(stderr) || !isStream(stdin)) return;
      const finish = (code: number | null, sig: NodeJS.Signals | null): void => {
        if (settled) return;
        settle();
        if (spec.signal?.aborted === true) {
          reject(spec.signal.reason instanceof Error ? spec.signal.reason : Object.assign(new Error("The operation was aborted"), { name: "AbortError" }));
          return;
        }
        resolve({ exitCode: code ?? (sig === null ? 1 : 128), stdout: Buffer.concat(out), stderr: err, timedOut, truncated });
      };
      stdout.on("data", (chunk: Buffer) => {
        outLen += chunk.length;
        if (outLen > maxOut) {
          truncated = true;
          killGroup();
          return;
        }
        out.push(chunk);
      });
      stderr.on("data", (chunk: Buffer) => {
        if (err.length < maxErr) err += chunk.toString("utf8").slice(0, maxErr - err.length);
      });
      child.on("close", finish);
      // A killed process whose output something else still holds open: do not wait for it.
      child.on("exit", (code, sig) => {
        if (!timedOut && !truncated && spec.signal?.aborted !== true) return;
        setTimeout(() => {
          stdout.destroy();
          stderr.destroy();
          finish(code, sig);
        }, 200).unref();
      });
      stdin.on("error", () => {
        // The child may exit before reading its input; its exit code tells what happened.
      });
      stdin.end(spec.input ?? "");
    });
  }
}

function isStream<T extends object>(s: T | null | undefined): s is T {
  return s !== null && s !== undefined;
}
